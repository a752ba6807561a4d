//! Start-up: from checked settings to a ready application state.

use std::sync::Arc;

use actix_web::cookie::Key;

use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{self, StoreError, kv};
use crate::web::AppState;

/// Opens the database, applies migrations and loads the keys. Every
/// failure is one sentence for the operator.
pub fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StoreError> {
    let pool = store::build_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get()?;
    store::run_migrations(&mut conn)?;
    let now = clock.now();
    let secret = match &settings.secret_key {
        Some(k) => k.clone(),
        None => kv::get_or_insert(&mut conn, "secret_key", || hex::encode(rand::random::<[u8; 64]>()), now)?,
    };
    drop(conn);
    Ok(AppState {
        pool,
        settings: Arc::new(settings),
        clock,
        cookie_key: Key::derive_from(secret.as_bytes()),
    })
}
