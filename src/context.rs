//! The running service's shared parts, built once at start-up
//! (`app::prepare`) and handed to the web handlers and the job loop: the
//! database pool, the settings, the clock, the server's keys and the mail
//! transport. Database work goes through [`Context::db`], the one way from
//! async code to the blocking pool.
//!
//! May import `store`, `config`, `clock`, `security` and `mail` (whose
//! dispatcher gets only its own part, [`Outbound`]); never `web`, `jobs` or
//! `cli`.

use std::sync::Arc;

use actix_web::cookie::Key;

use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::{Dkim, Mailer, Outbound};
use crate::security::Sealer;
use crate::store::invitations::Mailing;
use crate::store::{DbConnection, Pool, StoreError};

#[derive(Clone)]
pub struct Context {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// Signs and encrypts staff session cookies.
    pub cookie_key: Key,
    /// Seals queued email content (link tokens) in the database.
    pub sealer: Sealer,
    /// One shared mail transport, built once.
    pub mailer: Arc<Mailer>,
    pub dkim: Option<Arc<Dkim>>,
}

impl Context {
    /// Runs diesel work on the blocking pool (never on the async workers).
    pub async fn db<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        crate::store::blocking(&self.pool, f).await
    }

    /// A page's few reads, where they are cheapest: in place on SQLite when
    /// a connection is free (see [`crate::store::connection::read_here`]),
    /// else on the blocking pool as [`Context::db`]. Reads only.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        match crate::store::connection::read_here(&self.pool, f) {
            Ok(done) => done,
            Err(f) => self.db(f).await,
        }
    }

    /// Like [`Context::db`], for work that may queue emails.
    pub async fn db_mailing<T, F>(&self, f: F) -> Result<T, StoreError>
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

    /// What the outbox dispatcher needs, and nothing else.
    pub fn outbound(&self) -> Outbound {
        Outbound {
            pool: self.pool.clone(),
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            sealer: self.sealer.clone(),
            mailer: self.mailer.clone(),
            dkim: self.dkim.clone(),
        }
    }
}
