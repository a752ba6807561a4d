//! Alerts: the engine's episodes kept in the database, their signals, the
//! clinician's immutable repair log, and the notices that tell clinicians.

use crate::store::{AlertId, ClientId, StaffId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::clients::{self, Viewer};
use super::history;
use super::invitations::Mailing;
use super::outbox::{self, Kind, NewMessage, Payload};
use super::schema::{alert_events, alert_signals, alerts, staff};
use super::staff::{Notify, StaffMember};
use super::{DbConnection, StoreError};
use crate::domain::engine::AlertEpisode;
use crate::domain::signals::{RuleId, Severity, Signal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Closed,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        match s {
            "open" => Some(AlertStatus::Open),
            "acknowledged" => Some(AlertStatus::Acknowledged),
            "closed" => Some(AlertStatus::Closed),
            _ => None,
        }
    }
}

/// The clinician's judgement of an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    Repaired,
    NotRepaired,
    NotARupture,
}

impl RepairOutcome {
    pub const ALL: [RepairOutcome; 3] = [
        RepairOutcome::Repaired,
        RepairOutcome::NotRepaired,
        RepairOutcome::NotARupture,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RepairOutcome::Repaired => "repaired",
            RepairOutcome::NotRepaired => "not_repaired",
            RepairOutcome::NotARupture => "not_a_rupture",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RepairOutcome::Repaired => "Repaired",
            RepairOutcome::NotRepaired => "Not repaired",
            RepairOutcome::NotARupture => "Not a rupture (false alarm)",
        }
    }

    pub fn parse(s: &str) -> Option<RepairOutcome> {
        RepairOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub struct Alert {
    pub id: AlertId,
    pub client_id: ClientId,
    pub clinician_id: StaffId,
    pub opened_at_session: i32,
    #[diesel(deserialize_as = String)]
    pub severity: Severity,
    #[diesel(deserialize_as = String)]
    pub status: AlertStatus,
    #[diesel(deserialize_as = super::MaybeStored<RepairOutcome>)]
    pub outcome: Option<RepairOutcome>,
    pub recovered_at_session: Option<i32>,
    pub closed_after_session: Option<i32>,
    /// The severity the clinician was last told of (by email), if any.
    #[diesel(deserialize_as = super::MaybeStored<Severity>)]
    pub notified_severity: Option<Severity>,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_signals)]
pub struct AlertSignal {
    pub id: i64,
    pub alert_id: AlertId,
    pub rule: String,
    pub rule_version: i32,
    pub session: i32,
    pub from_session: Option<i32>,
    pub known_at_session: i32,
    #[diesel(deserialize_as = String)]
    pub severity: Severity,
    pub explanation: String,
    pub inputs: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_events)]
pub struct AlertEvent {
    pub id: i64,
    pub alert_id: AlertId,
    pub kind: String,
    #[diesel(deserialize_as = super::MaybeStored<RepairOutcome>)]
    pub outcome: Option<RepairOutcome>,
    pub note: Option<String>,
    pub staff_id: Option<StaffId>,
    pub created_at: NaiveDateTime,
}

/// What an evaluation changed, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Opened {
        alert_id: AlertId,
        severity: Severity,
    },
    Raised {
        alert_id: AlertId,
        from: Severity,
        to: Severity,
    },
    SignalsAdded {
        alert_id: AlertId,
        count: usize,
    },
    Recovered {
        alert_id: AlertId,
        session: u32,
    },
}

/// The version of the rules behind stored alerts. Bumped when a change of
/// rule alters what stored alerts say (2: measured recovery as in
/// CLINICAL.md §3, which a later fall clears and the lowest point never
/// gives, and the words-of-risk rule; 3: no recovery at or before the
/// session of the alert's latest signal); the job loop then evaluates
/// every client with an alert again.
pub const RULES_VERSION: &str = "3";
const RULES_VERSION_KEY: &str = "engine.rules_version";
const REEVALUATED_UP_TO_KEY: &str = "engine.reevaluated_up_to_client";

