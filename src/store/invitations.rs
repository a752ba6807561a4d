//! Invitations: one per attended appointment, each with its emails queued
//! in the same transaction, and the hashed tokens of the links they carry.

use crate::store::InvitationId;
use crate::store::{AppointmentId, ClientId};
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::appointments::{Appointment, AppointmentStatus};
use super::clients::{Client, NotEmailed};
use super::outbox::{self, Kind, NewMessage, Payload};
use super::schema::{clients, invitations, link_tokens};
use super::{DbConnection, StoreError, kv};
use crate::config::{Settings, parse_quiet_hours, quiet_hours_setting};
use crate::domain::schedule::{self, DeliveryRules};
use crate::security::{self, Sealer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Scheduled,
    Sent,
    Answered,
    Expired,
    Cancelled,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Scheduled => "scheduled",
            InvitationStatus::Sent => "sent",
            InvitationStatus::Answered => "answered",
            InvitationStatus::Expired => "expired",
            InvitationStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<InvitationStatus> {
        match s {
            "scheduled" => Some(InvitationStatus::Scheduled),
            "sent" => Some(InvitationStatus::Sent),
            "answered" => Some(InvitationStatus::Answered),
            "expired" => Some(InvitationStatus::Expired),
            "cancelled" => Some(InvitationStatus::Cancelled),
            _ => None,
        }
    }

    /// Still waiting for an answer.
    pub fn is_open(self) -> bool {
        matches!(self, InvitationStatus::Scheduled | InvitationStatus::Sent)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub appointment_id: AppointmentId,
    pub client_id: ClientId,
    pub instrument_id: i64,
    #[diesel(deserialize_as = String)]
    pub status: InvitationStatus,
    pub send_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub reminder_at: NaiveDateTime,
    pub reminded_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The delivery settings an admin may change in the app; stored values
/// override the configured ones.
pub const DELIVERY_KEYS: [&str; 4] = [
    "invite_delay_minutes",
    "quiet_hours",
    "reminder_after_hours",
    "expiry_days",
];

pub fn delivery_rules(conn: &mut DbConnection, settings: &Settings) -> Result<DeliveryRules, StoreError> {
    let stored = |conn: &mut DbConnection, key: &str| kv::get(conn, &format!("delivery.{key}"));
    let minutes = stored(conn, "invite_delay_minutes")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(settings.invite_delay_minutes);
    let quiet = match stored(conn, "quiet_hours")? {
        Some(v) => parse_quiet_hours(&v).unwrap_or(settings.quiet_hours),
        None => settings.quiet_hours,
    };
    let reminder = stored(conn, "reminder_after_hours")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(settings.reminder_after_hours);
    let expiry = stored(conn, "expiry_days")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(settings.expiry_days);
    Ok(DeliveryRules {
        delay: Duration::minutes(minutes),
        quiet_hours: quiet,
        reminder_after: Duration::hours(reminder),
        expires_after: Duration::days(expiry),
    })
}

/// Stores delivery rules chosen by an admin.
pub fn save_delivery_rules(
    conn: &mut DbConnection,
    rules: &DeliveryRules,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    kv::set(
        conn,
        "delivery.invite_delay_minutes",
        &rules.delay.num_minutes().to_string(),
        now,
    )?;
    kv::set(
        conn,
        "delivery.quiet_hours",
        &quiet_hours_setting(rules.quiet_hours),
        now,
    )?;
    kv::set(
        conn,
        "delivery.reminder_after_hours",
        &rules.reminder_after.num_hours().to_string(),
        now,
    )?;
    kv::set(
        conn,
        "delivery.expiry_days",
        &rules.expires_after.num_days().to_string(),
        now,
    )?;
    Ok(())
}

/// What is needed to queue emails.
pub struct Mailing<'a> {
    pub sealer: &'a Sealer,
    pub message_domain: &'a str,
    pub clinic_tz: Tz,
    /// A new client's language when none is given (RAPPORT_DEFAULT_LANGUAGE).
    pub default_language: &'a str,
}

/// Why no invitation was made for an attended appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotInvited {
    AlreadyInvited,
    OptedOut,
    Paused,
    NoEmail,
    TooLate,
    NoInstrument,
}

fn client_tz(client: &Client, clinic_tz: Tz) -> Tz {
    client
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(clinic_tz)
}

