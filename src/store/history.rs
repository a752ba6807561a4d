//! A client's history as the engine reads it, built from appointments,
//! invitations and responses — with what each session number stands for,
//! so pages can show dates next to the engine's findings.

use crate::store::InvitationId;
use crate::store::{AppointmentId, ClientId};
use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::appointments::{Appointment, AppointmentStatus};
use super::instruments;
use super::invitations::{Invitation, InvitationStatus};
use super::responses::Response;
use super::schema::{appointments, invitations, responses};
use super::{DbConnection, StoreError, kv};
use crate::domain::history::{ClientHistory, SessionOutcome, SessionRecord};
use crate::domain::instrument::{Answer, InstrumentDefinition, ItemRole, Scores};
use crate::domain::signals::EngineSettings;

/// What one session number of the engine's history stands for.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session: u32,
    pub appointment: Appointment,
    pub invitation: Option<Invitation>,
    pub response: Option<Response>,
}

/// A client's history and the instrument it is measured on.
#[derive(Debug, Clone)]
pub struct LoadedHistory {
    pub instrument_id: i64,
    pub instrument: Arc<InstrumentDefinition>,
    pub settings: EngineSettings,
    pub history: ClientHistory,
    pub sessions: Vec<SessionInfo>,
}

/// A stored questionnaire, with the translations Rapport ships for it.
pub fn instrument(conn: &mut DbConnection, id: i64) -> Result<Arc<InstrumentDefinition>, StoreError> {
    parsed(&instruments::find(conn, id)?)
}

/// A stored questionnaire version, parsed. A published version never
/// changes, so each stored definition is parsed once per process (keyed by
/// its text, which also keeps databases apart) and shared, never copied.
pub fn parsed(row: &instruments::InstrumentRow) -> Result<Arc<InstrumentDefinition>, StoreError> {
    use std::sync::{Mutex, OnceLock};
    static PARSED: OnceLock<Mutex<HashMap<String, Arc<InstrumentDefinition>>>> = OnceLock::new();
    let cache = PARSED.get_or_init(Default::default);
    if let Some(def) = cache.lock().ok().and_then(|c| c.get(&row.definition).cloned()) {
        return Ok(def);
    }
    let def = InstrumentDefinition::from_json_str(&row.definition)
        .map(InstrumentDefinition::with_shipped_translations)
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "stored instrument {} v{} is not valid: {e}",
                row.slug, row.version
            ))
        })?;
    let def = Arc::new(def);
    if let Ok(mut c) = cache.lock() {
        // A clinic has a handful of versions; tests make many databases.
        if c.len() >= 64 {
            c.clear();
        }
        c.insert(row.definition.clone(), def.clone());
    }
    Ok(def)
}

/// The engine settings for an instrument: its own defaults, then any
/// overrides an admin stored (`engine.<instrument id>` as JSON), with the
/// clinic's words-of-risk lists.
pub fn engine_settings(
    conn: &mut DbConnection,
    instrument: &InstrumentDefinition,
) -> Result<EngineSettings, StoreError> {
    let defaults = EngineSettings::for_instrument(instrument);
    let mut settings = match kv::get(conn, &format!("engine.{}", instrument.id()))? {
        None => defaults,
        // Overrides name only what they change; a stored override that no
        // longer fits is ignored (and logged) rather than stopping alerts.
        Some(stored) => {
            let overrides: serde_json::Value = serde_json::from_str(&stored).unwrap_or(serde_json::Value::Null);
            match defaults.with_overrides(&overrides) {
                Ok(settings) => settings,
                Err(e) => {
                    tracing::warn!(instrument = instrument.id(), "stored engine settings ignored: {e}");
                    defaults
                }
            }
        }
    };
    settings.risk_words.phrases = super::risk_words::phrases(conn)?;
    Ok(settings)
}

/// The client's sessions: attended appointments (each with its invitation)
/// and missed ones, in order of their start. Sessions whose invitation used
/// another instrument than the latest one are left out of the series.
pub fn load(conn: &mut DbConnection, client_id: ClientId) -> Result<Option<LoadedHistory>, StoreError> {
    let appts: Vec<Appointment> = appointments::table
        .filter(appointments::client_id.eq(client_id))
        .filter(
            appointments::status
                .eq(AppointmentStatus::Attended.as_str())
                .or(appointments::status.eq(AppointmentStatus::NoShow.as_str())),
        )
        .order((appointments::starts_at, appointments::id))
        .select(Appointment::as_select())
        .load(conn)?;
    let invs: Vec<Invitation> = invitations::table
        .filter(invitations::client_id.eq(client_id))
        .select(Invitation::as_select())
        .load(conn)?;
    let Some(latest) = invs.iter().max_by_key(|i| (i.send_at, i.id)) else {
        return Ok(None);
    };
    let instrument_id = latest.instrument_id;
    let instrument = instrument(conn, instrument_id)?;
    let settings = engine_settings(conn, &instrument)?;
    let resps: Vec<Response> = responses::table
        .filter(responses::client_id.eq(client_id))
        .select(Response::as_select())
        .load(conn)?;
    let by_appointment: HashMap<AppointmentId, Invitation> = invs.into_iter().map(|i| (i.appointment_id, i)).collect();
    let mut by_invitation: HashMap<InvitationId, Response> = resps.into_iter().map(|r| (r.invitation_id, r)).collect();
    let mut history = ClientHistory::default();
    let mut sessions = vec![];
    for appointment in appts {
        let invitation = by_appointment.get(&appointment.id).cloned();
        let outcome = match (&invitation, appointment.status) {
            (_, AppointmentStatus::NoShow) => SessionOutcome::Missed,
            (None, _) => continue,
            (Some(inv), _) if inv.instrument_id != instrument_id => continue,
            (Some(inv), _) => match inv.status {
                InvitationStatus::Answered => match by_invitation.get(&inv.id) {
                    Some(r) => answered_session(&instrument, r),
                    None => SessionOutcome::Pending,
                },
                // Silence counts only when the email went out.
                InvitationStatus::Expired if inv.sent_at.is_some() => SessionOutcome::Unanswered,
                InvitationStatus::Scheduled | InvitationStatus::Sent => SessionOutcome::Pending,
                InvitationStatus::Expired | InvitationStatus::Cancelled => continue,
            },
        };
        let session = history.sessions.len() as u32 + 1;
        history.sessions.push(SessionRecord { session, outcome });
        let response = invitation.as_ref().and_then(|i| by_invitation.remove(&i.id));
        sessions.push(SessionInfo {
            session,
            appointment,
            invitation,
            response,
        });
    }
    Ok(Some(LoadedHistory {
        instrument_id,
        instrument,
        settings,
        history,
        sessions,
    }))
}

/// An answered session from its stored scores (scored once, when the
/// client answered); a row whose scores cannot be read is scored again from
/// its answers.
fn answered_session(instrument: &InstrumentDefinition, response: &Response) -> SessionOutcome {
    match serde_json::from_str::<Scores>(&response.scores) {
        Ok(scores) => SessionOutcome::from_scores(instrument, &scores, response.comment.as_deref()),
        Err(_) => {
            let mut answers = response.answers();
            if let (Some(item), Some(comment)) = (instrument.item_with_role(ItemRole::Comment), &response.comment) {
                answers.0.insert(item.id.clone(), Answer::Text(comment.clone()));
            }
            SessionOutcome::from_response(instrument, &answers)
        }
    }
}
