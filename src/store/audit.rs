//! The audit log: who read or changed which client's data, and when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, staff};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub staff_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub action: &'a str,
    pub client_id: Option<i64>,
    pub alert_id: Option<i64>,
    pub detail: Option<&'a str>,
}

pub fn record(conn: &mut DbConnection, entry: &AuditEntry, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now),
            audit_log::staff_id.eq(entry.staff_id),
            audit_log::api_key_id.eq(entry.api_key_id),
            audit_log::action.eq(entry.action),
            audit_log::client_id.eq(entry.client_id),
            audit_log::alert_id.eq(entry.alert_id),
            audit_log::detail.eq(entry.detail),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub staff_name: Option<String>,
    pub action: String,
    pub client_id: Option<i64>,
    pub alert_id: Option<i64>,
    pub detail: Option<String>,
}

/// Most recent entries first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    Ok(audit_log::table
        .left_join(staff::table)
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            staff::name.nullable(),
            audit_log::action,
            audit_log::client_id,
            audit_log::alert_id,
            audit_log::detail,
        ))
        .load(conn)?)
}
