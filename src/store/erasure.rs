//! Erasure of a client's identifying data (on request, or when the
//! retention period has passed), keeping their anonymous scores so the
//! clinic's figures stay whole.
//!
//! Removed: name (becomes "Erased client #ID"), email, time zone, the
//! practice system's ids (client and appointments), free text (comments,
//! other text answers, pause reasons, clinicians' repair notes), every link
//! token, and queued email (cancelled, its copy of the address blanked).
//! Kept: ids, dates, scores, numeric answers, alerts and their signals, the
//! repair log's steps and outcomes, and the audit log.

use crate::store::ClientId;
use crate::store::InvitationId;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::clients::{self, Client};
use super::schema::responses as responses_table;
use super::schema::{alert_events, alerts, appointments, clients as clients_table, invitations, link_tokens, outbox};
use super::{DbConnection, StoreError, invitations as invitation_store};
use crate::domain::instrument::{Answer, Answers};

/// The name an erased client is shown under.
pub fn erased_name(client_id: ClientId) -> String {
    format!("Erased client #{client_id}")
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    pub client_id: ClientId,
    pub was_already_erased: bool,
    pub invitations_cancelled: usize,
    pub emails_cancelled: usize,
    pub link_tokens_removed: usize,
    pub comments_removed: usize,
    pub notes_removed: usize,
    pub responses_kept: usize,
}

