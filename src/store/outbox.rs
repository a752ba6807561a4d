//! The outbox: every email (and webhook) is a row written in the same
//! transaction as the change that causes it, then sent by the job loop.
//! Delivery is at-least-once with a stable Message-ID per row.

use crate::store::InvitationId;
use crate::store::StaffId;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::outbox;
use super::{DbConnection, StoreError};
use crate::security::Sealer;

/// What a queued message is, with what is needed to render it at send
/// time. Sealed in the database (it can hold link tokens).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// The questionnaire link after a session (or its reminder).
    Survey {
        survey_token: String,
        unsubscribe_token: String,
        language: String,
    },
    /// Tells a clinician there is something to look at; no client detail.
    /// `alerts` in all: `new_high` new high alerts, `new_other` other new
    /// ones, the rest raised to a higher severity (rows queued before the
    /// split existed read as none new).
    AlertNotice {
        alerts: u32,
        #[serde(default)]
        new_high: u32,
        #[serde(default)]
        new_other: u32,
    },
    /// The daily summary: alerts not told at once, and how many comments
    /// the clinician's clients wrote in the last day (rows queued before
    /// the count existed read as none).
    AlertDigest {
        alerts: u32,
        #[serde(default)]
        comments: u32,
    },
    /// A signed event for an integration: the endpoint it goes to, the
    /// event type and the JSON body (fixed when queued, so every retry
    /// sends the same bytes).
    Webhook {
        endpoint_id: i64,
        event: String,
        body: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invitation,
    Reminder,
    AlertNotice,
    AlertDigest,
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invitation => "invitation",
            Kind::Reminder => "reminder",
            Kind::AlertNotice => "alert_notice",
            Kind::AlertDigest => "alert_digest",
            Kind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Invitation,
            Kind::Reminder,
            Kind::AlertNotice,
            Kind::AlertDigest,
            Kind::Webhook,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub invitation_id: Option<InvitationId>,
    pub staff_id: Option<StaffId>,
    pub payload: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

pub struct NewMessage<'a> {
    pub kind: Kind,
    pub recipient: &'a str,
    pub invitation_id: Option<InvitationId>,
    pub staff_id: Option<StaffId>,
    pub payload: &'a Payload,
    pub send_at: NaiveDateTime,
}

/// A Message-ID that stays the same across retries of one row, so a
/// receiver can drop a duplicate after a crash between send and commit.
pub fn new_message_id(domain: &str) -> String {
    format!("<{}.rapport@{domain}>", hex::encode(rand::random::<[u8; 16]>()))
}

pub fn enqueue(
    conn: &mut DbConnection,
    message: &NewMessage,
    sealer: &Sealer,
    message_domain: &str,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    let sealed = sealer.seal(&serde_json::to_string(message.payload).unwrap_or_default());
    Ok(diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(message.kind.as_str()),
            outbox::recipient.eq(message.recipient),
            outbox::invitation_id.eq(message.invitation_id),
            outbox::staff_id.eq(message.staff_id),
            outbox::payload.eq(sealed),
            outbox::message_id.eq(new_message_id(message_domain)),
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(message.send_at),
            outbox::created_at.eq(now),
        ))
        .returning(outbox::id)
        .get_result(conn)?)
}

/// How long a runner may hold a claimed row before another may take it.
pub const LEASE: Duration = Duration::seconds(120);

/// The job runner in this process, as written on the rows it claims:
/// `host/pid/nonce`. The nonce tells apart two processes that had the same
/// pid (a restarted container is pid 1 again).
pub struct Runner {
    owner: String,
    host: String,
    pid: u32,
}

impl Runner {
    pub fn this_process() -> &'static Runner {
        static RUNNER: std::sync::OnceLock<Runner> = std::sync::OnceLock::new();
        RUNNER.get_or_init(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().replace('/', "-"))
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "localhost".to_string());
            let pid = std::process::id();
            Runner {
                owner: format!("{host}/{pid}/{}", hex::encode(rand::random::<[u8; 8]>())),
                host,
                pid,
            }
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Whether the runner that wrote `owner` is known to be gone: it ran on
    /// this host and its process no longer runs (or is this one's pid under
    /// another nonce). A runner on another host is never judged: its rows
    /// wait for their lease to end.
    fn outlived(&self, owner: &str) -> bool {
        let mut parts = owner.split('/');
        let (Some(host), Some(pid), Some(_nonce)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        if host != self.host || owner == self.owner {
            return false;
        }
        let Ok(pid) = pid.parse::<u32>() else { return false };
        if pid == self.pid {
            return true;
        }
        if !std::path::Path::new("/proc/self/stat").exists() {
            return false; // no way to look here; the lease decides
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // A killed child not yet reaped by its parent is a zombie.
            Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
        }
    }
}

