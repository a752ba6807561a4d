//! The managers' trends: pre-aggregated cells, kept fresh from the queue
//! of changed instants that the database triggers fill (see the insights
//! migration), and the rows of the research export.
//!
//! A refresh recomputes every period (week and month, in the clinic's time
//! zone) that holds a changed instant, from the rows of that period only:
//! the dashboard then reads a few hundred small rows however large the
//! clinic's history grows. After a bulk import, a change of time zone or a
//! clinician moving team, everything is recomputed once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::schema::{
    alert_events, alert_signals, alerts, appointments, clients, insight_cells, insight_dirty, insight_rule_cells,
    instruments, invitations, responses, staff, teams,
};
use super::{DbConnection, StoreError, kv};
use crate::domain::instrument::{Direction, InstrumentDefinition};
use crate::domain::trends::cells::NO_TEAM;
use crate::domain::trends::{
    AlertFact, Attribution, Breakdown, Cell, GroupKey, Grouping, InvitationFact, InvitationState, Outcome, Period,
    PeriodFacts, ResponseFact, RuleCell, Selection, SessionFact, aggregate,
};

/// The clinic setting that lets managers see figures per clinician.
pub const CLINICIAN_FIGURES_KEY: &str = "insights.clinician_figures";
/// The time zone the stored cells were computed in.
const TIME_ZONE_KEY: &str = "insights.time_zone";
/// Beyond this many queued changes a full recompute is cheaper.
const FULL_REFRESH_AFTER: i64 = 20_000;
/// Ids per `IN (…)` list, well inside both backends' parameter limits.
const CHUNK: usize = 5_000;
/// PostgreSQL advisory lock held while a refresh runs.
const REFRESH_LOCK_KEY: i64 = 0x5241_5050_4f52_5402;

/// Whether managers may see figures per clinician (off unless an admin
/// turns it on).
pub fn clinician_figures_allowed(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(kv::get(conn, CLINICIAN_FIGURES_KEY)?.as_deref() == Some("on"))
}

pub fn set_clinician_figures_allowed(
    conn: &mut DbConnection,
    allowed: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    kv::set(conn, CLINICIAN_FIGURES_KEY, if allowed { "on" } else { "off" }, now)
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Periods recomputed.
    pub periods: usize,
    /// Everything was recomputed.
    pub full: bool,
    /// Another refresh was already running (PostgreSQL); nothing was done.
    pub skipped: bool,
}

