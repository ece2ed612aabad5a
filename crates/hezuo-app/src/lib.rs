//! The use cases of hezuo. Each public operation is one business operation, runs in one
//! database transaction where it writes, and checks the caller's scope before anything else.
//! The HTTP server and the CLI both call these; neither touches the database directly.

pub mod auth;
pub mod backup;
pub mod catalog;
mod config;
pub mod demo;
mod error;
mod exec;
pub use exec::{next_id, rusqlite_params, statement};
pub mod export;
pub mod feeds;
pub mod ledger;
pub mod metrics;
pub mod openapi;
pub mod orders;
mod outbound;
mod page;
pub mod periods;
pub mod reconciliation;
pub mod replica;
pub mod reports;
mod scope;
pub mod secrets;
pub mod setup;
mod validate;
pub mod verify;
pub mod webhooks;

pub use auth::{Actor, Principal, Role};
pub use config::Config;
pub use error::AppError;
pub use page::{Page, PageRequest};

/// Largest CSV file a bulk import takes (about 100,000 rows), through the API or the console.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Largest platform statement an upload takes (a million-row statement is about 60–150 MiB).
pub const STATEMENT_BODY_LIMIT: usize = 256 * 1024 * 1024;

use hezuo_db::sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The application: a database pool and the configuration, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// SQLite has one writer at a time. Queuing write transactions here, instead of letting
    /// them meet SQLite's busy handler (which sleeps and retries), keeps tail latency low.
    sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The writer that books orders on a SQLite file (`orders::intake`); PostgreSQL books each
    /// order in its own transaction.
    intake: Option<orders::OrderIntake>,
    /// The business clock: when refunds are booked and which periods have ended. The system
    /// clock unless set (tests and simulations replay months in minutes).
    clock: Arc<std::sync::RwLock<Option<chrono::DateTime<chrono::Utc>>>>,
    /// One statement import per channel at a time (matching reads what earlier statements of
    /// the channel settled); imports of other channels go side by side.
    statement_imports: KeyedLocks,
    /// The business metrics (`/metrics`).
    pub metrics: Arc<metrics::Metrics>,
    /// Wakes the webhook worker when this process has written an event.
    pub(crate) webhook_wake: Arc<tokio::sync::Notify>,
    /// Set when the process begins to shut down: `/readyz` answers 503 from then on.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// The read replica, when `HEZUO_READ_DATABASE_URL` names one.
    replica: Option<Arc<replica::Replica>>,
}

/// Async locks by key, made when first asked for.
#[derive(Clone, Default)]
pub(crate) struct KeyedLocks(Arc<std::sync::Mutex<std::collections::HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>);

impl KeyedLocks {
    pub(crate) async fn lock(&self, key: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(key).or_default().clone()
        };
        m.lock_owned().await
    }
}

impl App {
    /// Connects to the configured database and applies pending migrations.
    pub async fn open(config: Config) -> Result<App, AppError> {
        let db = hezuo_db::connect_warm(&config.database_url, config.postgres_warm_connections)
            .await
            .map_err(|e| AppError::Internal(format!("cannot open the database: {e}")))?;
        hezuo_db::migrate(&db).await?;
        let sqlite_writer =
            (hezuo_db::backend(&db) == hezuo_db::Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        let metrics = Arc::<metrics::Metrics>::default();
        let intake = match (&sqlite_writer, hezuo_db::sqlite_file(&config.database_url)) {
            (Some(turn), Some(file)) => Some(orders::OrderIntake::start_sqlite(&file, turn.clone(), metrics.clone())?),
            _ => None,
        };
        let replica = match &config.read_database_url {
            None => None,
            Some(url) => {
                if hezuo_db::backend(&db) != hezuo_db::Backend::Postgres {
                    return Err(AppError::Internal(
                        "HEZUO_READ_DATABASE_URL is for PostgreSQL: the primary is SQLite".into(),
                    ));
                }
                let read = hezuo_db::connect_replica(url)
                    .await
                    .map_err(|e| AppError::Internal(format!("cannot open the read replica: {e}")))?;
                let r = Arc::new(replica::Replica::new(read, config.replica_max_lag));
                replica::spawn_monitor(&r, db.clone());
                Some(r)
            }
        };
        let app = App {
            replica,
            db,
            config: Arc::new(config),
            sqlite_writer,
            intake,
            clock: Arc::default(),
            statement_imports: KeyedLocks::default(),
            metrics,
            webhook_wake: Arc::default(),
            stopping: Arc::default(),
        };
        app.discard_abandoned_statements().await?;
        Ok(app)
    }

    /// Waits for this process's turn to write (SQLite only; PostgreSQL writers run side by
    /// side). Hold the guard until the transaction has committed or rolled back.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.sqlite_writer {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// The connection for a write outside a transaction (one statement), after this process's
    /// turn to write: on SQLite every write queues here, so none meets a busy database.
    pub(crate) async fn writer(&self) -> Writer<'_> {
        Writer { _turn: self.write_turn().await, db: &self.db }
    }

    /// Tells the webhook worker (`webhooks::run_worker`) that deliveries may be due.
    pub(crate) fn wake_webhooks(&self) {
        self.webhook_wake.notify_one();
    }

    /// The business clock's now (to the microsecond).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        let fixed = *self.clock.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        fixed.map_or_else(now, |t| t.trunc_subsecs(6))
    }

    /// Sets the business clock to `at`, or back to the system clock with `None`.
    pub fn set_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        *self.clock.write().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// The process is shutting down: it is no longer ready for new work (requests under way
    /// still finish).
    pub fn begin_shutdown(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether [`App::begin_shutdown`] was called.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Readiness: not shutting down, the database answers and every migration is applied.
    pub async fn ready(&self) -> Result<(), AppError> {
        if self.stopping() {
            return Err(AppError::Internal("shutting down".into()));
        }
        hezuo_db::ping(&self.db).await?;
        if !hezuo_db::migrations_current(&self.db).await? {
            return Err(AppError::Internal("migrations pending".into()));
        }
        Ok(())
    }
}

/// The database connection while holding the writer turn (`App::writer`).
pub(crate) struct Writer<'a> {
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
    db: &'a DatabaseConnection,
}

impl std::ops::Deref for Writer<'_> {
    type Target = DatabaseConnection;
    fn deref(&self) -> &DatabaseConnection {
        self.db
    }
}

/// Ends a business operation's transaction: commits it when `result` is Ok, else rolls it back.
pub(crate) async fn finish<T>(
    txn: hezuo_db::sea_orm::DatabaseTransaction,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    match result {
        Ok(v) => {
            txn.commit().await?;
            Ok(v)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Now, truncated to microseconds so that it reads back the same from every database.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
