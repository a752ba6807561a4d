//! One connection type over SQLite and PostgreSQL, chosen by URL scheme,
//! the r2d2 pool that hands them out and, on SQLite, the one connection
//! the pool's write transactions run on.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::StoreError;
use crate::config::sqlite_path;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs a query on the backend's own connection instead of through the
/// `MultiConnection` wrapper: there diesel finds the prepared statement by
/// the query's type, while through the wrapper it writes the query's SQL
/// out on every run to look it up (a third of a one-row read's time on
/// SQLite: `cargo bench --bench service -- store`). For the queries on the
/// client's hot path; the query is written once and compiled for each
/// backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $query:expr) => {
        match $conn {
            $crate::store::DbConnection::Sqlite($c) => $query,
            $crate::store::DbConnection::Postgres($c) => $query,
        }
    };
}
pub(crate) use on_backend;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Postgres,
    Sqlite,
}

impl DbKind {
    pub fn of_url(url: &str) -> DbKind {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            DbKind::Sqlite
        }
    }
}

/// Describes where a URL points without its password, for messages and logs.
pub fn describe_url(url: &str) -> String {
    match DbKind::of_url(url) {
        DbKind::Sqlite => format!("SQLite file {}", sqlite_path(url)),
        DbKind::Postgres => match url::Url::parse(url) {
            Ok(u) => format!(
                "PostgreSQL at {}:{}{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432),
                u.path()
            ),
            Err(_) => "PostgreSQL (unparsable URL)".to_string(),
        },
    }
}

/// Opens one connection, keeping the driver's own error (diesel's
/// `AnyConnection::establish` would hide it behind "invalid connection url").
pub fn establish(url: &str) -> Result<DbConnection, StoreError> {
    let conn = match DbKind::of_url(url) {
        DbKind::Postgres => {
            let conn = diesel::PgConnection::establish(url).map_err(|e| {
                StoreError::Unreachable(format!("{}: {}", describe_url(url), first_line(&e.to_string())))
            })?;
            DbConnection::Postgres(conn)
        }
        DbKind::Sqlite => {
            configure_sqlite_once();
            let path = sqlite_path(url);
            if let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                return Err(StoreError::Unreachable(format!(
                    "SQLite file {path}: the folder {} does not exist",
                    parent.display()
                )));
            }
            let mut conn = diesel::SqliteConnection::establish(path)
                .map_err(|e| StoreError::Unreachable(format!("SQLite file {path}: {e}")))?;
            conn.batch_execute(
                // busy_timeout first: switching to WAL needs a lock another
                // connection may briefly hold.
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| StoreError::Unreachable(format!("SQLite file {path}: {e}")))?;
            DbConnection::Sqlite(conn)
        }
    };
    Ok(conn)
}

/// SQLite's process-wide settings, before its first connection: no global
/// allocation statistics (SQLite takes one process-wide lock around every
/// allocation to keep them, and every request's queries contended for it),
/// no lock on each connection (the pool hands a connection to one thread
/// at a time), and every connection opened with stable query plans (see
/// [`stable_query_plans`]).
fn configure_sqlite_once() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        use libsqlite3_sys::{SQLITE_CONFIG_MEMSTATUS, SQLITE_CONFIG_MULTITHREAD, SQLITE_OK, sqlite3_config};
        // SAFETY: sqlite3_config is called once, before any connection is
        // opened in this process (every SQLite connection comes through
        // `establish`); SQLite refuses it (SQLITE_MISUSE) rather than
        // misbehaving if it were already initialised.
        let results = unsafe {
            [
                sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0 as std::os::raw::c_int),
                sqlite3_config(SQLITE_CONFIG_MULTITHREAD),
                // SAFETY: the entry point has the signature SQLite calls.
                libsqlite3_sys::sqlite3_auto_extension(Some(stable_query_plans)),
            ]
        };
        if results.iter().any(|r| *r != SQLITE_OK) {
            tracing::debug!(?results, "SQLite was already initialised; its defaults stay");
        }
    });
}

/// Run by SQLite on every connection it opens: the query planner's
/// stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`). Without it, SQLite
/// looks at the value bound to `LIMIT ?` when it plans a statement, so
/// binding it again — diesel binds every parameter on every run, and
/// `.first()` is `LIMIT ?` — marks the cached statement stale and SQLite
/// parses and plans it again at the next step: a third of the CPU of the
/// questionnaire page went to that. Plans no longer depend on bound
/// values; ours never needed them to.
unsafe extern "C" fn stable_query_plans(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::os::raw::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::os::raw::c_int {
    // SAFETY: `db` is the connection SQLite is opening; the option takes
    // an int and an optional int pointer for the value read back.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::os::raw::c_int,
            std::ptr::null_mut::<std::os::raw::c_int>(),
        );
    }
    libsqlite3_sys::SQLITE_OK
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// r2d2 manager that opens connections with [`establish`].
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