/// Frees the rows that a runner on this host had claimed when it died, so
/// a restarted runner sends them at once instead of after [`LEASE`].
pub fn release_outlived_leases(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    let runner = Runner::this_process();
    let owners: Vec<Option<String>> = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::lease_until.ge(now))
        .filter(outbox::lease_owner.is_not_null())
        .select(outbox::lease_owner)
        .distinct()
        .load(conn)?;
    let mut released = 0;
    for owner in owners.into_iter().flatten().filter(|o| runner.outlived(o)) {
        released += diesel::update(
            outbox::table
                .filter(outbox::status.eq("pending"))
                .filter(outbox::lease_owner.eq(&owner)),
        )
        .set((
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::lease_owner.eq(None::<String>),
        ))
        .execute(conn)?;
    }
    if released > 0 {
        tracing::info!(
            released,
            "took back messages claimed by a job runner that is no longer running"
        );
    }
    Ok(released)
}

/// Claims up to `limit` due rows for this runner. Several runners never
/// claim the same row while its lease holds: PostgreSQL skips rows locked
/// by another runner; SQLite serialises claims in an IMMEDIATE transaction.
pub fn claim_due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let lease_until = now + LEASE;
    let owner = Runner::this_process().owner();
    match conn {
        DbConnection::Postgres(pg) => {
            use diesel::sql_types::{BigInt, Text, Timestamp};
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = BigInt)]
                id: i64,
            }
            // The claim and the read in one transaction: a connection lost
            // between them (a PostgreSQL restart) takes the claim back with
            // it, instead of leaving the rows leased to this live runner,
            // unsent, for the whole lease.
            Ok(pg.transaction::<_, diesel::result::Error, _>(|pg| {
                let ids: Vec<Id> = diesel::sql_query(
                    "UPDATE outbox SET lease_until = $1, lease_owner = $4 WHERE id IN ( \
                       SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
                       AND (lease_until IS NULL OR lease_until < $2) \
                       ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id",
                )
                .bind::<Timestamp, _>(lease_until)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .bind::<Text, _>(owner)
                .load(pg)?;
                let ids: Vec<i64> = ids.into_iter().map(|r| r.id).collect();
                outbox::table
                    .filter(outbox::id.eq_any(ids))
                    .order(outbox::id)
                    .select(OutboxRow::as_select())
                    .load(pg)
            })?)
        }
        DbConnection::Sqlite(_) => conn.write_transaction(|conn| {
            let due: Vec<OutboxRow> = outbox::table
                .filter(outbox::status.eq("pending"))
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now)))
                .order((outbox::next_attempt_at, outbox::id))
                .limit(limit)
                .select(OutboxRow::as_select())
                .load(conn)?;
            let ids: Vec<i64> = due.iter().map(|r| r.id).collect();
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((outbox::lease_until.eq(lease_until), outbox::lease_owner.eq(owner)))
                .execute(conn)?;
            // As stored now, like the rows PostgreSQL returns.
            Ok(due
                .into_iter()
                .map(|row| OutboxRow {
                    lease_until: Some(lease_until),
                    ..row
                })
                .collect())
        }),
    }
}

/// Sent: the sealed payload is dropped (no link token stays behind).
/// Messages the server accepted, recorded in one statement.
pub fn mark_sent(conn: &mut DbConnection, ids: &[i64], now: NaiveDateTime) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::payload.eq(""),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A transient failure: try again later.
pub fn mark_retry(conn: &mut DbConnection, id: i64, error: &str, next: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(next),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// A permanent failure: stop, keep the reason for the admin page. The
/// sealed payload stays so an admin can retry once the cause is fixed.
pub fn mark_failed(conn: &mut DbConnection, id: i64, error: &str) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("failed"),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// No longer to be sent (answered, cancelled, opted out).
pub fn mark_cancelled(conn: &mut DbConnection, id: i64, reason: &str) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("cancelled"),
            outbox::payload.eq(""),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// Cancels the pending messages of an invitation.
pub fn cancel_for_invitation(
    conn: &mut DbConnection,
    invitation_id: InvitationId,
    reason: &str,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::invitation_id.eq(invitation_id))
            .filter(outbox::status.eq("pending")),
    )
    .set((
        outbox::status.eq("cancelled"),
        outbox::payload.eq(""),
        outbox::last_error.eq(reason),
    ))
    .execute(conn)?)
}

/// Puts a failed message back in the queue (an admin's "retry").
pub fn retry_failed(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    let updated = diesel::update(outbox::table.find(id).filter(outbox::status.eq("failed")))
        .set((
            outbox::status.eq("pending"),
            outbox::next_attempt_at.eq(now),
            outbox::attempts.eq(0),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Counts by status, for the admin page and health of delivery.
pub fn status_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<OutboxRow, StoreError> {
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .map_err(StoreError::or_not_found)
}

/// Emails still waiting to go (not webhooks), soonest first.
pub fn waiting(conn: &mut DbConnection, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::kind.ne(Kind::Webhook.as_str()))
        .order((outbox::next_attempt_at, outbox::id))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Failed and retrying emails (webhook deliveries have their own page),
/// newest first.
pub fn problems(conn: &mut DbConnection, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::kind.ne(Kind::Webhook.as_str()))
        .filter(
            outbox::status
                .eq("failed")
                .or(outbox::status.eq("pending").and(outbox::last_error.is_not_null())),
        )
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}
