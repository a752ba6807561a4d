//! The job loop: expiry of unanswered invitations (and what the engine
//! makes of the silence), the clinicians' daily digest, retention (when
//! set), and the outbox (email and webhooks).
//! `rapport serve` runs it beside the web server; `rapport jobs` runs it
//! alone; several may run at once.
//!
//! May import `context`, `mail`, `actions`, `store`, `domain` and `config`;
//! never `web` or `cli`.

use crate::store::ClientId;
use std::time::Duration;

use chrono::NaiveTime;
use tokio::sync::watch;

use crate::actions;
use crate::mail::dispatcher::{self, Round};

use crate::context::Context;
use crate::store::{StoreError, alerts, erasure, invitations, kv, trends};

/// The digest goes out once a day from this local time (clinic time zone).
pub const DIGEST_AT: u32 = 8;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub expired: usize,
    pub digests: usize,
    /// Clients erased because the retention period ran out (once a day).
    pub erased: usize,
    pub mail: Round,
    /// Trend periods recomputed for the managers' dashboard.
    pub trend_periods: usize,
}

/// The steps of a pass, by name (in the log when one fails).
const STEPS: [&str; 6] = ["expiry", "digest", "retention", "outbox", "rules", "trends"];

/// What went wrong in the steps of one pass: each step runs whatever the
/// others did, so a failing trend refresh never holds up email.
#[derive(Debug, Default)]
pub struct StepFailures(pub Vec<(&'static str, String)>);

impl std::fmt::Display for StepFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(step, e)| format!("{step}: {e}")).collect();
        f.write_str(&parts.join("; "))
    }
}

/// Runs one step, turning an error or a panic into a logged failure.
async fn step<T: Default>(
    failures: &mut StepFailures,
    name: &'static str,
    work: impl std::future::Future<Output = Result<T, StoreError>>,
) -> T {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            failures.0.push((name, e.to_string()));
            T::default()
        }
        Err(panic) => {
            failures
                .0
                .push((name, format!("panicked: {}", panic_text(panic.as_ref()))));
            T::default()
        }
    }
}

/// What a panic said (its `&str` or `String` payload).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// One pass over all due work. Tests call this after moving the clock.
/// Every step runs; the failures of any are returned beside what the
/// others did.
pub async fn run_once(state: &Context) -> Result<Pass, StepFailures> {
    let pass = run_steps(state).await;
    if pass.1.0.is_empty() { Ok(pass.0) } else { Err(pass.1) }
}

async fn run_steps(state: &Context) -> (Pass, StepFailures) {
    let now = state.now();
    let mut failures = StepFailures::default();
    let expired = step(
        &mut failures,
        STEPS[0],
        state.db_mailing(move |conn, mailing| {
            let expired = invitations::expire_due(conn, now)?;
            // Silence is information: let the engine weigh each non-response.
            let mut clients: Vec<ClientId> = expired
                .iter()
                .filter(|i| i.sent_at.is_some())
                .map(|i| i.client_id)
                .collect();
            clients.sort_unstable();
            clients.dedup();
            for client_id in clients {
                actions::alerts::evaluate_client_by_id(conn, client_id, mailing, now)?;
            }
            Ok(expired.len())
        }),
    )
    .await;
    let local = now.and_utc().with_timezone(&state.settings.time_zone);
    let digests = if local.time() >= NaiveTime::from_hms_opt(DIGEST_AT, 0, 0).unwrap_or_default() {
        let day = local.date_naive().to_string();
        step(
            &mut failures,
            STEPS[1],
            state.db_mailing(move |conn, mailing| {
                if kv::claim_daily(conn, "jobs.last_digest_day", &day, now)? {
                    alerts::send_digests(conn, mailing, now)
                } else {
                    Ok(0)
                }
            }),
        )
        .await
    } else {
        0
    };
    let server_days = state.settings.retention_days;
    let day = local.date_naive().to_string();
    let erased = step(
        &mut failures,
        STEPS[2],
        state.db_mailing(move |conn, _| match erasure::retention_days(conn, server_days)? {
            Some(days) if kv::claim_daily(conn, "jobs.last_retention_day", &day, now)? => {
                actions::clients::apply_retention(conn, days, now)
            }
            _ => Ok(0),
        }),
    )
    .await;
    let mail = step(&mut failures, STEPS[3], dispatcher::dispatch_due(&state.outbound())).await;
    // After a change of rules, stored alerts are brought up to date a chunk
    // a pass (before the trends, which then count them anew).
    step(
        &mut failures,
        STEPS[4],
        state.db_mailing(move |conn, mailing| actions::alerts::reevaluate_after_rule_change(conn, mailing, now)),
    )
    .await;
    // Last, so a long first recompute never holds up email: the managers'
    // figures for the periods that changed since the last pass.
    let tz = state.settings.time_zone;
    let trend_periods = step(
        &mut failures,
        STEPS[5],
        state.db_mailing(move |conn, _| trends::refresh(conn, tz, now).map(|r| r.periods)),
    )
    .await;
    (
        Pass {
            trend_periods,
            expired,
            digests,
            erased,
            mail,
        },
        failures,
    )
}

/// Runs passes every `interval` until `stop` turns true.
pub async fn run_forever(state: Context, interval: Duration, mut stop: watch::Receiver<bool>) {
    tracing::info!("job loop started (every {} s)", interval.as_secs());
    // A step that keeps failing the same way is logged when it starts and
    // when it stops, not on every pass.
    let mut failing: std::collections::BTreeMap<&'static str, String> = Default::default();
    loop {
        let (pass, failures) = run_steps(&state).await;
        for (name, error) in &failures.0 {
            if failing.get(name) != Some(error) {
                tracing::error!(step = name, error = %error, "job step failed; the other steps ran, and it will be tried again each pass");
                failing.insert(name, error.clone());
            }
        }
        failing.retain(|name, _| {
            let still = failures.0.iter().any(|(n, _)| n == name);
            if !still {
                tracing::info!(step = name, "job step works again");
            }
            still
        });
        if pass.expired > 0 || pass.digests > 0 || pass.erased > 0 || pass.trend_periods > 0 || pass.mail.total() > 0 {
            tracing::info!(
                expired = pass.expired,
                digests = pass.digests,
                erased = pass.erased,
                sent = pass.mail.sent,
                retrying = pass.mail.retrying,
                failed = pass.mail.failed,
                cancelled = pass.mail.cancelled,
                trend_periods = pass.trend_periods,
                "job pass"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("job loop stopped");
}
