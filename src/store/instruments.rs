//! Published instrument versions. A version, once stored, never changes:
//! a change is a new version.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::instruments;
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = instruments)]
pub struct InstrumentRow {
    pub id: i64,
    pub slug: String,
    pub version: i32,
    pub title: String,
    pub definition: String,
    pub is_default: bool,
    pub published_at: NaiveDateTime,
}

/// The instrument new invitations use.
pub fn default_id(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    Ok(instruments::table
        .filter(instruments::is_default.eq(true))
        .select(instruments::id)
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<InstrumentRow, StoreError> {
    super::connection::on_backend!(conn, |c| instruments::table
        .find(id)
        .select(InstrumentRow::as_select())
        .first(c))
    .map_err(StoreError::or_not_found)
}

pub fn find_version(conn: &mut DbConnection, slug: &str, version: i32) -> Result<Option<InstrumentRow>, StoreError> {
    Ok(instruments::table
        .filter(instruments::slug.eq(slug))
        .filter(instruments::version.eq(version))
        .select(InstrumentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<InstrumentRow>, StoreError> {
    Ok(instruments::table
        .order((instruments::slug, instruments::version))
        .select(InstrumentRow::as_select())
        .load(conn)?)
}

/// What publishing a version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    New(i64),
    AlreadyThere(i64),
}

/// Publishes a version. The same (slug, version) with the same definition
/// is a no-op; with a different definition it is refused, since answers
/// already recorded refer to the published text.
pub fn publish(
    conn: &mut DbConnection,
    slug: &str,
    version: i32,
    title: &str,
    definition_json: &str,
    now: NaiveDateTime,
) -> Result<Published, StoreError> {
    // Several instances starting at once may race to publish the same
    // version; the loser sees the winner's row on its second try.
    match publish_once(conn, slug, version, title, definition_json, now) {
        Err(e) if e.is_unique_violation() => publish_once(conn, slug, version, title, definition_json, now),
        other => other,
    }
}

fn publish_once(
    conn: &mut DbConnection,
    slug: &str,
    version: i32,
    title: &str,
    definition_json: &str,
    now: NaiveDateTime,
) -> Result<Published, StoreError> {
    conn.write_transaction(|conn| {
        if let Some(existing) = find_version(conn, slug, version)? {
            let same = serde_json::from_str::<serde_json::Value>(&existing.definition).ok()
                == serde_json::from_str::<serde_json::Value>(definition_json).ok();
            return if same {
                Ok(Published::AlreadyThere(existing.id))
            } else {
                Err(StoreError::Conflict(format!(
                    "{slug} version {version} is already published with different content; \
                     a changed instrument must get a new version number"
                )))
            };
        }
        let first = default_id(conn)?.is_none();
        let id = diesel::insert_into(instruments::table)
            .values((
                instruments::slug.eq(slug),
                instruments::version.eq(version),
                instruments::title.eq(title),
                instruments::definition.eq(definition_json),
                instruments::is_default.eq(first),
                instruments::published_at.eq(now),
            ))
            .returning(instruments::id)
            .get_result(conn)?;
        Ok(Published::New(id))
    })
}

/// Makes one version the default for new invitations.
pub fn set_default(conn: &mut DbConnection, id: i64) -> Result<(), StoreError> {
    conn.write_transaction(|conn| {
        find(conn, id)?;
        diesel::update(instruments::table)
            .set(instruments::is_default.eq(false))
            .execute(conn)?;
        diesel::update(instruments::table.find(id))
            .set(instruments::is_default.eq(true))
            .execute(conn)?;
        Ok(())
    })
}
