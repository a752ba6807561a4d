//! API keys for practice systems and integrations. The key is shown once
//! when created; only its SHA-256 is kept.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_keys;
use super::{DbConnection, StoreError};
use crate::security;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = vec![];
    for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let scope = match part {
            "read" => Scope::Read,
            "write" => Scope::Write,
            other => return Err(format!("unknown scope \"{other}\": expected read, write or read,write")),
        };
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err("give at least one scope: read, write or read,write".into());
    }
    Ok(scopes)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.split(',').any(|s| s.trim() == scope.as_str())
    }
}

/// Creates a key and returns it with the secret, which is not stored.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    scopes: &[Scope],
    now: NaiveDateTime,
) -> Result<(ApiKey, String), StoreError> {
    let secret = format!("rpk_{}", security::new_token());
    let scopes = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
    let id: i64 = diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name.trim()),
            api_keys::key_hash.eq(security::token_hash(&secret)),
            api_keys::scopes.eq(scopes),
            api_keys::created_at.eq(now),
        ))
        .returning(api_keys::id)
        .get_result(conn)?;
    let key = api_keys::table.find(id).select(ApiKey::as_select()).first(conn)?;
    Ok((key, secret))
}

/// The live key with this secret, noting its use.
pub fn authenticate(conn: &mut DbConnection, secret: &str, now: NaiveDateTime) -> Result<Option<ApiKey>, StoreError> {
    let key: Option<ApiKey> = api_keys::table
        .filter(api_keys::key_hash.eq(security::token_hash(secret)))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKey::as_select())
        .first(conn)
        .optional()?;
    if let Some(k) = &key {
        diesel::update(api_keys::table.find(k.id))
            .set(api_keys::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(key)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKey>, StoreError> {
    Ok(api_keys::table
        .order(api_keys::id)
        .select(ApiKey::as_select())
        .load(conn)?)
}

pub fn revoke(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<bool, StoreError> {
    Ok(
        diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(now))
            .execute(conn)?
            == 1,
    )
}
