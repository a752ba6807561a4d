//! Other systems connected to the clinic's Rapport: API keys for a
//! practice-management system, and webhook endpoints that hear about
//! alerts and answers. The admin's page and `rapport apikey` / `rapport
//! webhook` share these functions, so the same names are refused and every
//! change is audited whichever door it came by.
//!
//! Whether a webhook's address resolves to a network it may reach is
//! checked by the caller before `add_webhook` (a name lookup is I/O; both
//! doors use `mail::webhook::check_addresses` on what they resolved).

use chrono::NaiveDateTime;

use super::Actor;
use crate::security::Sealer;
use crate::store::api_keys::{self, ApiKey, Scope};
use crate::store::audit::AuditAction;
use crate::store::webhooks::{self, Endpoint, EventType};
use crate::store::{DbConnection, StoreError, kv};

/// The longest name an API key may have.
pub const KEY_NAME_MAX: usize = 100;

/// Creates an API key named after who uses it; returns it with its secret,
/// which is shown once and never stored.
pub fn create_api_key(
    conn: &mut DbConnection,
    by: Actor,
    name: &str,
    scopes: &[Scope],
    now: NaiveDateTime,
) -> Result<(ApiKey, String), StoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(
            "Say who uses the key, for example the practice system's name.".into(),
        ));
    }
    if name.chars().count() > KEY_NAME_MAX {
        return Err(StoreError::Invalid(format!(
            "The name is longer than {KEY_NAME_MAX} characters."
        )));
    }
    if scopes.is_empty() {
        return Err(StoreError::Invalid(
            "Choose what the key may do: read, write or both.".into(),
        ));
    }
    conn.write_transaction(|conn| {
        let (key, secret) = api_keys::create(conn, name, scopes, now)?;
        let detail = by.detail(format!("key #{} \"{}\" ({})", key.id, key.name, key.scopes));
        by.record(conn, AuditAction::ApiKeyCreate, None, Some(&detail), now)?;
        Ok((key, secret))
    })
}

/// Revokes a key: requests with it are refused from now on. False when
/// there is no live key with this id.
pub fn revoke_api_key(conn: &mut DbConnection, by: Actor, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        let revoked = api_keys::revoke(conn, id, now)?;
        if revoked {
            by.record(
                conn,
                AuditAction::ApiKeyRevoke,
                None,
                Some(&by.detail(format!("key #{id}"))),
                now,
            )?;
        }
        Ok(revoked)
    })
}

/// Registers a webhook endpoint for `events`; returns it with its signing
/// secret (shown once, kept sealed). The address must already have passed
/// the network check (see the module's text).
pub fn add_webhook(
    conn: &mut DbConnection,
    by: Actor,
    url: &str,
    events: &[EventType],
    sealer: &Sealer,
    now: NaiveDateTime,
) -> Result<(Endpoint, String), StoreError> {
    let url = webhooks::check_url(url).map_err(|e| StoreError::Invalid(format!("Address: {e}.")))?;
    if events.is_empty() {
        return Err(StoreError::Invalid("Choose at least one event.".into()));
    }
    conn.write_transaction(|conn| {
        let (endpoint, secret) = webhooks::create(conn, &url, events, sealer, now)?;
        by.record(
            conn,
            AuditAction::WebhookAdd,
            None,
            Some(&by.detail(format!("endpoint #{}", endpoint.id))),
            now,
        )?;
        Ok((endpoint, secret))
    })
}

/// Stops deliveries to an endpoint (queued ones are cancelled when their
/// turn comes). False when it was already disabled; NotFound when there is
/// no such endpoint.
pub fn disable_webhook(conn: &mut DbConnection, by: Actor, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        webhooks::find(conn, id)?;
        let disabled = webhooks::disable(conn, id, now)?;
        if disabled {
            by.record(
                conn,
                AuditAction::WebhookDisable,
                None,
                Some(&by.detail(format!("endpoint #{id}"))),
                now,
            )?;
        }
        Ok(disabled)
    })
}

/// Whether webhook receivers on private networks (an on-premises system)
/// may be used; off by default.
pub fn allow_private_networks(
    conn: &mut DbConnection,
    by: Actor,
    allow: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        kv::set_flag(conn, webhooks::ALLOW_PRIVATE_NETWORKS, allow, now)?;
        let said = if allow { "allowed" } else { "refused" };
        by.record(
            conn,
            AuditAction::WebhookPrivateNetworks,
            None,
            Some(&by.detail(said.to_string())),
            now,
        )
    })
}
