//! Webhooks: the endpoints integrations register, and the events queued
//! for them. Each event is one outbox row per endpoint, written in the same
//! transaction as the change it reports, and POSTed (signed) by the
//! dispatcher with the same retries as email. Bodies carry ids and figures
//! only: never a name, an email address or free text.

use crate::store::AlertId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::alerts::{self, Change};
use super::invitations::{Invitation, Mailing};
use super::outbox::{self, Kind, NewMessage, Payload};
use super::responses::Response;
use super::schema::{alert_signals, webhook_endpoints};
use super::{DbConnection, StoreError};
use crate::domain::instrument::InstrumentDefinition;
use crate::security::{self, Sealer, UnsealError};

/// What an integration can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The engine opened an alert for a client.
    AlertOpened,
    /// An alert's severity rose, or a clinician (or an integration) acknowledged it, noted a
    /// discussion or recorded an outcome.
    AlertChanged,
    /// A client answered a questionnaire.
    ResponseReceived,
}

impl EventType {
    pub const ALL: [EventType; 3] = [
        EventType::AlertOpened,
        EventType::AlertChanged,
        EventType::ResponseReceived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AlertOpened => "alert.opened",
            EventType::AlertChanged => "alert.changed",
            EventType::ResponseReceived => "response.received",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Parses `alert.opened,response.received` (or `all`).
pub fn parse_events(text: &str) -> Result<Vec<EventType>, String> {
    let mut events = vec![];
    for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if part == "all" {
            return Ok(EventType::ALL.to_vec());
        }
        let event = EventType::parse(part)
            .ok_or_else(|| format!("unknown event \"{part}\": expected {} or all", event_names().join(", ")))?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(format!("name at least one event: {} or all", event_names().join(", ")));
    }
    Ok(events)
}

fn event_names() -> Vec<&'static str> {
    EventType::ALL.iter().map(|e| e.as_str()).collect()
}

/// The clinic setting that lets webhooks reach receivers on private
/// networks (off by default).
pub const ALLOW_PRIVATE_NETWORKS: &str = "webhooks.allow_private_networks";

/// Checks an endpoint address: absolute http(s) with a host, no user or
/// password in it (the signature authenticates Rapport).
pub fn check_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let url = url::Url::parse(text)
        .map_err(|_| format!("\"{text}\" is not an absolute address such as https://example.org/hooks/rapport"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().unwrap_or("").is_empty() {
        return Err(format!("\"{text}\" must be an http or https address with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("leave the user name and password out of the address; receivers check the signature".into());
    }
    if text.len() > 2000 {
        return Err("the address is longer than 2000 characters".into());
    }
    Ok(url.to_string())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    /// Sealed with the server key; open with [`Endpoint::secret`].
    pub secret: String,
    pub events: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
}

impl Endpoint {
    pub fn event_types(&self) -> Vec<EventType> {
        self.events
            .split(',')
            .filter_map(|e| EventType::parse(e.trim()))
            .collect()
    }

    pub fn wants(&self, event: EventType) -> bool {
        self.event_types().contains(&event)
    }

    /// The signing secret.
    pub fn secret(&self, sealer: &Sealer) -> Result<String, UnsealError> {
        sealer.open(&self.secret)
    }
}

/// Registers an endpoint and returns it with its signing secret (shown to
/// the admin once; kept sealed).
pub fn create(
    conn: &mut DbConnection,
    url: &str,
    events: &[EventType],
    sealer: &Sealer,
    now: NaiveDateTime,
) -> Result<(Endpoint, String), StoreError> {
    let secret = format!("whsec_{}", security::new_token());
    let events = events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",");
    let id: i64 = diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::url.eq(url),
            webhook_endpoints::secret.eq(sealer.seal(&secret)),
            webhook_endpoints::events.eq(events),
            webhook_endpoints::active.eq(true),
            webhook_endpoints::created_at.eq(now),
        ))
        .returning(webhook_endpoints::id)
        .get_result(conn)?;
    Ok((find(conn, id)?, secret))
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Endpoint, StoreError> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<Endpoint>, StoreError> {
    Ok(webhook_endpoints::table
        .order(webhook_endpoints::id)
        .select(Endpoint::as_select())
        .load(conn)?)
}

/// Stops deliveries to an endpoint; queued ones are cancelled when their
/// turn comes. Returns false when it was not active.
pub fn disable(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::active.eq(true)),
    )
    .set((
        webhook_endpoints::active.eq(false),
        webhook_endpoints::disabled_at.eq(now),
    ))
    .execute(conn)?
        == 1)
}

/// The latest webhook deliveries, newest first, for the admin page.
pub fn recent_deliveries(conn: &mut DbConnection, limit: i64) -> Result<Vec<outbox::OutboxRow>, StoreError> {
    use super::schema::outbox as outbox_table;
    Ok(outbox_table::table
        .filter(outbox_table::kind.eq(Kind::Webhook.as_str()))
        .order(outbox_table::id.desc())
        .limit(limit)
        .select(outbox::OutboxRow::as_select())
        .load(conn)?)
}

