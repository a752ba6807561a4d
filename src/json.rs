//! What Rapport hands out as JSON: the API's shapes (with their OpenAPI
//! schemas) and a client's record as the privacy export writes it (API,
//! admin page and `rapport privacy export` alike), built from stored rows.
//! Times are RFC 3339 in UTC.
//!
//! May import `store` and `domain`; the web layer and the CLI import it.

use crate::store::InvitationId;
use crate::store::{AlertId, AppointmentId, ClientId, StaffId};
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::instrument::Answer;
use crate::store::alerts::{AlertEvent, AlertSignal};
use crate::store::appointments::Appointment;
use crate::store::clients::Client;
use crate::store::invitations::Invitation;
use crate::store::record::{AlertWithLog, AuditLine, ClientRecord};
use crate::store::responses::Response;

pub fn utc_text(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An RFC 9457 problem: every error the API returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status code says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: String,
    #[schema(example = "Not Found")]
    pub title: String,
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong and how to put it right.
    #[schema(example = "There is nothing at this address, or it is not yours to see.")]
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: ClientId,
    pub clinician_id: StaffId,
    #[schema(format = Email)]
    pub clinician_email: String,
    /// "Erased client #ID" once erased.
    pub name: String,
    pub email: Option<String>,
    #[schema(example = "en")]
    pub language: String,
    #[schema(example = "Europe/London")]
    pub time_zone: Option<String>,
    /// The practice system that knows the client, with its id for them.
    pub source: Option<String>,
    pub external_id: Option<String>,
    /// The client asked not to receive questionnaires.
    pub opted_out: bool,
    #[schema(format = DateTime)]
    pub opted_out_at: Option<String>,
    pub invitations_paused: bool,
    /// Identifying data was erased; anonymous scores remain.
    pub erased: bool,
    #[schema(format = DateTime)]
    pub erased_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl ClientView {
    pub fn new(c: &Client, clinician_email: &str) -> ClientView {
        ClientView {
            id: c.id,
            clinician_id: c.clinician_id,
            clinician_email: clinician_email.to_string(),
            name: c.name.clone(),
            email: c.email.clone(),
            language: c.language.clone(),
            time_zone: c.time_zone.clone(),
            source: c.source.clone(),
            external_id: c.external_id.clone(),
            opted_out: c.opted_out,
            opted_out_at: c.opted_out_at.map(utc_text),
            invitations_paused: c.invitations_paused,
            erased: c.erased_at.is_some(),
            erased_at: c.erased_at.map(utc_text),
            created_at: utc_text(c.created_at),
            updated_at: utc_text(c.updated_at),
        }
    }
}

/// The questionnaire sent after an attended appointment, and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: InvitationId,
    pub appointment_id: AppointmentId,
    pub client_id: ClientId,
    /// The instrument version asked (its FHIR Questionnaire id).
    pub instrument_id: i64,
    /// scheduled, sent, answered, expired or cancelled.
    #[schema(example = "sent")]
    pub status: String,
    #[schema(format = DateTime)]
    pub send_at: String,
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    #[schema(format = DateTime)]
    pub reminder_at: String,
    #[schema(format = DateTime)]
    pub reminded_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
    /// The response, once answered.
    pub response_id: Option<i64>,
}