/// Brings the cells up to date with every committed change.
///
/// On PostgreSQL the whole refresh is one REPEATABLE READ transaction
/// under an advisory lock, so it reads one consistent snapshot, removes
/// only the queued changes it saw, and never blocks writers. On SQLite each
/// period is recomputed in its own short write transaction, and queued
/// changes are removed only after the periods they name were recomputed.
pub fn refresh(conn: &mut DbConnection, tz: Tz, now: NaiveDateTime) -> Result<Refreshed, StoreError> {
    match conn {
        DbConnection::Postgres(_) => {
            let refreshed = conn.write_transaction(|conn| {
                conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")?;
                if !try_refresh_lock(conn)? {
                    return Ok(Refreshed {
                        skipped: true,
                        ..Refreshed::default()
                    });
                }
                refresh_now(conn, tz, now)
            })?;
            if refreshed.full {
                // A full recompute leaves the whole queue as dead rows, which
                // every later look at the queue would wade through until
                // autovacuum came by.
                if let Err(e) = conn.batch_execute("VACUUM ANALYZE insight_dirty, insight_cells, insight_rule_cells") {
                    tracing::warn!("vacuum after recomputing the trends failed: {e}");
                }
            }
            Ok(refreshed)
        }
        DbConnection::Sqlite(_) => refresh_now(conn, tz, now),
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

fn try_refresh_lock(conn: &mut DbConnection) -> Result<bool, StoreError> {
    match conn {
        DbConnection::Postgres(pg) => {
            let row: Locked = diesel::sql_query(format!(
                "SELECT pg_try_advisory_xact_lock({REFRESH_LOCK_KEY}) AS locked"
            ))
            .get_result(pg)?;
            Ok(row.locked)
        }
        DbConnection::Sqlite(_) => Ok(true),
    }
}

fn refresh_now(conn: &mut DbConnection, tz: Tz, now: NaiveDateTime) -> Result<Refreshed, StoreError> {
    let tz_changed = kv::get(conn, TIME_ZONE_KEY)?.as_deref() != Some(tz.name());
    let queued: Vec<(i64, Option<NaiveDateTime>)> = insight_dirty::table
        .order(insight_dirty::id)
        .limit(FULL_REFRESH_AFTER + 1)
        .select((insight_dirty::id, insight_dirty::at))
        .load(conn)?;
    if queued.is_empty() && !tz_changed {
        return Ok(Refreshed::default());
    }
    let full = tz_changed || queued.len() as i64 > FULL_REFRESH_AFTER || queued.iter().any(|(_, at)| at.is_none());
    let context = Context::load(conn)?;
    if full {
        let last_seen: Option<i64> = insight_dirty::table
            .select(diesel::dsl::max(insight_dirty::id))
            .first(conn)?;
        let periods = recompute_all(conn, tz, &context)?;
        conn.write_transaction(|conn| {
            remove_other_periods(conn, &periods)?;
            if let Some(last) = last_seen {
                diesel::delete(insight_dirty::table.filter(insight_dirty::id.le(last))).execute(conn)?;
            }
            kv::set(conn, TIME_ZONE_KEY, tz.name(), now)
        })?;
        return Ok(Refreshed {
            periods: periods.len(),
            full: true,
            skipped: false,
        });
    }
    let periods: BTreeSet<Period> = queued
        .iter()
        .filter_map(|(_, at)| *at)
        .flat_map(|at| Grouping::ALL.map(|g| Period::containing(g, at, tz)))
        .collect();
    // One short write transaction per period, so survey answers never wait
    // long; the queued changes go only once every period they name is done.
    for period in &periods {
        conn.write_transaction(|conn| recompute(conn, *period, tz, &context))?;
    }
    let ids: Vec<i64> = queued.iter().map(|(id, _)| *id).collect();
    conn.write_transaction(|conn| {
        for chunk in ids.chunks(CHUNK) {
            diesel::delete(insight_dirty::table.filter(insight_dirty::id.eq_any(chunk))).execute(conn)?;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(Refreshed {
        periods: periods.len(),
        full: false,
        skipped: false,
    })
}

/// What every period's facts are read with: each clinician's team and each
/// questionnaire's cutoff.
struct Context {
    teams: HashMap<i64, Option<i64>>,
    cutoffs: HashMap<i64, Option<(f64, Direction)>>,
}

impl Context {
    fn load(conn: &mut DbConnection) -> Result<Context, StoreError> {
        let teams = staff::table
            .select((staff::id, staff::team_id))
            .load::<(i64, Option<i64>)>(conn)?;
        let definitions: Vec<(i64, String)> = instruments::table
            .select((instruments::id, instruments::definition))
            .load(conn)?;
        let cutoffs = definitions
            .into_iter()
            .map(|(id, json)| {
                let cutoff = InstrumentDefinition::from_json_str(&json)
                    .ok()
                    .and_then(|d| d.cutoff().map(|c| (c, d.direction())));
                (id, cutoff)
            })
            .collect();
        Ok(Context {
            teams: teams.into_iter().collect(),
            cutoffs,
        })
    }

    fn who(&self, client: i64, clinician: i64, instrument: Option<i64>) -> Attribution {
        Attribution {
            client,
            clinician,
            team: self.teams.get(&clinician).copied().flatten(),
            instrument,
        }
    }
}

/// The first and last instant of any fact.
fn data_extent(conn: &mut DbConnection) -> Result<Option<(NaiveDateTime, NaiveDateTime)>, StoreError> {
    use diesel::dsl::{max, min};
    type Bounds = (Option<NaiveDateTime>, Option<NaiveDateTime>);
    let mut known: Vec<Option<NaiveDateTime>> = vec![];
    let (lo, hi): Bounds = appointments::table
        .filter(appointments::status.eq("attended"))
        .select((min(appointments::starts_at), max(appointments::starts_at)))
        .first(conn)?;
    known.extend([lo, hi]);
    let (lo, hi): Bounds = invitations::table
        .select((min(invitations::sent_at), max(invitations::sent_at)))
        .first(conn)?;
    known.extend([lo, hi]);
    let (lo, hi): Bounds = responses::table
        .select((min(responses::submitted_at), max(responses::submitted_at)))
        .first(conn)?;
    known.extend([lo, hi]);
    let (lo, hi): Bounds = alerts::table
        .select((min(alerts::opened_at), max(alerts::opened_at)))
        .first(conn)?;
    known.extend([lo, hi]);
    let known: Vec<NaiveDateTime> = known.into_iter().flatten().collect();
    Ok(known.iter().min().copied().zip(known.iter().max().copied()))
}

/// Recomputes every week and month from the first fact to the last,
/// reading each row once: month by month, with the weeks that straddle two
/// months finished from both. Each period is stored in its own short write
/// transaction. Returns the periods now stored.
fn recompute_all(conn: &mut DbConnection, tz: Tz, context: &Context) -> Result<Vec<Period>, StoreError> {
    let Some((first, last)) = data_extent(conn)? else {
        return Ok(vec![]);
    };
    let mut stored = vec![];
    let mut week = Period::containing(Grouping::Week, first, tz);
    let last_week = Period::containing(Grouping::Week, last, tz);
    let mut month = Period::containing(Grouping::Month, first, tz);
    let last_month = Period::containing(Grouping::Month, last, tz);
    // Facts of weeks not finished yet.
    let mut pending = TimedFacts::default();
    let mut finish_weeks = |conn: &mut DbConnection, pending: &mut TimedFacts, until: Option<NaiveDateTime>| {
        while week <= last_week {
            let (start, end) = week.utc_bounds(tz);
            if until.is_some_and(|until| end > until) {
                break;
            }
            let cells = aggregate(&pending.within(start, end));
            conn.write_transaction(|conn| store_period(conn, week, &cells))?;
            stored.push(week);
            pending.drop_before(end);
            week = week.next();
        }
        Ok::<_, StoreError>(())
    };
    while month <= last_month {
        let (start, end) = month.utc_bounds(tz);
        let facts = load_timed(conn, start, end, context)?;
        let cells = aggregate(&facts.within(start, end));
        conn.write_transaction(|conn| store_period(conn, month, &cells))?;
        pending.append(facts);
        finish_weeks(conn, &mut pending, Some(end))?;
        month = month.next();
    }
    // Nothing lies beyond the last month: the last week is complete too.
    finish_weeks(conn, &mut pending, None)?;
    let mut months: Vec<Period> = vec![];
    let mut m = Period::containing(Grouping::Month, first, tz);
    while m <= last_month {
        months.push(m);
        m = m.next();
    }
    months.extend(stored);
    Ok(months)
}

/// Replaces one period's cells with ones computed from its rows.
fn recompute(conn: &mut DbConnection, period: Period, tz: Tz, context: &Context) -> Result<(), StoreError> {
    let (start, end) = period.utc_bounds(tz);
    let facts = load_timed(conn, start, end, context)?;
    store_period(conn, period, &aggregate(&facts.within(start, end)))
}

/// Facts with the instant that places each in a period.
#[derive(Default)]
struct TimedFacts {
    sessions: Vec<(NaiveDateTime, SessionFact)>,
    invitations: Vec<(NaiveDateTime, InvitationFact)>,
    responses: Vec<(NaiveDateTime, ResponseFact)>,
    alerts: Vec<(NaiveDateTime, AlertFact)>,
}

impl TimedFacts {
    /// The facts from `start` and before `end`.
    fn within(&self, start: NaiveDateTime, end: NaiveDateTime) -> PeriodFacts {
        fn pick<T: Clone>(facts: &[(NaiveDateTime, T)], start: NaiveDateTime, end: NaiveDateTime) -> Vec<T> {
            facts
                .iter()
                .filter(|(at, _)| start <= *at && *at < end)
                .map(|(_, f)| f.clone())
                .collect()
        }
        PeriodFacts {
            sessions: pick(&self.sessions, start, end),
            invitations: pick(&self.invitations, start, end),
            responses: pick(&self.responses, start, end),
            alerts: pick(&self.alerts, start, end),
        }
    }

    fn append(&mut self, mut other: TimedFacts) {
        self.sessions.append(&mut other.sessions);
        self.invitations.append(&mut other.invitations);
        self.responses.append(&mut other.responses);
        self.alerts.append(&mut other.alerts);
    }

    fn drop_before(&mut self, t: NaiveDateTime) {
        self.sessions.retain(|(at, _)| *at >= t);
        self.invitations.retain(|(at, _)| *at >= t);
        self.responses.retain(|(at, _)| *at >= t);
        self.alerts.retain(|(at, _)| *at >= t);
    }
}

/// alert, client, clinician, opened, outcome, recovered at session
type AlertRow = (i64, i64, i64, NaiveDateTime, Option<String>, Option<i32>);
/// sent, client, clinician, questionnaire, status
type SentRow = (Option<NaiveDateTime>, i64, i64, i64, String);
/// submitted, client, clinician, questionnaire, total, 0–100 score
type AnswerRow = (NaiveDateTime, i64, i64, i64, Option<f64>, Option<f64>);
/// client, questionnaire, appointment, submitted, answers, total, 0–100 score
type ResearchSource = (i64, i64, i64, NaiveDateTime, String, Option<f64>, Option<f64>);

/// Every fact whose instant lies from `start` and before `end`.
fn load_timed(
    conn: &mut DbConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    context: &Context,
) -> Result<TimedFacts, StoreError> {
    let mut facts = TimedFacts::default();

    let sessions: Vec<(NaiveDateTime, i64, i64, Option<i64>)> = appointments::table
        .left_join(invitations::table)
        .filter(appointments::starts_at.ge(start))
        .filter(appointments::starts_at.lt(end))
        .filter(appointments::status.eq("attended"))
        .select((
            appointments::starts_at,
            appointments::client_id,
            appointments::clinician_id,
            invitations::instrument_id.nullable(),
        ))
        .load(conn)?;
    facts.sessions = sessions
        .into_iter()
        .map(|(at, client, clinician, instrument)| {
            (
                at,
                SessionFact {
                    who: context.who(client, clinician, instrument),
                },
            )
        })
        .collect();

    let sent: Vec<SentRow> = invitations::table
        .inner_join(appointments::table)
        .filter(invitations::sent_at.ge(start))
        .filter(invitations::sent_at.lt(end))
        .select((
            invitations::sent_at,
            invitations::client_id,
            appointments::clinician_id,
            invitations::instrument_id,
            invitations::status,
        ))
        .load(conn)?;
    facts.invitations = sent
        .into_iter()
        .filter_map(|(at, client, clinician, instrument, status)| {
            let fact = InvitationFact {
                who: context.who(client, clinician, Some(instrument)),
                state: match status.as_str() {
                    "answered" => InvitationState::Answered,
                    "expired" => InvitationState::Expired,
                    _ => InvitationState::Open,
                },
            };
            at.map(|at| (at, fact))
        })
        .collect();

    let answered: Vec<AnswerRow> = responses::table
        .inner_join(invitations::table.inner_join(appointments::table))
        .filter(responses::submitted_at.ge(start))
        .filter(responses::submitted_at.lt(end))
        .select((
            responses::submitted_at,
            responses::client_id,
            appointments::clinician_id,
            responses::instrument_id,
            responses::total,
            responses::common_score,
        ))
        .load(conn)?;
    facts.responses = answered
        .into_iter()
        .map(|(at, client, clinician, instrument, total, common)| {
            let cutoff = context.cutoffs.get(&instrument).copied().flatten();
            let fact = ResponseFact {
                who: context.who(client, clinician, Some(instrument)),
                total,
                common,
                low: total
                    .zip(cutoff)
                    .map(|(t, (c, direction))| direction.is_past_cutoff(t, c)),
            };
            (at, fact)
        })
        .collect();

    facts.alerts = load_alerts(conn, start, end, context)?;
    Ok(facts)
}

fn load_alerts(
    conn: &mut DbConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    context: &Context,
) -> Result<Vec<(NaiveDateTime, AlertFact)>, StoreError> {
    let opened: Vec<AlertRow> = alerts::table
        .filter(alerts::opened_at.ge(start))
        .filter(alerts::opened_at.lt(end))
        .select((
            alerts::id,
            alerts::client_id,
            alerts::clinician_id,
            alerts::opened_at,
            alerts::outcome,
            alerts::recovered_at_session,
        ))
        .load(conn)?;
    if opened.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<i64> = opened.iter().map(|a| a.0).collect();
    let mut clients: Vec<i64> = opened.iter().map(|a| a.1).collect();
    clients.sort_unstable();
    clients.dedup();
    let mut rules: HashMap<i64, Vec<String>> = HashMap::new();
    let mut acknowledged: HashMap<i64, NaiveDateTime> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let signal_rules: Vec<(i64, String)> = alert_signals::table
            .filter(alert_signals::alert_id.eq_any(chunk))
            .select((alert_signals::alert_id, alert_signals::rule))
            .distinct()
            .load(conn)?;
        for (id, rule) in signal_rules {
            rules.entry(id).or_default().push(rule);
        }
        let first_acks: Vec<(i64, Option<NaiveDateTime>)> = alert_events::table
            .filter(alert_events::alert_id.eq_any(chunk))
            .filter(alert_events::kind.eq("acknowledged"))
            .group_by(alert_events::alert_id)
            .select((alert_events::alert_id, diesel::dsl::min(alert_events::created_at)))
            .load(conn)?;
        acknowledged.extend(first_acks.into_iter().filter_map(|(id, at)| at.map(|at| (id, at))));
    }
    // An alert belongs to the questionnaire of the last invitation sent to
    // its client before it opened.
    let mut sent_by_client: HashMap<i64, Vec<(NaiveDateTime, i64)>> = HashMap::new();
    for chunk in clients.chunks(CHUNK) {
        let sent: Vec<(i64, Option<NaiveDateTime>, i64)> = invitations::table
            .filter(invitations::client_id.eq_any(chunk))
            .filter(invitations::sent_at.is_not_null())
            .filter(invitations::sent_at.lt(end))
            .select((invitations::client_id, invitations::sent_at, invitations::instrument_id))
            .load(conn)?;
        for (client, at, instrument) in sent {
            if let Some(at) = at {
                sent_by_client.entry(client).or_default().push((at, instrument));
            }
        }
    }
    Ok(opened
        .into_iter()
        .map(|(id, client, clinician, opened_at, outcome, recovered)| {
            let instrument = sent_by_client
                .get(&client)
                .and_then(|sent| sent.iter().filter(|(at, _)| *at <= opened_at).max_by_key(|(at, _)| *at))
                .map(|(_, instrument)| *instrument);
            let hours = acknowledged
                .get(&id)
                .map(|at| ((*at - opened_at).num_seconds() as f64 / 3600.0).max(0.0));
            let fact = AlertFact {
                who: context.who(client, clinician, instrument),
                rules: rules.remove(&id).unwrap_or_default(),
                hours_to_acknowledge: hours,
                outcome: outcome.as_deref().and_then(Outcome::parse),
                recovered: recovered.is_some(),
            };
            (opened_at, fact)
        })
        .collect())
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = insight_cells)]
struct CellRow {
    period_kind: String,
    breakdown: String,
    period_start: NaiveDate,
    group_id: i64,
    invitations_sent: i64,
    invitation_clients: i64,
    invitations_closed: i64,
    invitations_answered: i64,
    closed_clients: i64,
    scored: i64,
    scored_clients: i64,
    total_sum: f64,
    common_sum: f64,
    native_instrument_id: Option<i64>,
    cutoff_scored: i64,
    low_scores: i64,
    cutoff_clients: i64,
    sessions: i64,
    session_clients: i64,
    alerts: i64,
    alert_clients: i64,
    recovered: i64,
    acknowledged: i64,
    acknowledged_clients: i64,
    median_hours_to_acknowledge: Option<f64>,
    with_outcome: i64,
    repaired: i64,
    outcome_clients: i64,
}

impl CellRow {
    fn new(period: Period, key: GroupKey, c: &Cell) -> CellRow {
        CellRow {
            period_kind: period.grouping.as_str().to_string(),
            breakdown: key.breakdown.as_str().to_string(),
            period_start: period.start,
            group_id: key.id,
            invitations_sent: c.invitations_sent,
            invitation_clients: c.invitation_clients,
            invitations_closed: c.invitations_closed,
            invitations_answered: c.invitations_answered,
            closed_clients: c.closed_clients,
            scored: c.scored,
            scored_clients: c.scored_clients,
            total_sum: c.total_sum,
            common_sum: c.common_sum,
            native_instrument_id: c.native_instrument,
            cutoff_scored: c.cutoff_scored,
            low_scores: c.low_scores,
            cutoff_clients: c.cutoff_clients,
            sessions: c.sessions,
            session_clients: c.session_clients,
            alerts: c.alerts,
            alert_clients: c.alert_clients,
            recovered: c.recovered,
            acknowledged: c.acknowledged,
            acknowledged_clients: c.acknowledged_clients,
            median_hours_to_acknowledge: c.median_hours_to_acknowledge,
            with_outcome: c.with_outcome,
            repaired: c.repaired,
            outcome_clients: c.outcome_clients,
        }
    }

    fn cell(self) -> Cell {
        Cell {
            invitations_sent: self.invitations_sent,
            invitation_clients: self.invitation_clients,
            invitations_closed: self.invitations_closed,
            invitations_answered: self.invitations_answered,
            closed_clients: self.closed_clients,
            scored: self.scored,
            scored_clients: self.scored_clients,
            total_sum: self.total_sum,
            common_sum: self.common_sum,
            native_instrument: self.native_instrument_id,
            cutoff_scored: self.cutoff_scored,
            low_scores: self.low_scores,
            cutoff_clients: self.cutoff_clients,
            sessions: self.sessions,
            session_clients: self.session_clients,
            alerts: self.alerts,
            alert_clients: self.alert_clients,
            recovered: self.recovered,
            acknowledged: self.acknowledged,
            acknowledged_clients: self.acknowledged_clients,
            median_hours_to_acknowledge: self.median_hours_to_acknowledge,
            with_outcome: self.with_outcome,
            repaired: self.repaired,
            outcome_clients: self.outcome_clients,
            rules: BTreeMap::new(),
        }
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = insight_rule_cells)]
struct RuleCellRow {
    period_kind: String,
    breakdown: String,
    period_start: NaiveDate,
    group_id: i64,
    rule: String,
    alerts: i64,
    alert_clients: i64,
    with_outcome: i64,
    not_a_rupture: i64,
    outcome_clients: i64,
}

fn store_period(conn: &mut DbConnection, period: Period, cells: &BTreeMap<GroupKey, Cell>) -> Result<(), StoreError> {
    let kind = period.grouping.as_str();
    diesel::delete(
        insight_cells::table
            .filter(insight_cells::period_kind.eq(kind))
            .filter(insight_cells::period_start.eq(period.start)),
    )
    .execute(conn)?;
    diesel::delete(
        insight_rule_cells::table
            .filter(insight_rule_cells::period_kind.eq(kind))
            .filter(insight_rule_cells::period_start.eq(period.start)),
    )
    .execute(conn)?;
    let rows: Vec<CellRow> = cells
        .iter()
        .map(|(key, cell)| CellRow::new(period, *key, cell))
        .collect();
    for chunk in rows.chunks(500) {
        // Multi-row inserts go through the backend's own connection: the
        // MultiConnection does not build them for SQLite.
        match conn {
            DbConnection::Postgres(pg) => diesel::insert_into(insight_cells::table).values(chunk).execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(insight_cells::table).values(chunk).execute(lite)?,
        };
    }
    let rule_rows: Vec<RuleCellRow> = cells
        .iter()
        .flat_map(|(key, cell)| {
            cell.rules.iter().map(move |(rule, r)| RuleCellRow {
                period_kind: kind.to_string(),
                breakdown: key.breakdown.as_str().to_string(),
                period_start: period.start,
                group_id: key.id,
                rule: rule.clone(),
                alerts: r.alerts,
                alert_clients: r.alert_clients,
                with_outcome: r.with_outcome,
                not_a_rupture: r.not_a_rupture,
                outcome_clients: r.outcome_clients,
            })
        })
        .collect();
    for chunk in rule_rows.chunks(1000) {
        match conn {
            DbConnection::Postgres(pg) => diesel::insert_into(insight_rule_cells::table)
                .values(chunk)
                .execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(insight_rule_cells::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(())
}

/// After a full recompute: drops cells of periods that no longer hold any fact.
fn remove_other_periods(conn: &mut DbConnection, keep: &[Period]) -> Result<(), StoreError> {
    let keep: BTreeSet<(String, NaiveDate)> = keep
        .iter()
        .map(|p| (p.grouping.as_str().to_string(), p.start))
        .collect();
    let mut stored: BTreeSet<(String, NaiveDate)> = insight_cells::table
        .select((insight_cells::period_kind, insight_cells::period_start))
        .distinct()
        .load::<(String, NaiveDate)>(conn)?
        .into_iter()
        .collect();
    stored.extend(
        insight_rule_cells::table
            .select((insight_rule_cells::period_kind, insight_rule_cells::period_start))
            .distinct()
            .load::<(String, NaiveDate)>(conn)?,
    );
    for (kind, start) in stored.difference(&keep) {
        diesel::delete(
            insight_cells::table
                .filter(insight_cells::period_kind.eq(kind))
                .filter(insight_cells::period_start.eq(start)),
        )
        .execute(conn)?;
        diesel::delete(
            insight_rule_cells::table
                .filter(insight_rule_cells::period_kind.eq(kind))
                .filter(insight_rule_cells::period_start.eq(start)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// The stored cells of one breakdown for a range of periods, with their
/// per-rule figures when `with_rules`: (period, group id, cell).
pub fn cells(
    conn: &mut DbConnection,
    grouping: Grouping,
    breakdown: Breakdown,
    first: Period,
    last: Period,
    with_rules: bool,
) -> Result<Vec<(Period, i64, Cell)>, StoreError> {
    let rows: Vec<CellRow> = insight_cells::table
        .filter(insight_cells::period_kind.eq(grouping.as_str()))
        .filter(insight_cells::breakdown.eq(breakdown.as_str()))
        .filter(insight_cells::period_start.ge(first.start))
        .filter(insight_cells::period_start.le(last.start))
        .order((insight_cells::period_start, insight_cells::group_id))
        .select(CellRow::as_select())
        .load(conn)?;
    if !with_rules {
        return Ok(rows
            .into_iter()
            .map(|row| {
                (
                    Period {
                        grouping,
                        start: row.period_start,
                    },
                    row.group_id,
                    row.cell(),
                )
            })
            .collect());
    }
    let rule_rows: Vec<RuleCellRow> = insight_rule_cells::table
        .filter(insight_rule_cells::period_kind.eq(grouping.as_str()))
        .filter(insight_rule_cells::breakdown.eq(breakdown.as_str()))
        .filter(insight_rule_cells::period_start.ge(first.start))
        .filter(insight_rule_cells::period_start.le(last.start))
        .select(RuleCellRow::as_select())
        .load(conn)?;
    let mut out: BTreeMap<(NaiveDate, i64), Cell> = rows
        .into_iter()
        .map(|row| ((row.period_start, row.group_id), row.cell()))
        .collect();
    for r in rule_rows {
        if let Some(cell) = out.get_mut(&(r.period_start, r.group_id)) {
            cell.rules.insert(
                r.rule,
                RuleCell {
                    alerts: r.alerts,
                    alert_clients: r.alert_clients,
                    with_outcome: r.with_outcome,
                    not_a_rupture: r.not_a_rupture,
                    outcome_clients: r.outcome_clients,
                },
            );
        }
    }
    Ok(out
        .into_iter()
        .map(|((start, group), cell)| (Period { grouping, start }, group, cell))
        .collect())
}

/// Attended sessions over the whole history, from the monthly cells (as
/// fresh as the last refresh).
pub fn sessions_recorded(conn: &mut DbConnection) -> Result<i64, StoreError> {
    let monthly: Vec<i64> = insight_cells::table
        .filter(insight_cells::period_kind.eq(Grouping::Month.as_str()))
        .filter(insight_cells::breakdown.eq(Breakdown::Clinic.as_str()))
        .select(insight_cells::sessions)
        .load(conn)?;
    Ok(monthly.into_iter().sum())
}

/// The names of a breakdown's groups, by id.
pub fn group_names(conn: &mut DbConnection, breakdown: Breakdown) -> Result<BTreeMap<i64, String>, StoreError> {
    Ok(match breakdown {
        Breakdown::Clinic => BTreeMap::from([(0, "Whole clinic".to_string())]),
        Breakdown::Team => {
            let mut names: BTreeMap<i64, String> = teams::table
                .select((teams::id, teams::name))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .collect();
            names.insert(NO_TEAM, "No team".to_string());
            names
        }
        Breakdown::Instrument => instruments::table
            .select((instruments::id, instruments::title, instruments::version))
            .load::<(i64, String, i32)>(conn)?
            .into_iter()
            .map(|(id, title, version)| (id, format!("{title} (version {version})")))
            .collect(),
        Breakdown::Clinician => staff::table
            .select((staff::id, staff::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect(),
    })
}

/// Everything the dashboard draws, fresh.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub refreshed: Refreshed,
    /// The chosen breakdown's cells.
    pub cells: Vec<(Period, i64, Cell)>,
    pub names: BTreeMap<i64, String>,
    /// The whole clinic's cells, for the summary.
    pub clinic: Vec<(Period, Cell)>,
    /// Every clinician's cells, for the anonymous spread only.
    pub clinicians: Vec<(Period, Cell)>,
}

pub fn dashboard(
    conn: &mut DbConnection,
    tz: Tz,
    selection: &Selection,
    now: NaiveDateTime,
) -> Result<Dashboard, StoreError> {
    let refreshed = refresh(conn, tz, now)?;
    let range = |conn: &mut DbConnection, breakdown, with_rules| {
        cells(
            conn,
            selection.grouping,
            breakdown,
            selection.first,
            selection.last,
            with_rules,
        )
    };
    let chosen = range(conn, selection.breakdown, true)?;
    let clinic = range(conn, Breakdown::Clinic, false)?
        .into_iter()
        .map(|(p, _, c)| (p, c))
        .collect();
    // For the anonymous spread only: no rules, no names.
    let clinicians = range(conn, Breakdown::Clinician, false)?
        .into_iter()
        .map(|(p, _, c)| (p, c))
        .collect();
    let names = group_names(conn, selection.breakdown)?;
    Ok(Dashboard {
        refreshed,
        cells: chosen,
        names,
        clinic,
        clinicians,
    })
}

/// One answer for the research export: no name, email, or free text.
#[derive(Debug, Clone)]
pub struct ResearchRow {
    pub client_id: i64,
    pub instrument_id: i64,
    /// The client's nth attended session (None if the appointment is no
    /// longer marked attended).
    pub session: Option<u32>,
    pub submitted_at: NaiveDateTime,
    /// The answers as JSON (the free text is never in this column).
    pub answers: String,
    pub total: Option<f64>,
    pub common_score: Option<f64>,
}

/// The answers submitted from `since` and before `until` (either open),
/// oldest first. Clients whose records were erased are left out: their
/// scores stay in the aggregate figures only, never row by row.
pub fn research_rows(
    conn: &mut DbConnection,
    since: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
) -> Result<Vec<ResearchRow>, StoreError> {
    let mut q = responses::table
        .inner_join(invitations::table.inner_join(clients::table))
        .filter(clients::erased_at.is_null())
        .into_boxed();
    if let Some(since) = since {
        q = q.filter(responses::submitted_at.ge(since));
    }
    if let Some(until) = until {
        q = q.filter(responses::submitted_at.lt(until));
    }
    let rows: Vec<ResearchSource> = q
        .order((responses::submitted_at, responses::id))
        .select((
            responses::client_id,
            responses::instrument_id,
            invitations::appointment_id,
            responses::submitted_at,
            responses::answers,
            responses::total,
            responses::common_score,
        ))
        .load(conn)?;
    let attended: Vec<(i64, i64, NaiveDateTime)> = appointments::table
        .filter(appointments::status.eq("attended"))
        .select((appointments::client_id, appointments::id, appointments::starts_at))
        .load(conn)?;
    let numbers = crate::domain::trends::research::session_numbers(&attended);
    Ok(rows
        .into_iter()
        .map(
            |(client_id, instrument_id, appointment, submitted_at, answers, total, common_score)| ResearchRow {
                client_id,
                instrument_id,
                session: numbers.get(&appointment).copied(),
                submitted_at,
                answers,
                total,
                common_score,
            },
        )
        .collect())
}