/// Whether the stored alerts follow [`RULES_VERSION`]; if not, the
/// client after which the next step of evaluating again starts.
pub fn rules_catch_up(conn: &mut DbConnection) -> Result<Option<ClientId>, StoreError> {
    if super::kv::get(conn, RULES_VERSION_KEY)?.as_deref() == Some(RULES_VERSION) {
        return Ok(None);
    }
    Ok(Some(
        super::kv::get(conn, REEVALUATED_UP_TO_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(ClientId(0)),
    ))
}

/// The next clients with an alert after `after`, at most `limit`.
pub fn clients_with_alerts_after(
    conn: &mut DbConnection,
    after: ClientId,
    limit: i64,
) -> Result<Vec<ClientId>, StoreError> {
    Ok(alerts::table
        .filter(alerts::client_id.gt(after))
        .select(alerts::client_id)
        .distinct()
        .order(alerts::client_id)
        .limit(limit)
        .load(conn)?)
}

/// Records how far evaluating again has come: up to a client, or done.
pub fn record_rules_catch_up(
    conn: &mut DbConnection,
    up_to: Option<ClientId>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    match up_to {
        Some(last) => super::kv::set(conn, REEVALUATED_UP_TO_KEY, &last.to_string(), now),
        None => {
            super::kv::set(conn, RULES_VERSION_KEY, RULES_VERSION, now)?;
            super::kv::remove(conn, REEVALUATED_UP_TO_KEY)?;
            tracing::info!("stored alerts follow rules version {RULES_VERSION}");
            Ok(())
        }
    }
}

/// Brings one stored alert (or none yet) in line with the engine's
/// episode: opens it, raises its severity, follows measured recovery and
/// adds new signals. Returns what changed. Call inside a write transaction
/// (`actions::alerts::evaluate_client`).
pub(crate) fn reconcile_episode(
    conn: &mut DbConnection,
    client: &clients::Client,
    found: Option<&Alert>,
    episode: &AlertEpisode,
    now: NaiveDateTime,
) -> Result<Vec<Change>, StoreError> {
    let mut changes = vec![];
    let alert = match found {
        Some(alert) => alert.clone(),
        None => {
            let id: AlertId = diesel::insert_into(alerts::table)
                .values((
                    alerts::client_id.eq(client.id),
                    alerts::clinician_id.eq(client.clinician_id),
                    alerts::opened_at_session.eq(episode.opened_at_session as i32),
                    alerts::severity.eq(episode.severity.as_str()),
                    alerts::status.eq(AlertStatus::Open.as_str()),
                    alerts::recovered_at_session.eq(episode.recovered_at_session.map(|s| s as i32)),
                    alerts::opened_at.eq(now),
                    alerts::updated_at.eq(now),
                ))
                .returning(alerts::id)
                .get_result(conn)?;
            append_event(conn, id, "opened", None, None, None, now)?;
            changes.push(Change::Opened {
                alert_id: id,
                severity: episode.severity,
            });
            find(conn, id)?
        }
    };
    if found.is_some() && episode.severity > alert.severity && alert.status != AlertStatus::Closed {
        diesel::update(alerts::table.find(alert.id))
            .set((
                alerts::severity.eq(episode.severity.as_str()),
                alerts::updated_at.eq(now),
            ))
            .execute(conn)?;
        append_event(
            conn,
            alert.id,
            "severity_raised",
            None,
            Some(episode.severity.as_str()),
            None,
            now,
        )?;
        changes.push(Change::Raised {
            alert_id: alert.id,
            from: alert.severity,
            to: episode.severity,
        });
    }
    // Measured recovery follows the data both ways: a later fall clears it.
    let recovered = episode.recovered_at_session.map(|s| s as i32);
    if alert.recovered_at_session != recovered {
        diesel::update(alerts::table.find(alert.id))
            .set(alerts::recovered_at_session.eq(recovered))
            .execute(conn)?;
        if let Some(session) = episode.recovered_at_session {
            changes.push(Change::Recovered {
                alert_id: alert.id,
                session,
            });
        }
    }
    let known: Vec<(String, i32)> = alert_signals::table
        .filter(alert_signals::alert_id.eq(alert.id))
        .select((alert_signals::rule, alert_signals::session))
        .load(conn)?;
    let mut added = 0;
    for signal in &episode.signals {
        if known
            .iter()
            .any(|(rule, session)| rule == signal.rule.as_str() && *session == signal.session as i32)
        {
            continue;
        }
        insert_signal(conn, alert.id, signal, now)?;
        added += 1;
    }
    if added > 0 && found.is_some() {
        changes.push(Change::SignalsAdded {
            alert_id: alert.id,
            count: added,
        });
    }
    Ok(changes)
}

fn insert_signal(
    conn: &mut DbConnection,
    alert_id: AlertId,
    signal: &Signal,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(alert_signals::table)
        .values((
            alert_signals::alert_id.eq(alert_id),
            alert_signals::rule.eq(signal.rule.as_str()),
            alert_signals::rule_version.eq(signal.rule_version as i32),
            alert_signals::session.eq(signal.session as i32),
            alert_signals::from_session.eq(signal.from_session.map(|s| s as i32)),
            alert_signals::known_at_session.eq(signal.known_at_session as i32),
            alert_signals::severity.eq(signal.severity.as_str()),
            alert_signals::explanation.eq(&signal.explanation),
            alert_signals::inputs.eq(serde_json::to_string(&signal.inputs).unwrap_or_default()),
            alert_signals::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

fn append_event(
    conn: &mut DbConnection,
    alert_id: AlertId,
    kind: &str,
    outcome: Option<&str>,
    note: Option<&str>,
    staff_id: Option<StaffId>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(alert_events::table)
        .values((
            alert_events::alert_id.eq(alert_id),
            alert_events::kind.eq(kind),
            alert_events::outcome.eq(outcome),
            alert_events::note.eq(note),
            alert_events::staff_id.eq(staff_id),
            alert_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sends the clinician an immediate notice for alerts they have not been
/// told about, as their preference says (by default high alerts at once,
/// others in the daily digest). Words of risk are told at once whatever the
/// preference: a client may be in danger.
pub(crate) fn notify_urgent(
    conn: &mut DbConnection,
    clinician_id: StaffId,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let clinician = super::staff::find(conn, clinician_id)?;
    let pending = unnotified(conn, clinician_id)?;
    let pending_ids: Vec<AlertId> = pending.iter().map(|a| a.id).collect();
    let at_risk: Vec<AlertId> = alert_signals::table
        .filter(alert_signals::alert_id.eq_any(&pending_ids))
        .filter(alert_signals::rule.eq(RuleId::RiskWords.as_str()))
        .select(alert_signals::alert_id)
        .load(conn)?;
    let urgent: Vec<&Alert> = pending
        .iter()
        .filter(|a| clinician.hears_about(a.severity) == Notify::Immediate || at_risk.contains(&a.id))
        .collect();
    if urgent.is_empty() {
        return Ok(());
    }
    send_notice(conn, &clinician, &urgent, Kind::AlertNotice, mailing, now)
}

/// The clinician's open alerts not yet told at their present severity. A
/// partial index holds only such alerts, so the cost does not grow with the
/// open alerts a clinician has already been told about.
fn unnotified(conn: &mut DbConnection, clinician_id: StaffId) -> Result<Vec<Alert>, StoreError> {
    Ok(alerts::table
        .filter(alerts::clinician_id.eq(clinician_id))
        .filter(
            alerts::notified_severity
                .is_null()
                .or(alerts::notified_severity.ne(alerts::severity.nullable())),
        )
        .filter(alerts::status.ne(AlertStatus::Closed.as_str()))
        .select(Alert::as_select())
        .load(conn)?)
}

fn send_notice(
    conn: &mut DbConnection,
    clinician: &StaffMember,
    alerts_to_tell: &[&Alert],
    kind: Kind,
    mailing: &Mailing,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let count = alerts_to_tell.len() as u32;
    let payload = if kind == Kind::AlertDigest {
        let since = now - chrono::Duration::days(1);
        Payload::AlertDigest {
            alerts: count,
            comments: super::responses::comments_for_clinician_since(conn, clinician.id, since)? as u32,
        }
    } else {
        let is_new = |a: &&&Alert| a.notified_severity.is_none();
        let new_high = alerts_to_tell
            .iter()
            .filter(is_new)
            .filter(|a| a.severity == Severity::High)
            .count();
        let new_all = alerts_to_tell.iter().filter(is_new).count();
        Payload::AlertNotice {
            alerts: count,
            new_high: new_high as u32,
            new_other: (new_all - new_high) as u32,
        }
    };
    outbox::enqueue(
        conn,
        &NewMessage {
            kind,
            recipient: &clinician.email,
            invitation_id: None,
            staff_id: Some(clinician.id),
            payload: &payload,
            send_at: now,
        },
        mailing.sealer,
        mailing.message_domain,
        now,
    )?;
    for alert in alerts_to_tell {
        diesel::update(alerts::table.find(alert.id))
            .set(alerts::notified_severity.eq(alert.severity.as_str()))
            .execute(conn)?;
    }
    Ok(())
}

/// The daily summary: one email per clinician who has alerts they were not
/// told about yet and whose preference for them is the summary, or whose
/// clients wrote comments in the last day (when either preference is the
/// summary: every comment is counted, whether or not an alert opened).
pub fn send_digests(conn: &mut DbConnection, mailing: &Mailing, now: NaiveDateTime) -> Result<usize, StoreError> {
    let clinicians: Vec<StaffMember> = staff::table
        .filter(staff::role.eq("clinician"))
        .filter(staff::active.eq(true))
        .select(StaffMember::as_select())
        .load(conn)?;
    let since = now - chrono::Duration::days(1);
    let mut sent = 0;
    for clinician in clinicians {
        conn.write_transaction(|conn| {
            let pending = unnotified(conn, clinician.id)?;
            let due: Vec<&Alert> = pending
                .iter()
                .filter(|a| clinician.hears_about(a.severity) == Notify::Digest)
                .collect();
            let wrote = clinician.wants_summary()
                && super::responses::comments_for_clinician_since(conn, clinician.id, since)? > 0;
            if !due.is_empty() || wrote {
                send_notice(conn, &clinician, &due, Kind::AlertDigest, mailing, now)?;
                sent += 1;
            }
            Ok::<_, StoreError>(())
        })?;
    }
    Ok(sent)
}

pub fn find(conn: &mut DbConnection, id: AlertId) -> Result<Alert, StoreError> {
    alerts::table
        .find(id)
        .select(Alert::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// An alert whose client the viewer may see; otherwise `NotFound`.
pub fn find_visible(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: AlertId,
) -> Result<(Alert, clients::Client), StoreError> {
    let alert = find(conn, id)?;
    let client = clients::find_visible(conn, viewer, alert.client_id)?;
    Ok((alert, client))
}

/// Which alerts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFilter {
    /// Open and acknowledged: still needing the clinician.
    Active,
    Status(AlertStatus),
    All,
}

/// The viewer's alerts with their clients, open first, then by severity
/// (high first), then oldest first.
/// The alerts of the clients a viewer may see (`clients::list_visible`).
pub fn list_visible(
    conn: &mut DbConnection,
    visible: &[clients::Client],
    filter: AlertFilter,
) -> Result<Vec<(Alert, clients::Client)>, StoreError> {
    let ids: Vec<ClientId> = visible.iter().map(|c| c.id).collect();
    let mut q = alerts::table.filter(alerts::client_id.eq_any(&ids)).into_boxed();
    q = match filter {
        AlertFilter::Active => q.filter(alerts::status.ne(AlertStatus::Closed.as_str())),
        AlertFilter::Status(s) => q.filter(alerts::status.eq(s.as_str())),
        AlertFilter::All => q,
    };
    let mut rows: Vec<Alert> = q.select(Alert::as_select()).load(conn)?;
    rows.sort_by(|a, b| {
        let open = |x: &Alert| x.status == AlertStatus::Open;
        open(b)
            .cmp(&open(a))
            .then(b.severity.cmp(&a.severity))
            .then(a.opened_at.cmp(&b.opened_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(rows
        .into_iter()
        .filter_map(|a| visible.iter().find(|c| c.id == a.client_id).cloned().map(|c| (a, c)))
        .collect())
}

/// The clinic's limit for acknowledging an alert, in days (settings key
/// `alerts.overdue_days`, default 2): an alert still not acknowledged after
/// it is marked overdue.
pub const OVERDUE_DAYS_KEY: &str = "alerts.overdue_days";
pub const DEFAULT_OVERDUE_DAYS: i64 = 2;

pub fn overdue_days(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(super::kv::get(conn, OVERDUE_DAYS_KEY)?
        .and_then(|v| v.parse().ok())
        .filter(|d| (1..=30).contains(d))
        .unwrap_or(DEFAULT_OVERDUE_DAYS))
}

/// Alerts still not acknowledged `days` or more after they opened, counted
/// per clinician (for the manager's overview, which shows teams only).
pub fn overdue_by_clinician(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    days: i64,
) -> Result<Vec<(StaffId, i64)>, StoreError> {
    Ok(alerts::table
        .filter(alerts::status.eq(AlertStatus::Open.as_str()))
        .filter(alerts::opened_at.le(now - chrono::Duration::days(days)))
        .group_by(alerts::clinician_id)
        .select((alerts::clinician_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Why a client is under watch after "not repaired".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// No answer since: the follow-up at the next session is due.
    FollowUpDue,
    /// Answered since, worse than before the judgement.
    StillFalling,
}

/// Clients under watch after "not repaired", among `visible` (the
/// viewer's clients): the latest alert of each client was closed as not repaired, and either the client has not
/// answered since (the follow-up at the next session is due) or their
/// latest total is worse than their last one before the judgement.
pub fn under_watch(
    conn: &mut DbConnection,
    visible: &[clients::Client],
) -> Result<Vec<(Alert, clients::Client, Watch)>, StoreError> {
    use super::schema::responses;
    let ids: Vec<ClientId> = visible.iter().map(|c| c.id).collect();
    let not_repaired: Vec<Alert> = alerts::table
        .filter(alerts::client_id.eq_any(&ids))
        .filter(alerts::outcome.eq(RepairOutcome::NotRepaired.as_str()))
        .order(alerts::updated_at)
        .select(Alert::as_select())
        .load(conn)?;
    let mut watched = vec![];
    for alert in not_repaired {
        let later_alert: i64 = alerts::table
            .filter(alerts::client_id.eq(alert.client_id))
            .filter(alerts::id.gt(alert.id))
            .count()
            .get_result(conn)?;
        if later_alert > 0 {
            continue;
        }
        let totals: Vec<(NaiveDateTime, Option<f64>)> = responses::table
            .filter(responses::client_id.eq(alert.client_id))
            .order((responses::submitted_at, responses::id))
            .select((responses::submitted_at, responses::total))
            .load(conn)?;
        let (before, since): (Vec<_>, Vec<_>) = totals.iter().partition(|(at, _)| *at < alert.updated_at);
        let last = |rows: &[&(NaiveDateTime, Option<f64>)]| rows.iter().rev().find_map(|(_, t)| *t);
        let watch = match (since.is_empty(), last(&before), last(&since)) {
            (true, _, _) => Some(Watch::FollowUpDue),
            (false, Some(was), Some(now)) => {
                let direction = history::load(conn, alert.client_id)?.map(|h| h.settings.direction);
                direction
                    .is_some_and(|d| d.worsening(was, now) > 0.0)
                    .then_some(Watch::StillFalling)
            }
            _ => None,
        };
        if let Some(watch) = watch
            && let Some(client) = visible.iter().find(|c| c.id == alert.client_id)
        {
            watched.push((alert, client.clone(), watch));
        }
    }
    Ok(watched)
}

/// A client's stored alerts, in the order they opened.
pub fn for_client(conn: &mut DbConnection, client_id: ClientId) -> Result<Vec<Alert>, StoreError> {
    Ok(alerts::table
        .filter(alerts::client_id.eq(client_id))
        .order(alerts::opened_at_session)
        .select(Alert::as_select())
        .load(conn)?)
}

pub fn signals(conn: &mut DbConnection, alert_id: AlertId) -> Result<Vec<AlertSignal>, StoreError> {
    Ok(alert_signals::table
        .filter(alert_signals::alert_id.eq(alert_id))
        .order((alert_signals::known_at_session, alert_signals::id))
        .select(AlertSignal::as_select())
        .load(conn)?)
}

/// The repair log, oldest first, with the name of who wrote each entry.
pub fn events(conn: &mut DbConnection, alert_id: AlertId) -> Result<Vec<(AlertEvent, Option<String>)>, StoreError> {
    Ok(alert_events::table
        .left_join(staff::table)
        .filter(alert_events::alert_id.eq(alert_id))
        .order(alert_events::id)
        .select((AlertEvent::as_select(), staff::name.nullable()))
        .load(conn)?)
}

/// A clinician's step in the repair log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairStep {
    Acknowledge,
    Discussed {
        note: String,
    },
    Outcome {
        outcome: RepairOutcome,
        note: Option<String>,
    },
}

/// Appends a step to the log and moves the alert on. Steps never change
/// what was written before; an outcome closes the alert (the engine then
/// starts a new episode for later signals). `staff_id` is None when an
/// integration records the step (its API key is named in the audit log).
/// Call inside a write transaction; use
/// `actions::alerts::record_repair_step`, which also writes the audit entry
/// and tells integrations.
pub(crate) fn record_step(
    conn: &mut DbConnection,
    alert: &Alert,
    step: &RepairStep,
    staff_id: Option<StaffId>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    if alert.status == AlertStatus::Closed {
        return Err(StoreError::Conflict(
            "this alert already has an outcome; its log can no longer change".into(),
        ));
    }
    match step {
        RepairStep::Acknowledge => {
            append_event(conn, alert.id, "acknowledged", None, None, staff_id, now)?;
            if alert.status == AlertStatus::Open {
                set_status(conn, alert.id, AlertStatus::Acknowledged, now)?;
            }
        }
        RepairStep::Discussed { note } => {
            append_event(conn, alert.id, "discussed", None, Some(note), staff_id, now)?;
            if alert.status == AlertStatus::Open {
                set_status(conn, alert.id, AlertStatus::Acknowledged, now)?;
            }
        }
        RepairStep::Outcome { outcome, note } => {
            append_event(
                conn,
                alert.id,
                "outcome",
                Some(outcome.as_str()),
                note.as_deref(),
                staff_id,
                now,
            )?;
            let last_session = history::load(conn, alert.client_id)?
                .map(|h| h.history.sessions.iter().map(|s| s.session).max().unwrap_or(0))
                .unwrap_or(0) as i32;
            diesel::update(alerts::table.find(alert.id))
                .set((
                    alerts::status.eq(AlertStatus::Closed.as_str()),
                    alerts::outcome.eq(outcome.as_str()),
                    alerts::closed_after_session.eq(last_session.max(alert.opened_at_session)),
                    alerts::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn set_status(conn: &mut DbConnection, id: AlertId, status: AlertStatus, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(alerts::table.find(id))
        .set((alerts::status.eq(status.as_str()), alerts::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Open-alert counts per client, for the clients list.
pub fn open_counts(conn: &mut DbConnection, client_ids: &[ClientId]) -> Result<Vec<(ClientId, i64)>, StoreError> {
    Ok(alerts::table
        .filter(alerts::client_id.eq_any(client_ids))
        .filter(alerts::status.ne(AlertStatus::Closed.as_str()))
        .group_by(alerts::client_id)
        .select((alerts::client_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// The headline reason of each alert, by alert id: its most severe signal,
/// the earliest known among equals.
pub fn headline_signals(
    conn: &mut DbConnection,
    alert_ids: &[AlertId],
) -> Result<std::collections::HashMap<AlertId, AlertSignal>, StoreError> {
    let rows: Vec<AlertSignal> = alert_signals::table
        .filter(alert_signals::alert_id.eq_any(alert_ids))
        .order((
            alert_signals::alert_id,
            alert_signals::known_at_session,
            alert_signals::id,
        ))
        .select(AlertSignal::as_select())
        .load(conn)?;
    let mut first: std::collections::HashMap<AlertId, AlertSignal> = std::collections::HashMap::new();
    for row in rows {
        let stronger = first.get(&row.alert_id).is_none_or(|kept| row.severity > kept.severity);
        if stronger {
            first.insert(row.alert_id, row);
        }
    }
    Ok(first)
}

/// Every alert of one clinician (any status).
pub fn list_for_clinician(conn: &mut DbConnection, clinician_id: StaffId) -> Result<Vec<Alert>, StoreError> {
    Ok(alerts::table
        .filter(alerts::clinician_id.eq(clinician_id))
        .select(Alert::as_select())
        .load(conn)?)
}
