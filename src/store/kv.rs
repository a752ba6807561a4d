//! The `settings` table: values an admin changes in the app, and the
//! check value of the server key (never the key itself). Values are text; callers parse them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::settings;
use super::{DbConnection, StoreError};

/// The clinic's line beside the questionnaire's comment box on where to
/// get help now (Admin → Safety sets it).
pub const HELP_LINE: &str = "survey.help_line";

pub fn get(conn: &mut DbConnection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(super::connection::on_backend!(conn, |c| settings::table
        .find(key)
        .select(settings::value)
        .first(c)
        .optional())?)
}

pub fn remove(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(settings::table.find(key)).execute(conn)?;
    Ok(())
}

pub fn set(conn: &mut DbConnection, key: &str, value: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        let updated = diesel::update(settings::table.find(key))
            .set((settings::value.eq(value), settings::updated_at.eq(now)))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(settings::table)
                .values((
                    settings::key.eq(key),
                    settings::value.eq(value),
                    settings::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Returns the stored value, or stores `make()` and returns it. Several
/// instances starting together agree on one value (the first insert wins).
pub fn get_or_insert(
    conn: &mut DbConnection,
    key: &str,
    make: impl FnOnce() -> String,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    if let Some(v) = get(conn, key)? {
        return Ok(v);
    }
    let value = make();
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq(&value),
            settings::updated_at.eq(now),
        ))
        .execute(conn);
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(value),
        Err(e) if e.is_unique_violation() => get(conn, key)?.ok_or(StoreError::NotFound),
        Err(e) => Err(e),
    }
}

/// Claims a once-a-day task for `day` (e.g. "2026-03-02"): true for the
/// first caller of that day, false for every other — across several job
/// runners too.
pub fn claim_daily(conn: &mut DbConnection, key: &str, day: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    conn.write_transaction(|conn| {
        let updated = diesel::update(settings::table.find(key).filter(settings::value.ne(day)))
            .set((settings::value.eq(day), settings::updated_at.eq(now)))
            .execute(conn)?;
        if updated == 1 {
            return Ok(true);
        }
        if get(conn, key)?.is_some() {
            return Ok(false);
        }
        let inserted = diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(day),
                settings::updated_at.eq(now),
            ))
            .execute(conn);
        match inserted.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(e) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e),
        }
    })
}

/// Clinic setting: may others than the clinician (managers, admins, the
/// practice system over the API) read clients' free-text answers
/// (a client's record, the API's answers)? Off unless an admin turns it on; clinicians
/// always see their own clients' words.
pub const STAFF_READ_FREE_TEXT: &str = "privacy.staff_read_free_text";

/// A yes/no clinic setting; absent means no.
pub fn flag(conn: &mut DbConnection, key: &str) -> Result<bool, StoreError> {
    Ok(get(conn, key)?.as_deref() == Some("on"))
}

pub fn set_flag(conn: &mut DbConnection, key: &str, on: bool, now: NaiveDateTime) -> Result<(), StoreError> {
    set(conn, key, if on { "on" } else { "off" }, now)
}

/// Every setting whose key starts with `prefix`, by key.
pub fn with_prefix(conn: &mut DbConnection, prefix: &str) -> Result<Vec<(String, String)>, StoreError> {
    let pattern = format!(
        "{}%",
        prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    Ok(settings::table
        .filter(settings::key.like(pattern).escape('\\'))
        .order(settings::key)
        .select((settings::key, settings::value))
        .load(conn)?)
}
