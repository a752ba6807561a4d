//! Start-up: from checked settings to a ready application state.
//!
//! An outer layer: may import everything but `web`, `jobs` and `cli`, which
//! call it.

use std::sync::Arc;

use actix_web::cookie::Key;

use crate::clock::Clock;
use crate::config::Settings;
use crate::context::Context;
use crate::mail::{Dkim, Mailer};
use crate::security::Sealer;
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Mail(String),
    #[error(transparent)]
    Key(#[from] crate::server_key::KeyError),
}

/// Opens the database, applies migrations, loads the keys and builds the
/// mail transport. Every failure is one sentence for the operator.
pub fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> Result<Context, StartError> {
    let mailer = Mailer::from_settings(&settings).map_err(StartError::Mail)?;
    let dkim = Dkim::from_settings(&settings).map_err(StartError::Mail)?;
    let pool = store::build_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get().map_err(StoreError::from)?;
    store::run_migrations(&mut conn)?;
    store::connection::check_writable(&mut conn)?;
    let now = clock.now();
    let secret = crate::server_key::load(&settings, &mut conn, now)?;
    publish_shipped_instruments(&mut conn, now)?;
    drop(conn);
    Ok(Context {
        pool,
        settings: Arc::new(settings),
        clock,
        cookie_key: Key::derive_from(secret.as_bytes()),
        sealer: Sealer::new(&secret),
        mailer: Arc::new(mailer),
        dkim: dkim.map(Arc::new),
    })
}

/// One connection for a command-line task, with the schema up to date and
/// the shipped questionnaires published (as the server would have them).
pub fn open_database(url: &str, now: chrono::NaiveDateTime) -> Result<store::DbConnection, StoreError> {
    let mut conn = store::establish(url)?;
    store::run_migrations(&mut conn)?;
    publish_shipped_instruments(&mut conn, now)?;
    Ok(conn)
}

/// Publishes the instruments that ship with Rapport (a no-op once stored).
fn publish_shipped_instruments(conn: &mut store::DbConnection, now: chrono::NaiveDateTime) -> Result<(), StoreError> {
    for instrument in crate::domain::instrument::shipped_instruments() {
        let title = instrument.title().get("en").unwrap_or(instrument.id()).to_string();
        store::instruments::publish(
            conn,
            instrument.id(),
            instrument.version() as i32,
            &title,
            &instrument.to_json(),
            now,
        )?;
    }
    Ok(())
}
