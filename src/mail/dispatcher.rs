//! The outbox dispatcher: claims due rows, renders and sends them (email
//! over the mail transport, webhook events over HTTPS), and records the
//! outcome. Safe with several runners (rows are leased), and
//! at-least-once: a crash between send and record means a resend with the
//! same Message-ID, never a loss.

use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use rand::Rng;

use super::{SendError, templates, webhook};
use crate::store::outbox::{self, Kind, OutboxRow, Payload};
use crate::store::{StoreError, clients, invitations, kv, webhooks};
use crate::web::AppState;

/// Rows claimed per round.
pub const BATCH: i64 = 50;
/// Sends in flight at once: one per pooled SMTP connection.
const CONCURRENCY: usize = super::SMTP_CONNECTIONS as usize;
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
pub async fn dispatch_due(state: &AppState) -> Result<Round, StoreError> {
    let mut round = Round::default();
    let now = state.now();
    blocking(state, move |conn| outbox::release_outlived_leases(conn, now)).await?;
    loop {
        let now = state.now();
        let rows = blocking(state, move |conn| outbox::claim_due(conn, now, BATCH)).await?;
        if rows.is_empty() {
            return Ok(round);
        }
        let claimed = rows.len();
        let outcomes: Vec<Result<Outcome, StoreError>> =
            futures_util::stream::iter(rows.into_iter().map(|row| deliver(state, row)))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        for outcome in outcomes {
            round.add(outcome?);
        }
        if (claimed as i64) < BATCH {
            return Ok(round);
        }
    }
}

/// Records what happened to a sent message, trying again for up to about
/// ten seconds while the database is briefly unavailable.
async fn outcome_recorded(
    state: &AppState,
    f: impl Fn(&mut crate::store::DbConnection) -> Result<(), StoreError> + Send + Sync + Clone + 'static,
) -> Result<(), StoreError> {
    let mut wait = StdDuration::from_millis(100);
    for _ in 0..8 {
        match blocking(state, f.clone()).await {
            Err(e) if e.is_storage_fault() || matches!(e, StoreError::Pool(_) | StoreError::Unreachable(_)) => {
                tracing::warn!(error = %e, "could not record a sent message yet; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(StdDuration::from_secs(3));
            }
            other => return other,
        }
    }
    blocking(state, f).await
}

async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut crate::store::DbConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|e| StoreError::Pool(e.to_string()))?
}