/// Creates the invitation for an attended appointment, with its two
/// emails (the link, and a reminder) queued in the same transaction.
/// Call inside a write transaction.
pub fn invite_after(
    conn: &mut DbConnection,
    appointment: &Appointment,
    client: &Client,
    rules: &DeliveryRules,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Result<Invitation, NotInvited>, StoreError> {
    if for_appointment(conn, appointment.id)?.is_some() {
        return Ok(Err(NotInvited::AlreadyInvited));
    }
    let email = match client.questionnaire_address() {
        Ok(email) => email,
        Err(NotEmailed::OptedOut) => return Ok(Err(NotInvited::OptedOut)),
        Err(NotEmailed::Paused) => return Ok(Err(NotInvited::Paused)),
        Err(NotEmailed::NoEmail) => return Ok(Err(NotInvited::NoEmail)),
    };
    if schedule::too_late_to_ask(appointment.ends_at, now, rules) {
        return Ok(Err(NotInvited::TooLate));
    }
    let Some(instrument_id) = super::instruments::default_id(conn)? else {
        return Ok(Err(NotInvited::NoInstrument));
    };
    let times = schedule::invitation_times(appointment.ends_at, now, rules, client_tz(client, mailing.clinic_tz));
    let id: InvitationId = diesel::insert_into(invitations::table)
        .values((
            invitations::appointment_id.eq(appointment.id),
            invitations::client_id.eq(client.id),
            invitations::instrument_id.eq(instrument_id),
            invitations::status.eq(InvitationStatus::Scheduled.as_str()),
            invitations::send_at.eq(times.send_at),
            invitations::reminder_at.eq(times.reminder_at),
            invitations::expires_at.eq(times.expires_at),
            invitations::created_at.eq(now),
        ))
        .returning(invitations::id)
        .get_result(conn)?;
    queue_emails(conn, id, client, email, &times, mailing, now)?;
    Ok(Ok(find(conn, id)?))
}

/// Queues the invitation's email and its reminder, each with new links.
fn queue_emails(
    conn: &mut DbConnection,
    id: InvitationId,
    client: &Client,
    email: &str,
    times: &schedule::InvitationTimes,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    for (kind, at) in [(Kind::Invitation, times.send_at), (Kind::Reminder, times.reminder_at)] {
        if kind == Kind::Reminder && at >= times.expires_at {
            continue;
        }
        let payload = Payload::Survey {
            survey_token: new_link(conn, id, "survey", now)?,
            unsubscribe_token: new_link(conn, id, "unsubscribe", now)?,
            language: client.language.clone(),
        };
        outbox::enqueue(
            conn,
            &NewMessage {
                kind,
                recipient: email,
                invitation_id: Some(id),
                staff_id: None,
                payload: &payload,
                send_at: at,
            },
            mailing.sealer,
            mailing.message_domain,
            now,
        )?;
    }
    Ok(())
}

/// The appointment now belongs to another client (the practice system
/// corrected who attended): an open questionnaire goes with it. Its links
/// stop working, its queued emails are cancelled, and the new client is
/// sent new links at the original times (or now, if those passed). An
/// answered, expired or cancelled questionnaire stays where it was.
fn move_to_client(
    conn: &mut DbConnection,
    invitation: &Invitation,
    client: &Client,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if !invitation.status.is_open() {
        return Ok(());
    }
    diesel::delete(link_tokens::table.filter(link_tokens::invitation_id.eq(invitation.id))).execute(conn)?;
    outbox::cancel_for_invitation(conn, invitation.id, "the appointment moved to another client")?;
    diesel::update(invitations::table.find(invitation.id))
        .set((
            invitations::client_id.eq(client.id),
            invitations::status.eq(InvitationStatus::Scheduled.as_str()),
            invitations::sent_at.eq(None::<NaiveDateTime>),
            invitations::reminded_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    let moved = find(conn, invitation.id)?;
    match client.questionnaire_address() {
        Ok(email) => {
            let times = schedule::InvitationTimes {
                send_at: invitation.send_at.max(now),
                reminder_at: invitation.reminder_at.max(now),
                expires_at: invitation.expires_at,
            };
            queue_emails(conn, moved.id, client, email, &times, mailing, now)
        }
        Err(_) => cancel(
            conn,
            &moved,
            "the appointment moved to a client who is not sent questionnaires",
        )
        .map(|_| ()),
    }
}

/// A new random token for a link; only its hash is stored.
fn new_link(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    let token = security::new_token();
    diesel::insert_into(link_tokens::table)
        .values((
            link_tokens::token_hash.eq(security::token_hash(&token)),
            link_tokens::purpose.eq(purpose),
            link_tokens::invitation_id.eq(invitation_id),
            link_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The stored hash of a link's token; none for text that cannot be a
/// token, which is refused without touching the index.
fn link_hash(token: &str) -> Option<String> {
    (!token.is_empty() && token.len() <= 100).then(|| security::token_hash(token))
}

/// The invitation a link's token belongs to, for the given purpose, with
/// its client, in one read.
pub fn find_by_token(
    conn: &mut DbConnection,
    token: &str,
    purpose: &str,
) -> Result<Option<(Invitation, Client)>, StoreError> {
    let Some(hash) = link_hash(token) else {
        return Ok(None);
    };
    Ok(super::connection::on_backend!(conn, |c| link_tokens::table
        .inner_join(invitations::table.inner_join(clients::table))
        .filter(link_tokens::token_hash.eq(&hash))
        .filter(link_tokens::purpose.eq(purpose))
        .select((Invitation::as_select(), Client::as_select()))
        .first(c)
        .optional())?)
}

/// What a survey link's page needs, in one statement: the invitation with
/// its client, the questionnaire's stored version and the clinic's help
/// line (none until the clinic sets one).
pub struct SurveyRow {
    pub invitation: Invitation,
    pub client: Client,
    pub instrument: super::instruments::InstrumentRow,
    pub help_line: Option<String>,
}

/// The survey link with `token`, read in one statement (see [`SurveyRow`]).
pub fn find_survey(conn: &mut DbConnection, token: &str) -> Result<Option<SurveyRow>, StoreError> {
    use super::instruments::InstrumentRow;
    use super::schema::{instruments, settings};
    let Some(hash) = link_hash(token) else {
        return Ok(None);
    };
    let found = super::connection::on_backend!(conn, |c| link_tokens::table
        .inner_join(
            invitations::table
                .inner_join(clients::table)
                .inner_join(instruments::table)
        )
        .filter(link_tokens::token_hash.eq(&hash))
        .filter(link_tokens::purpose.eq("survey"))
        .select((
            Invitation::as_select(),
            Client::as_select(),
            InstrumentRow::as_select(),
            settings::table
                .find(kv::HELP_LINE)
                .select(settings::value)
                .single_value(),
        ))
        .first(c)
        .optional())?;
    Ok(found.map(|(invitation, client, instrument, help_line)| SurveyRow {
        invitation,
        client,
        instrument,
        help_line,
    }))
}

pub fn find(conn: &mut DbConnection, id: InvitationId) -> Result<Invitation, StoreError> {
    invitations::table
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// Several invitations at once (the dispatcher's batch), by id.
pub fn find_many(conn: &mut DbConnection, ids: &[InvitationId]) -> Result<Vec<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::id.eq_any(ids))
        .select(Invitation::as_select())
        .load(conn)?)
}

pub fn for_appointment(
    conn: &mut DbConnection,
    appointment_id: AppointmentId,
) -> Result<Option<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::appointment_id.eq(appointment_id))
        .select(Invitation::as_select())
        .first(conn)
        .optional()?)
}

pub fn for_client(conn: &mut DbConnection, client_id: ClientId) -> Result<Vec<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::client_id.eq(client_id))
        .order((invitations::send_at, invitations::id))
        .select(Invitation::as_select())
        .load(conn)?)
}