/// The SQLite connection every write transaction taken through
/// [`crate::store::blocking`] runs on. SQLite empties a connection's page
/// cache whenever another connection has written since its last
/// transaction; with every write on one connection, the pages a write
/// needs are still there from the write before.
pub struct KeptWriter {
    url: String,
    conn: std::sync::Mutex<DbConnection>,
}

thread_local! {
    /// The kept writer of the pool whose connection this thread is using
    /// (set by [`writing_through`]).
    static KEPT_WRITER: std::cell::RefCell<Option<Arc<KeptWriter>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the write transactions it begins on `pool`'s kept writer
/// (SQLite), not on the connection `f` was given.
pub fn writing_through<T>(pool: &Pool, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<KeptWriter>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            KEPT_WRITER.with(|w| *w.borrow_mut() = previous);
        }
    }
    let previous = KEPT_WRITER.with(|w| w.replace(pool.writer.clone()));
    let _restore = Restore(previous);
    f()
}

/// A short read run on the calling thread, when the database is SQLite and
/// a pooled connection is free at once; otherwise (PostgreSQL, whose reads
/// wait on the network, or every connection busy) `f` comes back unrun as
/// the error, for the caller to take to the blocking pool. In WAL mode a SQLite read never waits
/// for a writer, so a few indexed lookups take tens of microseconds here,
/// less than the two thread hops of the blocking pool. `f` must only read:
/// a write transaction inside it fails (a write could wait for the writer
/// and stall the async worker that called).
pub fn read_here<T, F>(pool: &Pool, f: F) -> Result<Result<T, StoreError>, F>
where
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError>,
{
    let Some(mut conn) = pool.try_get().filter(|c| c.kind() == DbKind::Sqlite) else {
        return Err(f);
    };
    struct Reading;
    impl Drop for Reading {
        // Cleared even if `f` panics, or every later write on this thread
        // would be refused.
        fn drop(&mut self) {
            READING_HERE.with(|r| r.set(false));
        }
    }
    READING_HERE.with(|r| r.set(true));
    let _reading = Reading;
    // One read transaction: the page's reads see one snapshot and take
    // SQLite's shared WAL lock once, not once per statement.
    let conn: &mut DbConnection = &mut conn;
    Ok(conn.transaction(f))
}

thread_local! {
    /// Set while [`read_here`] runs a read on this thread.
    static READING_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::from)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// The pool of connections, and on SQLite the connection kept for writes.
#[derive(Clone)]
pub struct Pool {
    connections: r2d2::Pool<Manager>,
    writer: Option<Arc<KeptWriter>>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &r2d2::Pool<Manager> {
        &self.connections
    }
}
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds the pool, failing fast (with the driver's message) when the
/// database cannot be reached.
pub fn build_pool(url: &str, size: u32) -> Result<Pool, StoreError> {
    // Try once directly so the error names the real cause; on SQLite that
    // connection is kept for writes.
    let first = establish(url)?;
    let writer = match first {
        DbConnection::Sqlite(_) => Some(Arc::new(KeptWriter {
            url: url.to_string(),
            conn: std::sync::Mutex::new(first),
        })),
        DbConnection::Postgres(_) => None,
    };
    let connections = r2d2::Pool::builder()
        .max_size(size)
        // A PostgreSQL connection can die with its server (a restart): each
        // is checked as it is taken. A SQLite connection is a file opened by
        // this process and cannot; checking it cost a query per request.
        .test_on_check_out(DbKind::of_url(url) == DbKind::Postgres)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager { url: url.to_string() })
        .map_err(|e| StoreError::Unreachable(format!("{}: {e}", describe_url(url))))?;
    Ok(Pool { connections, writer })
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary but fixed key for the PostgreSQL advisory lock around migrations.
const MIGRATION_LOCK_KEY: i64 = 0x5241_5050_4f52_5401;

/// Applies pending migrations. On PostgreSQL this runs under an advisory
/// lock so several instances can start against one empty database at once.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let migrate = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => Ok(c.run_pending_migrations(SQLITE_MIGRATIONS).map_err(migrate)?.len()),
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result.map_err(migrate)
        }
    }
}

