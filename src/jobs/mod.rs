//! The job loop: expiry of unanswered invitations (and what the engine
//! makes of the silence), and the outbox. `rapport serve` runs it beside
//! the web server; `rapport jobs` runs it alone; several may run at once.

use std::time::Duration;

use tokio::sync::watch;

use crate::mail::dispatcher::{self, Round};
use crate::store::{StoreError, invitations};
use crate::web::AppState;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub expired: usize,
    pub mail: Round,
}

/// One pass over all due work. Tests call this after moving the clock.
pub async fn run_once(state: &AppState) -> Result<Pass, StoreError> {
    let now = state.now();
    let pool = state.pool.clone();
    let expired = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        invitations::expire_due(&mut conn, now)
    })
    .await
    .map_err(|e| StoreError::Pool(e.to_string()))??;
    let mail = dispatcher::dispatch_due(state).await?;
    Ok(Pass { expired: expired.len(), mail })
}

/// Runs passes every `interval` until `stop` turns true.
pub async fn run_forever(state: AppState, interval: Duration, mut stop: watch::Receiver<bool>) {
    tracing::info!("job loop started (every {} s)", interval.as_secs());
    loop {
        match run_once(&state).await {
            Ok(pass) if pass.expired > 0 || pass.mail.total() > 0 => tracing::info!(
                expired = pass.expired,
                sent = pass.mail.sent,
                retrying = pass.mail.retrying,
                failed = pass.mail.failed,
                cancelled = pass.mail.cancelled,
                "job pass"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "job pass failed; will try again"),
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
