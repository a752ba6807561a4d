//! The outbox dispatcher: claims due rows, renders and sends them (email
//! over the mail transport, webhook events over HTTPS), and records the
//! outcome. Safe with several runners (rows are leased), and
//! at-least-once: a crash between send and record means a resend with the
//! same Message-ID, never a loss.

use crate::store::ClientId;
use crate::store::InvitationId;
use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use rand::Rng;

use super::Outbound;
use super::{SendError, templates, webhook};
use crate::i18n::Lang;
use crate::store::outbox::{self, Kind, OutboxRow, Payload};
use crate::store::{StoreError, clients, invitations, kv, webhooks};

/// Rows claimed per round: one read and a few group-committed writes each.
pub const BATCH: i64 = 200;
/// Sends in flight at once: one per pooled SMTP connection.
const CONCURRENCY: usize = super::SMTP_CONNECTIONS as usize;
/// How long outcomes are gathered into one write, at most …
const GATHER: StdDuration = StdDuration::from_millis(5);
/// … and how many.
const GROUP: usize = 64;
/// Transient failures are retried for about two days, then given up.
pub const MAX_ATTEMPTS: i32 = 12;

/// Counts of what one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl Round {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::Retrying => self.retrying += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Cancelled => self.cancelled += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.sent + self.retrying + self.failed + self.cancelled
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Sent,
    Retrying,
    Failed,
    Cancelled,
}

/// Exponential backoff with jitter: about 1, 2, 4 … minutes, at most 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let base = 60.0 * 2f64.powi(attempts.clamp(0, 12));
    let capped = base.min(6.0 * 3600.0);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::seconds((capped * jitter) as i64)
}