/// True when no migration is pending (used by `/readyz`).
pub fn migrations_applied(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(|e| StoreError::Migration(e.to_string()))
}

impl DbConnection {
    pub fn kind(&self) -> DbKind {
        match self {
            DbConnection::Postgres(_) => DbKind::Postgres,
            DbConnection::Sqlite(_) => DbKind::Sqlite,
        }
    }

    /// A read-then-write transaction. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so two writers never fail on lock upgrade, and
    /// runs it on the pool's kept writer inside [`crate::store::blocking`]
    /// (`f` gets that connection).
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        if READING_HERE.with(|r| r.get()) {
            return Err(diesel::result::Error::QueryBuilderError(
                "a write inside a read run in place (store::read_here)".into(),
            )
            .into());
        }
        // SQLite has one writer at a time. Queue writers of this process on a
        // lock rather than in SQLite's busy handler, which sleeps and retries
        // (long tails under load); other processes still meet busy_timeout.
        let gate = match self {
            DbConnection::Sqlite(_) if !SQLITE_WRITER.is_held_by_this_thread() => Some(SQLITE_WRITER.enter()),
            _ => None,
        };
        // An outermost SQLite write runs on the pool's kept writer when there
        // is one (a nested one is already on it).
        if gate.is_some()
            && let Some(kept) = KEPT_WRITER.with(|w| w.borrow().clone())
        {
            let mut writer = kept.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // A panic inside an earlier write left it mid-transaction.
            if diesel::r2d2::R2D2Connection::is_broken(&mut *writer) {
                *writer = establish(&kept.url).map_err(|_| diesel::result::Error::BrokenTransactionManager)?;
            }
            return writer.run_write(f);
        }
        self.run_write(f)
    }

    /// `f` in a write transaction on this connection (a savepoint when one
    /// is open).
    fn run_write<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        match self {
            // Nested: a savepoint inside the outer (already immediate) transaction.
            DbConnection::Sqlite(c) => match AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
                Err(diesel::result::Error::AlreadyInTransaction) => AnsiTransactionManager::begin_transaction(c)?,
                other => other?,
            },
            DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
        }
        match f(self) {
            Ok(value) => match <DbConnection as TransactionManager<DbConnection>>::commit_transaction(self) {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(self);
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(self);
                Err(e)
            }
        }
    }
}

impl DbConnection {
    /// Runs `f` in a write transaction and rolls it back whatever happens:
    /// what a change would do, with nothing changed (the import preview).
    pub fn dry_run<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let mut outcome = None;
        let begun = self.write_transaction(|conn| -> Result<(), E> {
            outcome = Some(f(conn));
            Err(diesel::result::Error::RollbackTransaction.into())
        });
        // No outcome only when the transaction could not begin.
        outcome.unwrap_or_else(|| begun.and(Err(diesel::result::Error::RollbackTransaction.into())))
    }
}

/// The process-wide queue of SQLite writers (see `write_transaction`).
/// Re-entrant per thread, so nested write transactions do not deadlock.
/// Fails when the database takes reads but not writes: a read-only SQLite
/// file or folder, a full disk, a PostgreSQL standby. A write is begun and
/// rolled back; nothing changes.
pub fn check_writable(conn: &mut DbConnection) -> Result<(), StoreError> {
    let probe = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        conn.batch_execute("UPDATE settings SET value = value WHERE 1 = 0")?;
        Err(diesel::result::Error::RollbackTransaction)
    });
    match probe {
        Err(diesel::result::Error::RollbackTransaction) | Ok(()) => Ok(()),
        Err(e) => Err(StoreError::Unreachable(format!(
            "the database cannot be written to: {}",
            first_line(&e.to_string())
        ))),
    }
}

/// An error that may come from two writers racing for the same row: the
/// loser's check-then-insert hits a unique index (PostgreSQL at READ
/// COMMITTED), or a serializable transaction is refused. Running the
/// transaction again sees the winner's row and takes the update path.
pub trait MayRace {
    fn is_race(&self) -> bool;
}

impl MayRace for diesel::result::Error {
    fn is_race(&self) -> bool {
        use diesel::result::DatabaseErrorKind::{SerializationFailure, UniqueViolation};
        matches!(
            self,
            diesel::result::Error::DatabaseError(UniqueViolation | SerializationFailure, _)
        )
    }
}

impl MayRace for StoreError {
    fn is_race(&self) -> bool {
        matches!(self, StoreError::Query(e) if e.is_race())
    }
}

/// Attempts of a racing idempotent write before its error is returned.
const RACE_ATTEMPTS: usize = 5;

