//! The SQLite order writer: one thread with its own connection books the orders, and books
//! whatever has queued meanwhile in one transaction (group commit). Each order runs under its
//! own savepoint (an order refused — not enough stock, a repeated id — leaves no trace and the
//! others stand), and each request is answered only once the transaction has committed.
//!
//! SQLite has one writer at a time however many connections there are, and sqlx hands each
//! SQLite statement to a worker thread and back — on an order's dozen statements the hand-offs
//! cost several times SQLite's own work. The thread runs the same booking code as PostgreSQL
//! ([`book_order`], here over [`Lite`]) with cached prepared statements. Other writers of this
//! process take the same writer turn ([`crate::App::write_turn`]), so they never meet this
//! thread inside SQLite's busy handler. Checkpoints of the write-ahead log run on a second
//! thread, beside the writer instead of inside its commits.

use super::OrderView;
use super::place::{Intake, book_order};
use crate::AppError;
use crate::exec::{Lite, lite_error};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Orders booked in one transaction at most (each up to 100 lines).
const MAX_BATCH: usize = 64;

/// Requests waiting for the writer; beyond this, callers wait to queue.
const QUEUE: usize = 1024;

/// The least time between two checkpoints of the write-ahead log.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Prepared statements kept per shape (multi-row INSERTs have one shape per row count).
const STATEMENT_CACHE: usize = 256;

struct Job {
    intake: Intake,
    reply: oneshot::Sender<Result<OrderView, AppError>>,
}

/// The handle of the order writer; cheap to clone. The writer ends when the last handle is
/// dropped.
#[derive(Clone)]
pub(crate) struct OrderIntake {
    queue: mpsc::Sender<Job>,
}

/// The next batch: `first` and whatever else has queued, up to [`MAX_BATCH`].
fn batch(first: Job, jobs: &mut mpsc::Receiver<Job>) -> Vec<Job> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    batch
}

/// Answers every job of a batch with its result (or the batch's failure), once it has ended.
fn answer(batch: Vec<Job>, results: Result<Vec<Result<OrderView, AppError>>, AppError>) {
    let results = results.unwrap_or_else(|e| {
        tracing::error!(error = %e, orders = batch.len(), "order batch rolled back");
        batch.iter().map(|_| Err(AppError::Internal(format!("order not booked: {e}")))).collect()
    });
    for (job, result) in batch.into_iter().zip(results) {
        // The caller may have gone; the order stands either way (a retry replays it).
        let _ = job.reply.send(result);
    }
}

impl OrderIntake {
    /// Opens the SQLite writer's connection to the database file at `path` (already created
    /// and migrated) and starts its thread.
    pub(crate) fn start_sqlite(
        path: &Path,
        turn: Arc<Mutex<()>>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<OrderIntake, AppError> {
        let conn = writer_connection(path)?;
        let checkpoints = rusqlite::Connection::open(path).map_err(lite_error)?;
        checkpoints.busy_timeout(Duration::from_secs(10)).map_err(lite_error)?;
        let (kick, kicked) = std::sync::mpsc::sync_channel(1);
        let (queue, jobs) = mpsc::channel(QUEUE);
        let thread = |name: &str| std::thread::Builder::new().name(name.into());
        let failed = |e: std::io::Error| AppError::Internal(format!("cannot start the order writer: {e}"));
        thread("hezuo-checkpoint").spawn(move || checkpoint(&checkpoints, &kicked)).map_err(failed)?;
        thread("hezuo-order-writer").spawn(move || run(&conn, &turn, jobs, &kick, &metrics)).map_err(failed)?;
        Ok(OrderIntake { queue })
    }

    /// Books one order; answers once it has committed (or was refused).
    pub(crate) async fn book(&self, intake: Intake) -> Result<OrderView, AppError> {
        let stopped = || AppError::Internal("the order writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue.send(Job { intake, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer's own connection to the database file at `path`.
fn writer_connection(path: &Path) -> Result<rusqlite::Connection, AppError> {
    let conn = rusqlite::Connection::open(path).map_err(lite_error)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(lite_error)?;
    // Durable commits (`synchronous=FULL`: a batch is on disk before any of its orders is
    // answered, one sync per batch); savepoints journal in memory; the pages an order
    // touches stay cached; checkpoints are the checkpointer's (below), not the writer's.
    conn.execute_batch(hezuo_db::SQLITE_PRAGMAS).map_err(lite_error)?;
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0;")
        .map_err(lite_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Checkpoints the write-ahead log after commits, at most every [`CHECKPOINT_EVERY`], on its
/// own connection: copying pages into the database file and syncing it happens beside the
/// writer instead of inside one of its commits. Ends with the writer.
fn checkpoint(conn: &rusqlite::Connection, kicked: &std::sync::mpsc::Receiver<()>) {
    while kicked.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        while kicked.try_recv().is_ok() {}
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = done {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }
}

fn run(
    conn: &rusqlite::Connection,
    turn: &Mutex<()>,
    mut jobs: mpsc::Receiver<Job>,
    kick: &std::sync::mpsc::SyncSender<()>,
    metrics: &crate::metrics::Metrics,
) {
    while let Some(first) = jobs.blocking_recv() {
        let batch = batch(first, &mut jobs);
        metrics.writer_batch(batch.len(), jobs.len());
        let started = std::time::Instant::now();
        let results = {
            let _turn = turn.blocking_lock();
            let results = sqlite_batch(conn, &batch);
            if results.is_err() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            results
        };
        tracing::debug!(orders = batch.len(), micros = started.elapsed().as_micros() as u64, "order batch");
        // One pending request is enough: the checkpointer catches up with everything.
        let _ = kick.try_send(());
        answer(batch, results);
    }
}

/// Books the batch in one transaction: every order's result, or the batch's failure (then the
/// caller rolls back).
fn sqlite_batch(conn: &rusqlite::Connection, batch: &[Job]) -> Result<Vec<Result<OrderView, AppError>>, AppError> {
    let sql = |s: &str| conn.prepare_cached(s).and_then(|mut s| s.execute([])).map(|_| ()).map_err(lite_error);
    sql("BEGIN IMMEDIATE")?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        sql("SAVEPOINT intake")?;
        let booked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            futures_executor::block_on(book_order(&Lite(conn), &job.intake))
        }))
        .map_err(|_| AppError::Internal("order booking panicked".into()))?;
        if booked.is_err() {
            sql("ROLLBACK TO intake")?;
        }
        sql("RELEASE intake")?;
        results.push(booked);
    }
    sql("COMMIT")?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_writer_commits_durably() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::writer_connection(&dir.path().join("w.db")).unwrap();
        let number = |p: &str| conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0)).unwrap();
        let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        // synchronous=FULL is 2; every commit syncs the write-ahead log.
        assert_eq!((journal.as_str(), number("synchronous"), number("foreign_keys")), ("wal", 2, 1));
    }
}