/// Cancels an unanswered invitation and its queued emails (the session
/// was cancelled or missed after all, or the client opted out).
pub fn cancel(conn: &mut DbConnection, invitation: &Invitation, reason: &str) -> Result<bool, StoreError> {
    if !invitation.status.is_open() {
        return Ok(false);
    }
    diesel::update(invitations::table.find(invitation.id))
        .set(invitations::status.eq(InvitationStatus::Cancelled.as_str()))
        .execute(conn)?;
    outbox::cancel_for_invitation(conn, invitation.id, reason)?;
    Ok(true)
}

/// Keeps the invitation in step with the appointment's status.
pub fn follow_appointment(
    conn: &mut DbConnection,
    appointment: &Appointment,
    client: &Client,
    rules: &DeliveryRules,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<Option<Invitation>, StoreError> {
    if let Some(invitation) = for_appointment(conn, appointment.id)?
        && invitation.client_id != appointment.client_id
    {
        move_to_client(conn, &invitation, client, mailing, now)?;
    }
    match appointment.status {
        AppointmentStatus::Attended => Ok(invite_after(conn, appointment, client, rules, mailing, now)?.ok()),
        AppointmentStatus::Cancelled | AppointmentStatus::NoShow | AppointmentStatus::Booked => {
            if let Some(invitation) = for_appointment(conn, appointment.id)? {
                cancel(
                    conn,
                    &invitation,
                    &format!("appointment now {}", appointment.status.as_str()),
                )?;
            }
            Ok(None)
        }
    }
}

/// Cancels every open invitation of a client (opt-out, pause, erasure).
pub fn cancel_open_for_client(conn: &mut DbConnection, client_id: ClientId, reason: &str) -> Result<usize, StoreError> {
    let open: Vec<Invitation> = invitations::table
        .filter(invitations::client_id.eq(client_id))
        .filter(
            invitations::status
                .eq(InvitationStatus::Scheduled.as_str())
                .or(invitations::status.eq(InvitationStatus::Sent.as_str())),
        )
        .select(Invitation::as_select())
        .load(conn)?;
    for invitation in &open {
        cancel(conn, invitation, reason)?;
    }
    Ok(open.len())
}

/// The invitation's first email went out.
/// Invitations whose email left, in one statement (those already
/// answered or cancelled keep their status).
pub fn mark_sent(conn: &mut DbConnection, ids: &[InvitationId], now: NaiveDateTime) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(ids))
            .filter(invitations::status.eq(InvitationStatus::Scheduled.as_str())),
    )
    .set((
        invitations::status.eq(InvitationStatus::Sent.as_str()),
        invitations::sent_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn mark_reminded(conn: &mut DbConnection, ids: &[InvitationId], now: NaiveDateTime) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(invitations::table.filter(invitations::id.eq_any(ids)))
        .set(invitations::reminded_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Closes the invitation as answered, only if it is still open. Returns
/// false when it was not (a second submission, or too late).
pub fn mark_answered(conn: &mut DbConnection, id: InvitationId, now: NaiveDateTime) -> Result<bool, StoreError> {
    let updated = diesel::update(
        invitations::table
            .find(id)
            .filter(
                invitations::status
                    .eq(InvitationStatus::Scheduled.as_str())
                    .or(invitations::status.eq(InvitationStatus::Sent.as_str())),
            )
            .filter(invitations::expires_at.gt(now)),
    )
    .set((
        invitations::status.eq(InvitationStatus::Answered.as_str()),
        invitations::answered_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 1 {
        outbox::cancel_for_invitation(conn, id, "answered")?;
    }
    Ok(updated == 1)
}

/// Marks open invitations past their expiry as expired; returns them so the
/// engine can weigh the non-response.
pub fn expire_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Invitation>, StoreError> {
    conn.write_transaction(|conn| {
        let due: Vec<Invitation> = invitations::table
            .filter(
                invitations::status
                    .eq(InvitationStatus::Scheduled.as_str())
                    .or(invitations::status.eq(InvitationStatus::Sent.as_str())),
            )
            .filter(invitations::expires_at.le(now))
            .select(Invitation::as_select())
            .load(conn)?;
        for invitation in &due {
            diesel::update(invitations::table.find(invitation.id))
                .set(invitations::status.eq(InvitationStatus::Expired.as_str()))
                .execute(conn)?;
            outbox::cancel_for_invitation(conn, invitation.id, "expired")?;
        }
        Ok(due)
    })
}

/// Records an invitation that was already settled before it reached the
/// database (the demo clinic's history): no emails and no links.
pub fn insert_settled(
    conn: &mut DbConnection,
    appointment: &Appointment,
    instrument_id: i64,
    sent_at: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
    expires_at: NaiveDateTime,
) -> Result<Invitation, StoreError> {
    let status = if answered_at.is_some() {
        InvitationStatus::Answered
    } else {
        InvitationStatus::Expired
    };
    let id: InvitationId = diesel::insert_into(invitations::table)
        .values((
            invitations::appointment_id.eq(appointment.id),
            invitations::client_id.eq(appointment.client_id),
            invitations::instrument_id.eq(instrument_id),
            invitations::status.eq(status.as_str()),
            invitations::send_at.eq(sent_at),
            invitations::sent_at.eq(Some(sent_at)),
            invitations::reminder_at.eq(sent_at),
            invitations::expires_at.eq(expires_at),
            invitations::answered_at.eq(answered_at),
            invitations::created_at.eq(sent_at),
        ))
        .returning(invitations::id)
        .get_result(conn)?;
    find(conn, id)
}