impl InvitationView {
    pub fn new(i: &Invitation, response_id: Option<i64>) -> InvitationView {
        InvitationView {
            id: i.id,
            appointment_id: i.appointment_id,
            client_id: i.client_id,
            instrument_id: i.instrument_id,
            status: i.status.as_str().to_string(),
            send_at: utc_text(i.send_at),
            sent_at: i.sent_at.map(utc_text),
            reminder_at: utc_text(i.reminder_at),
            reminded_at: i.reminded_at.map(utc_text),
            expires_at: utc_text(i.expires_at),
            answered_at: i.answered_at.map(utc_text),
            response_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: AppointmentId,
    pub client_id: ClientId,
    pub clinician_id: StaffId,
    pub source: String,
    pub external_id: String,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    /// booked, attended, cancelled or no_show.
    #[schema(example = "attended")]
    pub status: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The questionnaire for this appointment, if one was made.
    pub invitation: Option<InvitationView>,
}

impl AppointmentView {
    pub fn new(a: &Appointment, invitation: Option<InvitationView>) -> AppointmentView {
        AppointmentView {
            id: a.id,
            client_id: a.client_id,
            clinician_id: a.clinician_id,
            source: a.source.clone(),
            external_id: a.external_id.clone(),
            start: utc_text(a.starts_at),
            end: utc_text(a.ends_at),
            status: a.status.as_str().to_string(),
            created_at: utc_text(a.created_at),
            updated_at: utc_text(a.updated_at),
            invitation,
        }
    }
}

/// One answered questionnaire with its scores.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseView {
    pub id: i64,
    pub client_id: ClientId,
    pub invitation_id: InvitationId,
    /// The instrument version answered (its FHIR Questionnaire id).
    pub instrument_id: i64,
    #[schema(example = "rapport-alliance")]
    pub instrument: String,
    pub instrument_version: i32,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// The total (prorated when an item was skipped within the instrument's limit).
    #[schema(example = 38.0)]
    pub total: Option<f64>,
    /// The total on a common 0–100 scale where 100 is best.
    #[schema(example = 95.0)]
    pub common_score: Option<f64>,
    pub prorated: bool,
    /// Subscale id → score (null when too many of its items were skipped).
    pub subscales: BTreeMap<String, Option<f64>>,
    /// The screener: true when the client said something felt wrong.
    pub screener_uncomfortable: Option<bool>,
    /// Item id → answer (number, true/false, or the chosen option).
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// What the client wrote for their clinician (removed on erasure; null
    /// unless the clinic lets others than the clinician read it).
    pub comment: Option<String>,
    /// The language the client answered in (BCP 47; null for answers
    /// stored before Rapport recorded it, which were English).
    #[schema(example = "ar")]
    pub language: Option<String>,
}

pub fn answer_value(answer: &Answer) -> serde_json::Value {
    match answer {
        Answer::Number(n) => serde_json::json!(n),
        Answer::Bool(b) => serde_json::json!(b),
        Answer::Choice(c) | Answer::Text(c) => serde_json::json!(c),
    }
}

impl ResponseView {
    pub fn new(r: &Response, instrument: &str, version: i32) -> ResponseView {
        let scores = r.scores();
        ResponseView {
            id: r.id,
            client_id: r.client_id,
            invitation_id: r.invitation_id,
            instrument_id: r.instrument_id,
            instrument: instrument.to_string(),
            instrument_version: version,
            submitted_at: utc_text(r.submitted_at),
            total: r.total,
            common_score: r.common_score,
            prorated: scores.prorated,
            subscales: scores.subscales,
            screener_uncomfortable: r.screener_uncomfortable,
            answers: r
                .answers()
                .0
                .iter()
                .map(|(k, a)| (k.clone(), answer_value(a)))
                .collect(),
            comment: r.comment.clone(),
            language: r.language.clone(),
        }
    }
}

/// One finding of a rule, in plain English with the figures it used.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalView {
    #[schema(example = "drop_from_last")]
    pub rule: String,
    pub rule_version: i32,
    /// The session (1 = the client's first) the signal is about.
    pub session: i32,
    pub from_session: Option<i32>,
    pub known_at_session: i32,
    #[schema(example = "medium")]
    pub severity: String,
    #[schema(example = "Total fell from 38 to 30 (previous session).")]
    pub explanation: String,
    /// The inputs and thresholds the rule used.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl SignalView {
    pub fn new(s: &AlertSignal) -> SignalView {
        SignalView {
            rule: s.rule.clone(),
            rule_version: s.rule_version,
            session: s.session,
            from_session: s.from_session,
            known_at_session: s.known_at_session,
            severity: s.severity.as_str().to_string(),
            explanation: s.explanation.clone(),
            inputs: serde_json::from_str(&s.inputs).unwrap_or(serde_json::Value::Null),
            created_at: utc_text(s.created_at),
        }
    }
}