/// Sends everything due now; returns what happened.
///
/// Per batch of claimed rows: one read of what the messages need, sends
/// over `CONCURRENCY` connections, and outcomes recorded by group commit —
/// each write records every send that finished while the previous write
/// ran and in the next few milliseconds (`GATHER`, at most `GROUP`), so a
/// message is recorded within a few milliseconds of leaving (a crash in
/// between means a resend with the same Message-ID, never a loss). One
/// write per message cost more CPU than the send itself.
pub async fn dispatch_due(state: &Outbound) -> Result<Round, StoreError> {
    let mut round = Round::default();
    let now = state.now();
    crate::store::blocking(&state.pool, move |conn| outbox::release_outlived_leases(conn, now)).await?;
    loop {
        let now = state.now();
        let rows = crate::store::blocking(&state.pool, move |conn| outbox::claim_due(conn, now, BATCH)).await?;
        if rows.is_empty() {
            return Ok(round);
        }
        let claimed = rows.len();
        let needed: Vec<(Option<InvitationId>, String)> =
            rows.iter().map(|r| (r.invitation_id, r.kind.clone())).collect();
        let context = std::sync::Arc::new(
            crate::store::blocking(&state.pool, move |conn| BatchContext::load(conn, &needed)).await?,
        );
        let (done, mut finished) = tokio::sync::mpsc::channel::<Record>(claimed);
        let sending = {
            let state = state.clone();
            tokio::spawn(async move {
                futures_util::stream::iter(rows.into_iter().map(|row| {
                    let (state, context, done) = (state.clone(), context.clone(), done.clone());
                    async move {
                        if let Some(record) = deliver(&state, &context, row).await {
                            let _ = done.send(record).await;
                        }
                    }
                }))
                .buffer_unordered(CONCURRENCY)
                .collect::<()>()
                .await;
            })
        };
        let mut records = Vec::with_capacity(claimed);
        while finished.recv_many(&mut records, claimed).await > 0 {
            // Gather what finishes in the next few milliseconds into the
            // same write: a write per message would cost more than the send.
            let gather_until = tokio::time::Instant::now() + GATHER;
            while records.len() < GROUP {
                match tokio::time::timeout_at(gather_until, finished.recv_many(&mut records, claimed)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            let group = std::mem::take(&mut records);
            for record in &group {
                round.add(record.outcome());
            }
            let now = state.now();
            if let Err(e) = recorded(state, group, now).await {
                sending.abort();
                return Err(e);
            }
        }
        sending.await.map_err(|e| StoreError::TaskFailed(e.to_string()))?;
        if (claimed as i64) < BATCH {
            return Ok(round);
        }
    }
}

/// What to write for a message once its attempt is over.
#[derive(Debug, Clone)]
enum Record {
    Sent {
        id: i64,
        kind: Option<Kind>,
        invitation_id: Option<InvitationId>,
    },
    Retry {
        id: i64,
        reason: String,
        next: NaiveDateTime,
    },
    Failed {
        id: i64,
        reason: String,
    },
    Cancelled {
        id: i64,
        reason: &'static str,
    },
}

impl Record {
    fn outcome(&self) -> Outcome {
        match self {
            Record::Sent { .. } => Outcome::Sent,
            Record::Retry { .. } => Outcome::Retrying,
            Record::Failed { .. } => Outcome::Failed,
            Record::Cancelled { .. } => Outcome::Cancelled,
        }
    }
}

/// Writes a group of outcomes in one transaction, trying again for about
/// ten seconds while the database is briefly unavailable (a PostgreSQL
/// restart): a sent message that is not recorded would be sent again.
async fn recorded(state: &Outbound, group: Vec<Record>, now: NaiveDateTime) -> Result<(), StoreError> {
    let write = move |conn: &mut crate::store::DbConnection| {
        conn.write_transaction(|conn| {
            let (mut sent, mut invited, mut reminded) = (vec![], vec![], vec![]);
            for record in &group {
                match record {
                    Record::Sent {
                        id,
                        kind,
                        invitation_id,
                    } => {
                        sent.push(*id);
                        match (kind, invitation_id) {
                            (Some(Kind::Invitation), Some(inv)) => invited.push(*inv),
                            (Some(Kind::Reminder), Some(inv)) => reminded.push(*inv),
                            _ => {}
                        }
                    }
                    Record::Retry { id, reason, next } => outbox::mark_retry(conn, *id, reason, *next)?,
                    Record::Failed { id, reason } => outbox::mark_failed(conn, *id, reason)?,
                    Record::Cancelled { id, reason } => outbox::mark_cancelled(conn, *id, reason)?,
                }
            }
            outbox::mark_sent(conn, &sent, now)?;
            invitations::mark_sent(conn, &invited, now)?;
            invitations::mark_reminded(conn, &reminded, now)
        })
    };
    let mut wait = StdDuration::from_millis(100);
    for _ in 0..8 {
        match crate::store::blocking(&state.pool, write.clone()).await {
            Err(e) if e.is_temporary() => {
                tracing::warn!(error = %e, "could not record sent messages yet; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(StdDuration::from_secs(3));
            }
            other => return other,
        }
    }
    crate::store::blocking(&state.pool, write).await
}

/// What a batch's messages need from the database, read once: the
/// invitations and clients of survey emails, the webhook endpoints.
#[derive(Default)]
struct BatchContext {
    invitations: HashMap<InvitationId, invitations::Invitation>,
    clients: HashMap<ClientId, clients::Client>,
    endpoints: HashMap<i64, webhooks::Endpoint>,
    allow_private: bool,
}

impl BatchContext {
    fn load(
        conn: &mut crate::store::DbConnection,
        rows: &[(Option<InvitationId>, String)],
    ) -> Result<BatchContext, StoreError> {
        let invitation_ids: Vec<InvitationId> = rows.iter().filter_map(|(i, _)| *i).collect();
        let invitations: HashMap<InvitationId, invitations::Invitation> = if invitation_ids.is_empty() {
            HashMap::new()
        } else {
            invitations::find_many(conn, &invitation_ids)?
                .into_iter()
                .map(|i| (i.id, i))
                .collect()
        };
        let client_ids: Vec<ClientId> = invitations.values().map(|i| i.client_id).collect();
        let clients = if client_ids.is_empty() {
            HashMap::new()
        } else {
            clients::find_many(conn, &client_ids)?
                .into_iter()
                .map(|c| (c.id, c))
                .collect()
        };
        let webhook = rows.iter().any(|(_, kind)| kind == Kind::Webhook.as_str());
        let (endpoints, allow_private) = if webhook {
            (
                webhooks::list(conn)?.into_iter().map(|e| (e.id, e)).collect(),
                kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS)?,
            )
        } else {
            (HashMap::new(), false)
        };
        Ok(BatchContext {
            invitations,
            clients,
            endpoints,
            allow_private,
        })
    }
}

/// What to send for a row, or why not.
enum Prepared {
    Send { to: String, rendered: templates::Rendered },
    Post(webhook::Delivery),
    Cancel(&'static str),
    Fail(String),
}

/// One attempt at one message; what to record about it (nothing when the
/// row's lease ran out while earlier messages of the batch were slow:
/// another runner may have it by now).
async fn deliver(state: &Outbound, context: &BatchContext, row: OutboxRow) -> Option<Record> {
    let lease_left = row.lease_until.map(|until| until - state.now());
    if lease_left.is_some_and(|left| left < Duration::seconds(state.settings.smtp_timeout_seconds as i64 + 5)) {
        tracing::info!(
            outbox_id = row.id,
            "lease nearly over; leaving the message to the next pass"
        );
        return None;
    }
    Some(attempt(state, context, row).await)
}

async fn attempt(state: &Outbound, context: &BatchContext, row: OutboxRow) -> Record {
    let id = row.id;
    let result = match prepare(state, context, &row) {
        Prepared::Send { to, rendered } => {
            let built = templates::compose(
                &state.settings.mail_from,
                &to,
                &row.message_id,
                &rendered,
                state.dkim.as_deref(),
            );
            let (envelope, message) = match built {
                Ok(built) => built,
                Err(reason) => return Record::Failed { id, reason },
            };
            let limit = StdDuration::from_secs(state.settings.smtp_timeout_seconds);
            state.mailer.send(&envelope, &message, limit).await
        }
        Prepared::Post(delivery) => webhook::post(&delivery, state.now().and_utc().timestamp()).await,
        Prepared::Cancel(reason) => return Record::Cancelled { id, reason },
        Prepared::Fail(reason) => {
            tracing::warn!(outbox_id = id, "message cannot be sent: {}", for_log(&reason));
            return Record::Failed { id, reason };
        }
    };
    let attempts = row.attempts;
    match result {
        Ok(()) => {
            tracing::info!(outbox_id = id, kind = %row.kind, "sent");
            Record::Sent {
                id,
                kind: Kind::parse(&row.kind),
                invitation_id: row.invitation_id,
            }
        }
        Err(SendError::Permanent(reason)) => {
            tracing::warn!(outbox_id = id, kind = %row.kind, "refused by the receiving server: {}", for_log(&reason));
            Record::Failed { id, reason }
        }
        Err(SendError::Transient(reason)) if attempts + 1 >= MAX_ATTEMPTS => {
            let reason = format!("gave up after {} attempts; last error: {reason}", attempts + 1);
            tracing::warn!(outbox_id = id, kind = %row.kind, "{}", for_log(&reason));
            Record::Failed { id, reason }
        }
        Err(SendError::Transient(reason)) => {
            tracing::info!(outbox_id = id, kind = %row.kind, attempt = attempts + 1, "will retry: {}", for_log(&reason));
            Record::Retry {
                id,
                reason,
                next: state.now() + backoff(attempts),
            }
        }
    }
}

fn prepare(state: &Outbound, context: &BatchContext, row: &OutboxRow) -> Prepared {
    let payload: Payload = match state
        .sealer
        .open(&row.payload)
        .ok()
        .and_then(|p| serde_json::from_str(&p).ok())
    {
        Some(p) => p,
        None => return Prepared::Fail("the queued message could not be read (was the secret key changed?)".into()),
    };
    let clinic = &state.settings.clinic_name;
    match payload {
        Payload::Survey {
            survey_token,
            unsubscribe_token,
            ..
        } => {
            let Some(invitation) = row.invitation_id.and_then(|i| context.invitations.get(&i)) else {
                return Prepared::Fail("a survey email without its invitation".into());
            };
            let Some(client) = context.clients.get(&invitation.client_id) else {
                return Prepared::Fail("a survey email without its client".into());
            };
            if !invitation.status.is_open() {
                return Prepared::Cancel("the invitation is no longer open");
            }
            // The current address: an admin may have corrected it since.
            let to = match client.questionnaire_address() {
                Ok(to) => to.to_string(),
                Err(why) => return Prepared::Cancel(why.reason()),
            };
            let tz = client
                .time_zone
                .as_deref()
                .and_then(|z| z.parse().ok())
                .unwrap_or(state.settings.time_zone);
            let lang = Lang::for_client(
                Some(&client.language),
                &state.settings.default_language,
                state.settings.client_numerals,
            );
            let open_until = local_deadline(invitation.expires_at, tz, &lang);
            let rendered = templates::survey(
                &lang,
                clinic,
                &state.settings.link(&format!("/s/{survey_token}")),
                &state.settings.link(&format!("/u/{unsubscribe_token}")),
                &open_until,
                row.kind == Kind::Reminder.as_str(),
            );
            Prepared::Send { to, rendered }
        }
        Payload::AlertNotice {
            alerts,
            new_high,
            new_other,
        } => Prepared::Send {
            to: row.recipient.clone(),
            rendered: templates::alert_notice(
                clinic,
                &state.settings.link("/sign-in"),
                templates::Notice::Immediate {
                    alerts,
                    new_high,
                    new_other,
                },
            ),
        },
        Payload::AlertDigest { alerts, comments } => Prepared::Send {
            to: row.recipient.clone(),
            rendered: templates::alert_notice(
                clinic,
                &state.settings.link("/sign-in"),
                templates::Notice::DailySummary { alerts, comments },
            ),
        },
        Payload::Webhook {
            endpoint_id,
            event,
            body,
        } => {
            let Some(endpoint) = context.endpoints.get(&endpoint_id) else {
                return Prepared::Cancel("the webhook endpoint was removed");
            };
            if !endpoint.active {
                return Prepared::Cancel("the webhook endpoint is disabled");
            }
            let Ok(secret) = endpoint.secret(&state.sealer) else {
                return Prepared::Fail(
                    "the endpoint's signing secret could not be read (was the secret key changed?)".into(),
                );
            };
            let delivery_id = row.message_id.trim_matches(['<', '>']).to_string();
            Prepared::Post(webhook::Delivery {
                url: endpoint.url.clone(),
                secret,
                event,
                delivery_id,
                body,
                allow_private: context.allow_private,
            })
        }
    }
}

/// When the link closes, in the client's time zone and language (digits
/// as the clinic chose).
fn local_deadline(at: NaiveDateTime, tz: chrono_tz::Tz, lang: &Lang) -> String {
    let local = at.and_utc().with_timezone(&tz);
    // The language's own pattern ("5 de diciembre", "5 ديسمبر، 11:39").
    let pattern = lang.t("email-date-pattern");
    lang.digits(&local.format_localized(&pattern, lang.date_locale()).to_string())
}

/// A server's reason for the log, with any email address in it hidden (the
/// log must hold no client data; the admin page shows the full reason).
fn for_log(reason: &str) -> String {
    reason
        .split(' ')
        .map(|word| if word.contains('@') { "<address>" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_date_reads_in_the_clients_language() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(11, 39, 0)
            .unwrap();
        let when = |tag: &str, numerals| local_deadline(at, chrono_tz::UTC, &Lang::new(tag, numerals));
        let western = crate::i18n::Numerals::Western;
        assert_eq!(when("en", western), "Saturday 5 December, 11:39");
        assert_eq!(when("es", western), "sábado 5 de diciembre, 11:39");
        assert_eq!(when("pl", western), "sobota, 5 grudnia, 11:39");
        assert_eq!(when("ar", western), "السبت 5 ديسمبر، 11:39");
        assert_eq!(when("ar", crate::i18n::Numerals::Native), "السبت ٥ ديسمبر، ١١:٣٩");
    }

    #[test]
    fn logged_reasons_hide_addresses() {
        assert_eq!(
            for_log("550 5.1.1 <ann@example.org>: Recipient address rejected"),
            "550 5.1.1 <address> Recipient address rejected"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(0).num_seconds();
        assert!((45..=75).contains(&first), "{first}");
        assert!(backoff(3).num_seconds() > backoff(1).num_seconds());
        assert!(backoff(30).num_seconds() <= (6.0 * 3600.0 * 1.25) as i64);
    }
}