fn utc_text(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Queues one event for every active endpoint that subscribed to it; all
/// copies share one event id so receivers can drop duplicates. Call in the
/// transaction of the change. Returns how many deliveries were queued.
pub fn emit(
    conn: &mut DbConnection,
    mailing: &Mailing,
    event: EventType,
    now: NaiveDateTime,
    // Built only when some endpoint wants the event: most clinics have none,
    // and this runs on every answer and alert change.
    data: impl FnOnce(&mut DbConnection) -> Result<Value, StoreError>,
) -> Result<usize, StoreError> {
    let endpoints: Vec<Endpoint> = webhook_endpoints::table
        .filter(webhook_endpoints::active.eq(true))
        .order(webhook_endpoints::id)
        .select(Endpoint::as_select())
        .load(conn)?;
    let endpoints: Vec<Endpoint> = endpoints.into_iter().filter(|e| e.wants(event)).collect();
    if endpoints.is_empty() {
        return Ok(0);
    }
    let data = data(conn)?;
    let body = json!({
        "id": format!("evt_{}", hex::encode(rand::random::<[u8; 16]>())),
        "type": event.as_str(),
        "created_at": utc_text(now),
        "data": data,
    })
    .to_string();
    for endpoint in &endpoints {
        let payload = Payload::Webhook {
            endpoint_id: endpoint.id,
            event: event.as_str().to_string(),
            body: body.clone(),
        };
        outbox::enqueue(
            conn,
            &NewMessage {
                kind: Kind::Webhook,
                recipient: &endpoint.url,
                invitation_id: None,
                staff_id: None,
                payload: &payload,
                send_at: now,
            },
            mailing.sealer,
            mailing.message_domain,
            now,
        )?;
    }
    Ok(endpoints.len())
}

/// What happened to an alert, as `alert.changed` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    SeverityRaised,
    Acknowledged,
    Discussed,
    Outcome,
}

impl AlertChange {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertChange::SeverityRaised => "severity_raised",
            AlertChange::Acknowledged => "acknowledged",
            AlertChange::Discussed => "discussed",
            AlertChange::Outcome => "outcome",
        }
    }
}

/// The alert as an event states it: ids, severity, status, outcome and the
/// rules behind it — never the signals' sentences or notes.
fn alert_data(conn: &mut DbConnection, alert_id: AlertId, change: Option<AlertChange>) -> Result<Value, StoreError> {
    let alert = alerts::find(conn, alert_id)?;
    let mut rules: Vec<String> = alert_signals::table
        .filter(alert_signals::alert_id.eq(alert_id))
        .select(alert_signals::rule)
        .load(conn)?;
    rules.sort();
    rules.dedup();
    let mut data = json!({
        "alert_id": alert.id,
        "client_id": alert.client_id,
        "clinician_id": alert.clinician_id,
        "severity": alert.severity.as_str(),
        "status": alert.status.as_str(),
        "outcome": alert.outcome.map(|o| o.as_str()),
        "opened_at_session": alert.opened_at_session,
        "rules": rules,
    });
    if let Some(change) = change {
        data["change"] = json!(change.as_str());
    }
    Ok(data)
}

/// Announces what an evaluation changed: newly opened alerts and raised
/// severities.
pub fn announce_evaluation(
    conn: &mut DbConnection,
    mailing: &Mailing,
    changes: &[Change],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    for change in changes {
        match *change {
            Change::Opened { alert_id, .. } => {
                emit(conn, mailing, EventType::AlertOpened, now, |conn| {
                    alert_data(conn, alert_id, None)
                })?;
            }
            Change::Raised { alert_id, .. } => {
                alert_changed(conn, mailing, alert_id, AlertChange::SeverityRaised, now)?;
            }
            Change::SignalsAdded { .. } | Change::Recovered { .. } => {}
        }
    }
    Ok(())
}

pub fn alert_changed(
    conn: &mut DbConnection,
    mailing: &Mailing,
    alert_id: AlertId,
    change: AlertChange,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    emit(conn, mailing, EventType::AlertChanged, now, |conn| {
        alert_data(conn, alert_id, Some(change))
    })?;
    Ok(())
}

/// Announces a stored response with its scores (no answers, no free text).
/// Tells integrations subscribed to `response.received` about an answer to
/// `invitation` on `instrument` (both already read by the caller).
pub fn response_received(
    conn: &mut DbConnection,
    mailing: &Mailing,
    response: &Response,
    invitation: &Invitation,
    instrument: &InstrumentDefinition,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    emit(conn, mailing, EventType::ResponseReceived, now, |_| {
        let scores = response.scores();
        Ok(json!({
            "response_id": response.id,
            "client_id": response.client_id,
            "invitation_id": response.invitation_id,
            "appointment_id": invitation.appointment_id,
            "instrument_id": response.instrument_id,
            "instrument": instrument.id(),
            "instrument_version": instrument.version(),
            "total": response.total,
            "common_score": response.common_score,
            "prorated": scores.prorated,
            "subscales": scores.subscales,
            "submitted_at": utc_text(response.submitted_at),
        }))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_with_clear_errors() {
        assert_eq!(
            parse_events("alert.opened, response.received,alert.opened").unwrap(),
            vec![EventType::AlertOpened, EventType::ResponseReceived]
        );
        assert_eq!(parse_events("all").unwrap(), EventType::ALL.to_vec());
        assert!(
            parse_events("alert.closed")
                .unwrap_err()
                .contains("unknown event \"alert.closed\"")
        );
        assert!(parse_events(" , ").unwrap_err().contains("at least one"));
    }

    #[test]
    fn urls_must_be_plain_http_addresses() {
        assert_eq!(
            check_url(" https://example.org/hook ").unwrap(),
            "https://example.org/hook"
        );
        assert!(check_url("ftp://example.org").is_err());
        assert!(check_url("/relative").is_err());
        assert!(
            check_url("https://user:pw@example.org/")
                .unwrap_err()
                .contains("password")
        );
    }
}