/// One step of the repair log (never changed once written).
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertEventView {
    pub id: i64,
    /// opened, severity_raised, acknowledged, discussed or outcome.
    #[schema(example = "acknowledged")]
    pub kind: String,
    /// repaired, not_repaired or not_a_rupture (outcome steps).
    pub outcome: Option<String>,
    pub note: Option<String>,
    /// The member of staff; null for the engine and for integrations.
    pub staff_id: Option<StaffId>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl AlertEventView {
    pub fn new(e: &AlertEvent) -> AlertEventView {
        AlertEventView {
            id: e.id,
            kind: e.kind.clone(),
            outcome: e.outcome.map(|o| o.as_str().to_string()),
            note: e.note.clone(),
            staff_id: e.staff_id,
            created_at: utc_text(e.created_at),
        }
    }
}

/// An alert: one episode of possible rupture, with its reasons and repair log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: AlertId,
    pub client_id: ClientId,
    pub clinician_id: StaffId,
    /// low, medium or high.
    #[schema(example = "medium")]
    pub severity: String,
    /// open, acknowledged or closed.
    #[schema(example = "open")]
    pub status: String,
    pub outcome: Option<String>,
    pub opened_at_session: i32,
    /// The session at which the scores came back within noise of the baseline.
    pub recovered_at_session: Option<i32>,
    pub closed_after_session: Option<i32>,
    #[schema(format = DateTime)]
    pub opened_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub signals: Vec<SignalView>,
    pub events: Vec<AlertEventView>,
}

impl AlertView {
    pub fn new(a: &AlertWithLog) -> AlertView {
        let alert = &a.alert;
        AlertView {
            id: alert.id,
            client_id: alert.client_id,
            clinician_id: alert.clinician_id,
            severity: alert.severity.as_str().to_string(),
            status: alert.status.as_str().to_string(),
            outcome: alert.outcome.map(|o| o.as_str().to_string()),
            opened_at_session: alert.opened_at_session,
            recovered_at_session: alert.recovered_at_session,
            closed_after_session: alert.closed_after_session,
            opened_at: utc_text(alert.opened_at),
            updated_at: utc_text(alert.updated_at),
            signals: a.signals.iter().map(SignalView::new).collect(),
            events: a.events.iter().map(AlertEventView::new).collect(),
        }
    }
}

/// An audit log entry: who read or changed the client's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub staff_id: Option<StaffId>,
    pub api_key_id: Option<i64>,
    #[schema(example = "api.client.read")]
    pub action: String,
    pub client_id: Option<ClientId>,
    pub alert_id: Option<AlertId>,
    pub detail: Option<String>,
}

impl AuditView {
    pub fn new(a: &AuditLine) -> AuditView {
        AuditView {
            id: a.id,
            at: utc_text(a.at),
            staff_id: a.staff_id,
            api_key_id: a.api_key_id,
            action: a.action.clone(),
            client_id: a.client_id,
            alert_id: a.alert_id,
            detail: a.detail.clone(),
        }
    }
}

/// Everything Rapport holds about one client (a subject access request).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientRecordView {
    #[schema(format = DateTime)]
    pub generated_at: String,
    pub client: ClientView,
    pub appointments: Vec<AppointmentView>,
    pub invitations: Vec<InvitationView>,
    pub responses: Vec<ResponseView>,
    pub alerts: Vec<AlertView>,
    pub audit: Vec<AuditView>,
    /// Set when something was left out of this copy, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

impl ClientRecordView {
    pub fn new(r: &ClientRecord, now: NaiveDateTime) -> ClientRecordView {
        let response_of = |invitation_id: InvitationId| {
            r.responses
                .iter()
                .find(|(resp, _, _)| resp.invitation_id == invitation_id)
                .map(|(resp, _, _)| resp.id)
        };
        ClientRecordView {
            generated_at: utc_text(now),
            client: ClientView::new(&r.client, &r.clinician_email),
            appointments: r.appointments.iter().map(|a| AppointmentView::new(a, None)).collect(),
            invitations: r
                .invitations
                .iter()
                .map(|i| InvitationView::new(i, response_of(i.id)))
                .collect(),
            responses: r
                .responses
                .iter()
                .map(|(resp, slug, v)| ResponseView::new(resp, slug, *v))
                .collect(),
            alerts: r.alerts.iter().map(AlertView::new).collect(),
            audit: r.audit.iter().map(AuditView::new).collect(),
            withheld: r.free_text_withheld.then(|| {
                "The client's free-text answers are left out: the clinic lets only the client's clinician read them \
                 (Admin → Privacy changes this). Their clinician can see them on the client's page."
                    .to_string()
            }),
        }
    }
}