/// What to send for a row, or why not.
enum Prepared {
    Send { to: String, rendered: templates::Rendered },
    Post(webhook::Delivery),
    Cancel(&'static str),
    Fail(String),
}

async fn deliver(state: &AppState, row: OutboxRow) -> Result<Outcome, StoreError> {
    let id = row.id;
    let prepared = prepare(state, &row).await?;
    let result = match prepared {
        Prepared::Send { to, rendered } => {
            let built = templates::build(&state.settings.mail_from, &to, &row.message_id, &rendered).and_then(|m| {
                let formatted = m.formatted();
                let signed = match &state.dkim {
                    Some(dkim) => dkim.sign(&formatted)?,
                    None => formatted,
                };
                Ok((m.envelope().clone(), signed))
            });
            let (envelope, message) = match built {
                Ok(built) => built,
                Err(reason) => {
                    blocking(state, move |conn| outbox::mark_failed(conn, id, &reason)).await?;
                    return Ok(Outcome::Failed);
                }
            };
            let limit = StdDuration::from_secs(state.settings.smtp_timeout_seconds);
            state.mailer.send(&envelope, &message, limit).await
        }
        Prepared::Post(delivery) => webhook::post(&delivery, state.now().and_utc().timestamp()).await,
        Prepared::Cancel(reason) => {
            blocking(state, move |conn| outbox::mark_cancelled(conn, id, reason)).await?;
            return Ok(Outcome::Cancelled);
        }
        Prepared::Fail(reason) => {
            tracing::warn!(outbox_id = id, "message cannot be sent: {}", for_log(&reason));
            blocking(state, move |conn| outbox::mark_failed(conn, id, &reason)).await?;
            return Ok(Outcome::Failed);
        }
    };
    let now = state.now();
    let kind = Kind::parse(&row.kind);
    let invitation_id = row.invitation_id;
    let attempts = row.attempts;
    match result {
        Ok(()) => {
            // The message is out: recording it must survive a short database
            // outage (a PostgreSQL restart), or it would be sent again.
            outcome_recorded(state, move |conn| {
                conn.write_transaction(|conn| {
                    outbox::mark_sent(conn, id, now)?;
                    match (kind, invitation_id) {
                        (Some(Kind::Invitation), Some(inv)) => invitations::mark_sent(conn, inv, now),
                        (Some(Kind::Reminder), Some(inv)) => invitations::mark_reminded(conn, inv, now),
                        _ => Ok(()),
                    }
                })
            })
            .await?;
            tracing::info!(outbox_id = id, kind = %row.kind, "sent");
            Ok(Outcome::Sent)
        }
        Err(SendError::Permanent(reason)) => {
            tracing::warn!(outbox_id = id, kind = %row.kind, "refused by the receiving server: {}", for_log(&reason));
            blocking(state, move |conn| outbox::mark_failed(conn, id, &reason)).await?;
            Ok(Outcome::Failed)
        }
        Err(SendError::Transient(reason)) if attempts + 1 >= MAX_ATTEMPTS => {
            let reason = format!("gave up after {} attempts; last error: {reason}", attempts + 1);
            tracing::warn!(outbox_id = id, kind = %row.kind, "{}", for_log(&reason));
            blocking(state, move |conn| outbox::mark_failed(conn, id, &reason)).await?;
            Ok(Outcome::Failed)
        }
        Err(SendError::Transient(reason)) => {
            let next = now + backoff(attempts);
            tracing::info!(outbox_id = id, kind = %row.kind, attempt = attempts + 1, "will retry: {}", for_log(&reason));
            blocking(state, move |conn| outbox::mark_retry(conn, id, &reason, next)).await?;
            Ok(Outcome::Retrying)
        }
    }
}

async fn prepare(state: &AppState, row: &OutboxRow) -> Result<Prepared, StoreError> {
    let payload: Payload = match state
        .sealer
        .open(&row.payload)
        .ok()
        .and_then(|p| serde_json::from_str(&p).ok())
    {
        Some(p) => p,
        None => {
            return Ok(Prepared::Fail(
                "the queued message could not be read (was the secret key changed?)".into(),
            ));
        }
    };
    let clinic = state.settings.clinic_name.clone();
    match payload {
        Payload::Survey {
            survey_token,
            unsubscribe_token,
            ..
        } => {
            let Some(invitation_id) = row.invitation_id else {
                return Ok(Prepared::Fail("a survey email without its invitation".into()));
            };
            let (invitation, client) = blocking(state, move |conn| {
                let invitation = invitations::find(conn, invitation_id)?;
                let client = clients::find(conn, invitation.client_id)?;
                Ok((invitation, client))
            })
            .await?;
            if !invitation.status().is_open() {
                return Ok(Prepared::Cancel("the invitation is no longer open"));
            }
            if client.opted_out || client.erased_at.is_some() {
                return Ok(Prepared::Cancel("the client asked not to receive these emails"));
            }
            if client.invitations_paused {
                return Ok(Prepared::Cancel("invitations are paused for this client"));
            }
            // The current address: an admin may have corrected it since.
            let Some(to) = client.email.clone().filter(|e| !e.is_empty()) else {
                return Ok(Prepared::Cancel("the client has no email address"));
            };
            let tz = client
                .time_zone
                .as_deref()
                .and_then(|z| z.parse().ok())
                .unwrap_or(state.settings.time_zone);
            let open_until = local_deadline(invitation.expires_at, tz);
            let rendered = templates::survey(
                &clinic,
                &state.settings.link(&format!("/s/{survey_token}")),
                &state.settings.link(&format!("/u/{unsubscribe_token}")),
                &open_until,
                row.kind == Kind::Reminder.as_str(),
            );
            Ok(Prepared::Send { to, rendered })
        }
        Payload::AlertNotice { alerts } | Payload::AlertDigest { alerts } => {
            let digest = row.kind == Kind::AlertDigest.as_str();
            let rendered = templates::alert_notice(&clinic, &state.settings.link("/sign-in"), alerts, digest);
            Ok(Prepared::Send {
                to: row.recipient.clone(),
                rendered,
            })
        }
        Payload::Webhook {
            endpoint_id,
            event,
            body,
        } => {
            let found = blocking(state, move |conn| {
                Ok((
                    webhooks::find(conn, endpoint_id)?,
                    kv::flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS)?,
                ))
            })
            .await;
            let (endpoint, allow_private) = match found {
                Ok(e) => e,
                Err(StoreError::NotFound) => return Ok(Prepared::Cancel("the webhook endpoint was removed")),
                Err(e) => return Err(e),
            };
            if !endpoint.active {
                return Ok(Prepared::Cancel("the webhook endpoint is disabled"));
            }
            let Ok(secret) = endpoint.secret(&state.sealer) else {
                return Ok(Prepared::Fail(
                    "the endpoint's signing secret could not be read (was the secret key changed?)".into(),
                ));
            };
            let delivery_id = row.message_id.trim_matches(['<', '>']).to_string();
            Ok(Prepared::Post(webhook::Delivery {
                url: endpoint.url,
                secret,
                event,
                delivery_id,
                body,
                allow_private,
            }))
        }
    }
}

fn local_deadline(at: NaiveDateTime, tz: chrono_tz::Tz) -> String {
    at.and_utc().with_timezone(&tz).format("%A %-d %B at %H:%M").to_string()
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