impl DbConnection {
    /// [`DbConnection::write_transaction`] for idempotent writes ("create or
    /// update by external id"): a transaction that lost a race to another
    /// writer is rolled back and run again, so two identical requests at
    /// the same moment both succeed and store one row.
    pub fn idempotent_write<T, E, F>(&mut self, mut f: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + MayRace,
    {
        let mut attempt = 1;
        loop {
            match self.write_transaction(&mut f) {
                Err(e) if e.is_race() && attempt < RACE_ATTEMPTS => {
                    attempt += 1;
                    tracing::debug!(
                        attempt,
                        "a concurrent write won the race; running the transaction again"
                    );
                }
                other => return other,
            }
        }
    }
}

static SQLITE_WRITER: WriterGate = WriterGate::new();

struct WriterGate {
    lock: std::sync::Mutex<()>,
    holder: std::sync::atomic::AtomicU64,
}

thread_local! {
    static THREAD_ID: u64 = {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
}

struct GateGuard {
    _guard: std::sync::MutexGuard<'static, ()>,
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        SQLITE_WRITER.holder.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}

impl WriterGate {
    const fn new() -> WriterGate {
        WriterGate {
            lock: std::sync::Mutex::new(()),
            holder: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn is_held_by_this_thread(&'static self) -> bool {
        THREAD_ID.with(|id| self.holder.load(std::sync::atomic::Ordering::SeqCst) == *id)
    }

    fn enter(&'static self) -> GateGuard {
        let guard = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        THREAD_ID.with(|id| self.holder.store(*id, std::sync::atomic::Ordering::SeqCst));
        GateGuard { _guard: guard }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_pool(name: &str) -> (Pool, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("rapport-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let pool = build_pool(&format!("sqlite://{}", path.display()), 2).unwrap();
        (pool, path)
    }

    #[test]
    fn a_read_runs_in_place_on_sqlite_and_a_write_inside_it_is_refused() {
        let (pool, path) = sqlite_pool("read-here");
        let here = std::thread::current().id();
        let read = read_here(&pool, |conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(std::thread::current().id())
        });
        assert_eq!(read.ok().map(Result::unwrap), Some(here), "ran on this thread");

        let write = read_here(&pool, |conn| {
            conn.write_transaction(|c| c.batch_execute("CREATE TABLE t (x INTEGER)").map_err(StoreError::from))
        });
        let refused = write.ok().expect("ran in place").expect_err("a write is refused");
        assert!(refused.to_string().contains("a write inside a read"), "{refused}");
        // The flag is cleared: the next write on this thread goes ahead.
        let mut conn = pool.get().unwrap();
        conn.write_transaction(|c| c.batch_execute("CREATE TABLE t (x INTEGER)").map_err(StoreError::from))
            .unwrap();

        // Every connection busy: the caller is told to go elsewhere.
        let _busy = pool.get().unwrap();
        assert!(read_here(&pool, |_| Ok(())).is_err());
        drop((conn, _busy, pool));
        let _ = std::fs::remove_file(&path);
    }

    /// Inside `store::blocking` a write runs on the pool's kept writer,
    /// and a panic in the middle of one leaves it usable.
    #[test]
    fn writes_run_on_the_kept_writer_and_a_panic_inside_one_does_not_wedge_it() {
        let (pool, path) = sqlite_pool("kept-writer");
        let mut conn = pool.get().unwrap();
        conn.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let given = &*conn as *const DbConnection as usize;
        let on: usize = writing_through(&pool, || {
            conn.write_transaction(|c| {
                c.batch_execute("INSERT INTO t VALUES (1)")?;
                Ok::<_, StoreError>(c as *const DbConnection as usize)
            })
        })
        .unwrap();
        assert_ne!(on, given, "the write ran on the kept writer");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            writing_through(&pool, || {
                conn.write_transaction(|c| -> Result<(), StoreError> {
                    c.batch_execute("INSERT INTO t VALUES (2)")?;
                    panic!("a bug in the middle of a write");
                })
            })
        }));
        assert!(panicked.is_err());
        writing_through(&pool, || {
            conn.write_transaction(|c| c.batch_execute("INSERT INTO t VALUES (3)").map_err(StoreError::from))
        })
        .unwrap();
        let listed: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
            "(SELECT group_concat(x) FROM t)",
        ))
        .get_result(&mut *pool.get().unwrap())
        .unwrap();
        assert_eq!(listed, "1,3", "the panicked write left nothing; the next one committed");
        drop((conn, pool));
        let _ = std::fs::remove_file(&path);
    }
}
