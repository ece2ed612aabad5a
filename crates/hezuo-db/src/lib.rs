//! The database: connection set-up for SQLite and PostgreSQL, migrations, and the sea-orm
//! entities. The only crate that knows tables.

pub mod entities;

use hezuo_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

pub use hezuo_migration::{TRACE_ALPHABET, TRACE_CODE_LEN, trace_code};
pub use sea_orm;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (expected sqlite:… or postgres://…)")]
    UnsupportedUrl,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The URL of a SQLite file, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The file of a SQLite URL; `None` for an in-memory database or another backend.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    if Backend::of_url(url) != Some(Backend::Sqlite) || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let opts = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    Some(opts.get_filename().to_owned())
}

/// How every SQLite connection that commits runs: write-ahead log, foreign keys, and
/// `synchronous=FULL` — each commit syncs the log before it returns, so a transaction that was
/// answered survives a power loss (with `NORMAL` the last commits before one could be lost;
/// docs/operations.md). The order writer batches many orders per commit, so one sync serves many.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;";

/// Opens a pool. SQLite files are created if missing and run with WAL, foreign keys, a busy
/// timeout and `synchronous=FULL` ([`SQLITE_PRAGMAS`]).
pub async fn connect(url: &str) -> Result<DatabaseConnection, ConnectError> {
    connect_warm(url, 1).await
}

/// `connect`, keeping at least `warm` PostgreSQL connections open however quiet the service
/// is. A connection opened on demand costs its first requests ~100 ms (a new backend loads its
/// catalog caches and prepares every statement again): a service keeps enough open for its
/// concurrent reads (`Config::postgres_warm_connections`; BENCHMARKS.md "Village income and
/// reports"). SQLite keeps one.
pub async fn connect_warm(url: &str, warm: u32) -> Result<DatabaseConnection, ConnectError> {
    let backend = Backend::of_url(url).ok_or(ConnectError::UnsupportedUrl)?;
    let mut opts = ConnectOptions::new(url.to_owned());
    // A pooled connection is pinged before use only after it has been idle for a while (the
    // server may have dropped it meanwhile); pinging on every checkout would double the round
    // trips of every statement run outside a transaction.
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30));
    match backend {
        Backend::Sqlite => {
            opts.max_connections(8).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .synchronous(SqliteSynchronous::Full)
            });
        }
        Backend::Postgres => {
            opts.max_connections(POSTGRES_MAX_CONNECTIONS).min_connections(warm.clamp(1, POSTGRES_MAX_CONNECTIONS));
        }
    }
    let db = Database::connect(opts).await?;
    Ok(db)
}

/// A read-only pool on a PostgreSQL streaming replica (`HEZUO_READ_DATABASE_URL`). Lazy: the
/// service starts while the replica is down, and a connection waits at most 2 s, so a replica
/// that stops answering costs a report that long before reads fall back to the primary.
pub async fn connect_replica(url: &str) -> Result<DatabaseConnection, ConnectError> {
    if Backend::of_url(url) != Some(Backend::Postgres) {
        return Err(ConnectError::UnsupportedUrl);
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(POSTGRES_MAX_CONNECTIONS / 2)
        .min_connections(0)
        .connect_lazy(true)
        .acquire_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        // Every checkout is pinged: after the replica restarts, its old connections are found
        // dead here instead of failing a report.
        .test_before_acquire(true);
    Ok(Database::connect(opts).await?)
}

/// The most PostgreSQL connections one service opens.
pub const POSTGRES_MAX_CONNECTIONS: u32 = 32;

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether every known migration has been applied (for readiness).
pub async fn migrations_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// A cheap round trip to the database.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

pub fn backend(db: &DatabaseConnection) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}
