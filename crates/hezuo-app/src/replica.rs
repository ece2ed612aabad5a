//! Reads on a PostgreSQL streaming replica (`HEZUO_READ_DATABASE_URL`): reports, lists and
//! exports go to it while it answers and keeps up; everything else, and a caller's reads right
//! after its own writes, stay on the primary.
//!
//! Lag is measured against the primary, not from the replica's last replayed transaction (which
//! is old whenever the service is quiet): every second the primary's WAL position is sampled,
//! and the lag is how long the oldest sample the replica has not yet replayed has been waiting.
//! A replica that does not answer, or lags more than the bound, is not read from until it
//! catches up again.

use hezuo_db::sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the replica's position is checked.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Whether reads may go to the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Not checked yet: reads stay on the primary.
    Starting,
    /// Answering and within the lag bound: reports, lists and exports are read there.
    Ok,
    /// Answering but behind by more than the bound: reads stay on the primary.
    Lagging,
    /// Not answering: reads stay on the primary.
    Down,
}

/// What `/readyz` says of the replica.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplicaStatus {
    pub state: ReplicaState,
    /// How long the replica has been behind the primary, in milliseconds (0 when caught up);
    /// absent while it is down.
    pub lag_ms: Option<u64>,
    /// The bound above which reads fall back to the primary, in milliseconds.
    pub max_lag_ms: u64,
}

pub(crate) struct Replica {
    pub(crate) db: DatabaseConnection,
    max_lag: Duration,
    state: AtomicU8,
    lag_ms: AtomicU64,
    /// The primary's WAL positions not yet replayed on the replica, oldest first, with when
    /// they were seen.
    pending: Mutex<VecDeque<(Instant, i64)>>,
}

impl Replica {
    pub(crate) fn new(db: DatabaseConnection, max_lag: Duration) -> Replica {
        Replica {
            db,
            max_lag,
            state: AtomicU8::new(ReplicaState::Starting as u8),
            lag_ms: AtomicU64::new(0),
            pending: Mutex::default(),
        }
    }

    pub(crate) fn state(&self) -> ReplicaState {
        match self.state.load(Ordering::Acquire) {
            1 => ReplicaState::Ok,
            2 => ReplicaState::Lagging,
            3 => ReplicaState::Down,
            _ => ReplicaState::Starting,
        }
    }

    pub(crate) fn status(&self) -> ReplicaStatus {
        let state = self.state();
        ReplicaStatus {
            state,
            lag_ms: (state != ReplicaState::Down).then(|| self.lag_ms.load(Ordering::Acquire)),
            max_lag_ms: u64::try_from(self.max_lag.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn set(&self, state: ReplicaState) {
        let old = self.state.swap(state as u8, Ordering::AcqRel);
        if old != state as u8 {
            match state {
                ReplicaState::Ok => tracing::info!("read replica in use"),
                ReplicaState::Lagging => tracing::warn!(
                    lag_ms = self.lag_ms.load(Ordering::Acquire),
                    "read replica lags: reads go to the primary"
                ),
                ReplicaState::Down => tracing::warn!("read replica not answering: reads go to the primary"),
                ReplicaState::Starting => {}
            }
        }
    }

    /// One check: the primary's position now, the replica's replayed position, the lag.
    async fn check(&self, primary: &DatabaseConnection) {
        let now = Instant::now();
        let Ok(Some(head)) = position(primary, "pg_current_wal_lsn()").await else {
            // The primary is what is down; readiness says so. The replica's state stands.
            return;
        };
        let replayed = tokio::time::timeout(2 * CHECK_INTERVAL, replayed(&self.db)).await;
        let lag = {
            let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if pending.back().is_none_or(|&(_, p)| p < head) {
                pending.push_back((now, head));
            }
            let Ok(Ok(replayed)) = replayed else {
                drop(pending);
                self.set(ReplicaState::Down);
                return;
            };
            // Not a standby (e.g. pointed at the primary itself): never behind.
            let replayed = replayed.unwrap_or(i64::MAX);
            while pending.front().is_some_and(|&(_, p)| p <= replayed) {
                pending.pop_front();
            }
            pending.front().map_or(Duration::ZERO, |&(seen, _)| now.saturating_duration_since(seen))
        };
        self.lag_ms.store(u64::try_from(lag.as_millis()).unwrap_or(u64::MAX), Ordering::Release);
        self.set(if lag > self.max_lag { ReplicaState::Lagging } else { ReplicaState::Ok });
    }
}

/// A WAL position as a number of bytes.
async fn position(db: &DatabaseConnection, lsn: &str) -> Result<Option<i64>, hezuo_db::sea_orm::DbErr> {
    let sql = format!("SELECT ({lsn} - '0/0'::pg_lsn)::bigint");
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten()))
}

/// The replica's replayed position; `None` when it is not in recovery.
async fn replayed(db: &DatabaseConnection) -> Result<Option<i64>, hezuo_db::sea_orm::DbErr> {
    let sql = "SELECT CASE WHEN pg_is_in_recovery() THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END";
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<Option<i64>>(0).ok().flatten()))
}

/// Checks the replica every [`CHECK_INTERVAL`] until the application is dropped.
pub(crate) fn spawn_monitor(replica: &std::sync::Arc<Replica>, primary: DatabaseConnection) {
    let weak = std::sync::Arc::downgrade(replica);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(replica) = weak.upgrade() else { return };
            replica.check(&primary).await;
        }
    });
}

tokio::task_local! {
    /// Set by the HTTP layer for a request whose caller wrote moments ago: its reads stay on
    /// the primary so that it sees its own writes.
    static READ_PRIMARY: bool;
}

/// Runs `f` with every read on the primary (a caller that has just written).
pub async fn on_primary<F: std::future::Future>(f: F) -> F::Output {
    READ_PRIMARY.scope(true, f).await
}

fn primary_wanted() -> bool {
    READ_PRIMARY.try_with(|p| *p).unwrap_or(false)
}

impl crate::App {
    /// The connection for reports, lists and exports: the replica while it is usable and the
    /// caller has not just written, else the primary.
    pub(crate) fn reader(&self) -> &DatabaseConnection {
        match &self.replica {
            Some(r) if r.state() == ReplicaState::Ok && !primary_wanted() => &r.db,
            _ => &self.db,
        }
    }

    /// The replica's state, when one is configured.
    pub fn replica_status(&self) -> Option<ReplicaStatus> {
        self.replica.as_ref().map(|r| r.status())
    }

    /// How long after a write its caller's reads stay on the primary: the lag bound, plus the
    /// time the measurement may be out of date.
    pub fn read_your_writes_window(&self) -> Option<Duration> {
        self.replica.as_ref().map(|r| r.max_lag + 3 * CHECK_INTERVAL)
    }
}
