//! The clinic's settings (delivery rules, retention, who reads free text,
//! the alert rules' settings, date order of imports, the manager's
//! smallest group) and the admin's actions on the outbox: each change
//! written with its audit entry in one transaction.

use chrono::NaiveDateTime;

use super::Actor;
use crate::domain::schedule::DeliveryRules;
use crate::store::audit::AuditAction;
use crate::store::{DbConnection, StoreError, erasure, invitations, kv, outbox};

/// Writes a clinic setting with `write` and its audit entry (`action`,
/// with `detail`) in one transaction.
pub fn change(
    conn: &mut DbConnection,
    by: Actor,
    action: AuditAction,
    detail: Option<String>,
    now: NaiveDateTime,
    write: impl FnOnce(&mut DbConnection, NaiveDateTime) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        write(conn, now)?;
        let detail = detail.map(|d| by.detail(d));
        by.record(conn, action, None, detail.as_deref(), now)
    })
}

/// When questionnaires are sent, reminded and closed.
pub fn set_delivery_rules(
    conn: &mut DbConnection,
    by: Actor,
    rules: &DeliveryRules,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    change(conn, by, AuditAction::SettingsDelivery, None, now, |conn, now| {
        invitations::save_delivery_rules(conn, rules, now)
    })
}

/// How many days after their last activity a client's data is erased
/// (`None`: kept until erased by hand).
pub fn set_retention(
    conn: &mut DbConnection,
    by: Actor,
    days: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let value = days.map(|d| d.to_string()).unwrap_or_else(|| "off".into());
    change(
        conn,
        by,
        AuditAction::SettingsRetention,
        Some(format!("retention: {value}")),
        now,
        |conn, now| kv::set(conn, erasure::RETENTION_KEY, &value, now),
    )
}

/// Whether people other than the client's clinician may read free-text
/// answers.
pub fn let_staff_read_free_text(
    conn: &mut DbConnection,
    by: Actor,
    allow: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let detail = if allow {
        "staff may read free text"
    } else {
        "staff may not read free text"
    };
    change(
        conn,
        by,
        AuditAction::SettingsPrivacy,
        Some(detail.to_string()),
        now,
        |conn, now| kv::set_flag(conn, kv::STAFF_READ_FREE_TEXT, allow, now),
    )
}

/// Sends a failed message (email or webhook delivery) again. `Ok(None)`
/// when it is not failed; otherwise whether it is a webhook delivery.
pub fn retry_message(
    conn: &mut DbConnection,
    by: Actor,
    id: i64,
    now: NaiveDateTime,
) -> Result<Option<bool>, StoreError> {
    conn.write_transaction(|conn| {
        let webhook = outbox::find(conn, id)?.kind == outbox::Kind::Webhook.as_str();
        if !outbox::retry_failed(conn, id, now)? {
            return Ok(None);
        }
        by.record(
            conn,
            AuditAction::EmailRetry,
            None,
            Some(&by.detail(format!("message #{id}"))),
            now,
        )?;
        Ok(Some(webhook))
    })
}

/// A test email the admin sent through the clinic's mail server, and
/// whether the server accepted it.
pub fn record_test_email(
    conn: &mut DbConnection,
    by: Actor,
    accepted: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let detail = if accepted { "accepted" } else { "refused" };
    by.record(conn, AuditAction::EmailTest, None, Some(detail), now)
}
