//! What every handler and the job loop share.

use std::sync::Arc;

use actix_web::cookie::Key;
use actix_web::web;

use super::error::AppError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::{Dkim, Mailer};
use crate::security::Sealer;
use crate::store::invitations::Mailing;
use crate::store::{DbConnection, Pool, StoreError};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub cookie_key: Key,
    /// Seals queued email content (link tokens) in the database.
    pub sealer: Sealer,
    /// One shared mail transport, built once.
    pub mailer: Arc<Mailer>,
    pub dkim: Option<Arc<Dkim>>,
}

impl AppState {
    /// Runs diesel work on the blocking pool (never on the async workers).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let result = web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?;
        result.map_err(AppError::from)
    }

    /// Like [`AppState::db`], for work that may queue emails.
    pub async fn db_mailing<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &Mailing) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (sealer, domain, clinic_tz) = (self.sealer.clone(), self.message_domain(), self.settings.time_zone);
        let default_language = self.settings.default_language.clone();
        self.db(move |conn| {
            f(
                conn,
                &Mailing {
                    sealer: &sealer,
                    message_domain: &domain,
                    clinic_tz,
                    default_language: &default_language,
                },
            )
        })
        .await
    }

    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now()
    }

    /// The domain used in Message-IDs: the public host.
    pub fn message_domain(&self) -> String {
        self.settings.base_url.host_str().unwrap_or("localhost").to_string()
    }
}