/// Erases one client's identifying data. Running it again on an erased
/// client scrubs anything added since and changes nothing else. Unknown
/// id: [`StoreError::NotFound`]. Call inside a write transaction: use
/// `actions::clients::erase`, which also writes the audit entry.
pub(crate) fn erase_client(
    conn: &mut DbConnection,
    client_id: ClientId,
    now: NaiveDateTime,
) -> Result<Erasure, StoreError> {
    {
        let client = clients::find(conn, client_id)?;
        let mut report = Erasure {
            client_id,
            was_already_erased: client.erased_at.is_some(),
            ..Default::default()
        };
        let invitation_ids: Vec<InvitationId> = invitations::table
            .filter(invitations::client_id.eq(client_id))
            .select(invitations::id)
            .load(conn)?;
        // Queued and failed email still holds sealed links and the address.
        report.emails_cancelled = diesel::update(
            outbox::table
                .filter(outbox::invitation_id.eq_any(&invitation_ids))
                .filter(outbox::status.eq("pending").or(outbox::status.eq("failed"))),
        )
        .set((
            outbox::status.eq("cancelled"),
            outbox::payload.eq(""),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq("the client's data was erased"),
        ))
        .execute(conn)?;
        report.invitations_cancelled =
            invitation_store::cancel_open_for_client(conn, client_id, "the client's data was erased")?;
        diesel::update(outbox::table.filter(outbox::invitation_id.eq_any(&invitation_ids)))
            .set((outbox::recipient.eq("(erased)"), outbox::payload.eq("")))
            .execute(conn)?;
        report.link_tokens_removed =
            diesel::delete(link_tokens::table.filter(link_tokens::invitation_id.eq_any(&invitation_ids)))
                .execute(conn)?;
        let (comments, kept) = scrub_responses(conn, client_id)?;
        report.comments_removed = comments;
        report.responses_kept = kept;
        let alert_ids: Vec<i64> = alerts::table
            .filter(alerts::client_id.eq(client_id))
            .select(alerts::id)
            .load(conn)?;
        // The repair log is otherwise never changed; a note written about the
        // client is their data, so erasure is the one exception.
        report.notes_removed = diesel::update(
            alert_events::table
                .filter(alert_events::alert_id.eq_any(&alert_ids))
                .filter(alert_events::note.is_not_null()),
        )
        .set(alert_events::note.eq(None::<String>))
        .execute(conn)?;
        let appointment_ids: Vec<i64> = appointments::table
            .filter(appointments::client_id.eq(client_id))
            .select(appointments::id)
            .load(conn)?;
        for id in appointment_ids {
            diesel::update(appointments::table.find(id))
                .set((
                    appointments::source.eq("erased"),
                    appointments::external_id.eq(format!("erased-{id}")),
                ))
                .execute(conn)?;
        }
        diesel::update(clients_table::table.find(client_id))
            .set((
                clients_table::name.eq(erased_name(client_id)),
                clients_table::email.eq(None::<String>),
                clients_table::time_zone.eq(None::<String>),
                clients_table::source.eq(None::<String>),
                clients_table::external_id.eq(None::<String>),
                clients_table::pause_reason.eq(None::<String>),
                clients_table::opted_out.eq(true),
                clients_table::opted_out_at.eq(client.opted_out_at.unwrap_or(now)),
                clients_table::erased_at.eq(client.erased_at.unwrap_or(now)),
                clients_table::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(report)
    }
}

/// Drops free text from a client's responses; returns (texts removed, responses).
fn scrub_responses(conn: &mut DbConnection, client_id: ClientId) -> Result<(usize, usize), StoreError> {
    let rows: Vec<(i64, String, Option<String>)> = responses_table::table
        .filter(responses_table::client_id.eq(client_id))
        .select((responses_table::id, responses_table::answers, responses_table::comment))
        .load(conn)?;
    let mut removed = 0;
    for (id, answers, comment) in &rows {
        let mut parsed: Answers = serde_json::from_str(answers).unwrap_or_default();
        let before = parsed.0.len();
        parsed.0.retain(|_, a| !matches!(a, Answer::Text(_)));
        let texts = before - parsed.0.len();
        if texts == 0 && comment.is_none() {
            continue;
        }
        removed += texts + usize::from(comment.is_some());
        diesel::update(responses_table::table.find(*id))
            .set((
                responses_table::answers.eq(serde_json::to_string(&parsed).unwrap_or_default()),
                responses_table::comment.eq(None::<String>),
            ))
            .execute(conn)?;
    }
    Ok((removed, rows.len()))
}

/// A client whose data the retention period has run out for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionDue {
    pub client_id: ClientId,
    /// The end of their last appointment (None: they never had one).
    pub last_appointment: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub responses: i64,
}

/// Clients not yet erased whose last appointment ended, and whose record
/// was created, more than `days` ago (a record imported with old history is
/// still kept for the full period). Changes nothing.
/// Where an admin's retention setting is kept (`off` or days); it wins over
/// `RAPPORT_RETENTION_DAYS`.
pub const RETENTION_KEY: &str = "privacy.retention_days";

/// The retention period in force: the admin's setting if any, otherwise
/// the server's (`RAPPORT_RETENTION_DAYS`). None: kept until erased by hand.
pub fn retention_days(conn: &mut DbConnection, server_default: Option<i64>) -> Result<Option<i64>, StoreError> {
    Ok(match super::kv::get(conn, RETENTION_KEY)? {
        Some(v) => crate::config::parse_retention_days(&v).unwrap_or(server_default),
        None => server_default,
    })
}

pub fn retention_due(conn: &mut DbConnection, days: i64, now: NaiveDateTime) -> Result<Vec<RetentionDue>, StoreError> {
    let cutoff = now - Duration::days(days);
    let candidates: Vec<Client> = clients_table::table
        .filter(clients_table::erased_at.is_null())
        .filter(clients_table::created_at.lt(cutoff))
        .order(clients_table::id)
        .select(Client::as_select())
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let last: Vec<(ClientId, Option<NaiveDateTime>)> = appointments::table
        .group_by(appointments::client_id)
        .select((appointments::client_id, diesel::dsl::max(appointments::ends_at)))
        .load(conn)?;
    let last: std::collections::HashMap<ClientId, Option<NaiveDateTime>> = last.into_iter().collect();
    let counts: Vec<(ClientId, i64)> = responses_table::table
        .group_by(responses_table::client_id)
        .select((responses_table::client_id, diesel::dsl::count_star()))
        .load(conn)?;
    let counts: std::collections::HashMap<ClientId, i64> = counts.into_iter().collect();
    Ok(candidates
        .into_iter()
        .filter_map(|c| {
            let last_appointment = last.get(&c.id).copied().flatten();
            let last_activity = last_appointment.map_or(c.created_at, |t| t.max(c.created_at));
            (last_activity < cutoff).then(|| RetentionDue {
                client_id: c.id,
                last_appointment,
                created_at: c.created_at,
                responses: counts.get(&c.id).copied().unwrap_or(0),
            })
        })
        .collect())
}
