//! Persistence: diesel over SQLite and PostgreSQL. One module per aggregate;
//! every function takes a connection and does one job.
//!
//! May import `domain`, `security` and `config`; never `actions`, `mail`,
//! `context`, `jobs`, `web` or `cli`.
//!
//! A fixed choice of values is written `a.eq(x).or(a.eq(y))`, not
//! `eq_any([x, y])`: diesel never caches a statement with an `IN` list, so
//! SQLite would parse and plan it again on every run (on the answer path
//! that was a fifth of the CPU).

pub mod alerts;
pub mod api_keys;
pub mod appointments;
pub mod audit;
pub mod clients;
pub mod connection;
pub mod erasure;
pub mod history;
pub mod ids;
pub mod instruments;
pub mod intake;
pub mod invitations;
pub mod kv;
pub mod listing;
pub mod outbox;
pub mod record;
pub mod responses;
pub mod risk_words;
pub mod schema;
pub mod staff;
pub mod trends;
pub mod webhooks;

/// A state kept as text in a column, read back into its type: a value the
/// type does not know is an error when the row is loaded (a corrupt row),
/// never a silent default such as an unknown role read as "clinician".
/// Used with `#[diesel(deserialize_as = String)]` on the row's field.
macro_rules! stored_as_text {
    ($state:ty, $what:literal, $parse:expr) => {
        impl TryFrom<String> for $state {
            type Error = String;
            fn try_from(text: String) -> Result<$state, String> {
                let parse: fn(&str) -> Option<$state> = $parse;
                parse(&text).ok_or_else(|| format!("unknown {} \"{}\" in the database", $what, text))
            }
        }
    };
}

stored_as_text!(staff::Role, "staff role", |s| s.parse().ok());
stored_as_text!(alerts::RepairOutcome, "repair outcome", alerts::RepairOutcome::parse);
stored_as_text!(staff::Notify, "notification choice", staff::Notify::parse);
stored_as_text!(
    crate::domain::appointment::AppointmentStatus,
    "appointment status",
    |s| s.parse().ok()
);
stored_as_text!(
    invitations::InvitationStatus,
    "invitation status",
    invitations::InvitationStatus::parse
);
stored_as_text!(alerts::AlertStatus, "alert status", alerts::AlertStatus::parse);
stored_as_text!(crate::domain::signals::Severity, "severity", |s| s.parse().ok());

/// A nullable state column (an alert's outcome, say) read into
/// `Option<T>`: NULL is `None`, a value `T` does not know is an error as
/// for `stored_as_text!`. Used with `#[diesel(deserialize_as =
/// MaybeStored<T>)]` on an `Option<T>` field.
pub struct MaybeStored<T>(Option<T>);

impl<T, DB> diesel::deserialize::Queryable<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB> for MaybeStored<T>
where
    DB: diesel::backend::Backend,
    T: TryFrom<String, Error = String>,
    Option<String>: diesel::deserialize::FromSql<diesel::sql_types::Nullable<diesel::sql_types::Text>, DB>,
{
    type Row = Option<String>;

    fn build(row: Option<String>) -> diesel::deserialize::Result<Self> {
        Ok(MaybeStored(row.map(T::try_from).transpose()?))
    }
}

impl<T> From<MaybeStored<T>> for Option<T> {
    fn from(stored: MaybeStored<T>) -> Option<T> {
        stored.0
    }
}

pub use connection::{DbConnection, DbKind, Pool, PooledConnection, build_pool, establish, run_migrations};
pub use ids::{AlertId, AppointmentId, ClientId, InvitationId, StaffId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach the database ({0})")]
    Unreachable(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("not found")]
    NotFound,
    /// What was asked for breaks a rule (a name missing, no event chosen):
    /// the person asking can put it right.
    #[error("{0}")]
    Invalid(String),
    /// What was asked for cannot be done in the state things are in (it
    /// exists already, the last admin, a closed alert).
    #[error("{0}")]
    Conflict(String),
    /// Something stored cannot be read (a value no version of Rapport
    /// writes, a stored questionnaire that no longer parses): our fault,
    /// not the asker's.
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(String),
    /// The task running the database work stopped (it panicked).
    #[error("a database task stopped: {0}")]
    TaskFailed(String),
}

/// Runs diesel work with a pooled connection on the blocking thread pool:
/// the one way from async code to the database (never on the async
/// workers).
pub async fn blocking<T, F>(pool: &Pool, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        connection::writing_through(&pool, || f(&mut conn))
    })
    .await
    .map_err(|e| StoreError::TaskFailed(e.to_string()))?
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            // A stored value that does not fit its type (an unknown status).
            diesel::result::Error::DeserializationError(e) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Query(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}

impl StoreError {
    /// Maps "no row" to [`StoreError::NotFound`] and keeps other errors.
    pub fn or_not_found(e: diesel::result::Error) -> StoreError {
        match e {
            diesel::result::Error::NotFound => StoreError::NotFound,
            other => StoreError::from(other),
        }
    }

    /// The database cannot take the work just now (SQLite locked past its
    /// busy timeout, a full disk, a read-only file, a PostgreSQL server
    /// restarting or a lost connection): worth a 503 and a retry, not a 500.
    pub fn is_storage_fault(&self) -> bool {
        let message = match self {
            StoreError::Query(diesel::result::Error::DatabaseError(_, info)) => info.message().to_ascii_lowercase(),
            StoreError::Query(diesel::result::Error::BrokenTransactionManager) => return true,
            _ => return false,
        };
        [
            "server closed the connection",
            "terminating connection",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
            "no connection to the server",
            "connection refused",
            "could not connect",
            "connection to server",
            "database is locked",
            "database table is locked",
            "disk is full",
            "no space left on device",
            "readonly database",
            "disk i/o error",
            "could not extend file",
            "read-only transaction",
        ]
        .iter()
        .any(|m| message.contains(m))
    }

    /// Worth trying again shortly: the pool or server cannot be reached,
    /// or a storage fault (see [`StoreError::is_storage_fault`]).
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Pool(_) | StoreError::Unreachable(_)) || self.is_storage_fault()
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Current time truncated to whole microseconds, the precision both
/// backends keep, so values read back compare equal to values written.
pub fn truncate(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Timelike};
    let t = t.trunc_subsecs(6);
    t.with_nanosecond(t.nanosecond()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use diesel::deserialize::Queryable;
    use diesel::sql_types::{Nullable, Text};

    use super::MaybeStored;
    use super::alerts::RepairOutcome;

    fn read(stored: Option<&str>) -> Result<Option<RepairOutcome>, String> {
        <MaybeStored<RepairOutcome> as Queryable<Nullable<Text>, diesel::sqlite::Sqlite>>::build(
            stored.map(str::to_string),
        )
        .map(Option::from)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_nullable_state_reads_null_known_and_refuses_unknown() {
        assert_eq!(read(None), Ok(None));
        assert_eq!(read(Some("not_repaired")), Ok(Some(RepairOutcome::NotRepaired)));
        let unknown = read(Some("mended")).expect_err("an unknown outcome must not load");
        assert!(unknown.contains("unknown repair outcome \"mended\""), "{unknown}");
    }
}
