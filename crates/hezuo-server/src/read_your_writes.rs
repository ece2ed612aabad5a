//! With a read replica, a caller that has just written reads from the primary for a while
//! (`App::read_your_writes_window`), so that a list or report right after its own write shows
//! it; the replica serves everyone else. A caller is its credential: the bearer token, or the
//! console's session cookie. Only a keyed hash of it is kept, in memory, for the window.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Callers that wrote within the window, by the hash of their credential.
#[derive(Clone)]
pub(crate) struct RecentWriters {
    window: Duration,
    hasher: std::collections::hash_map::RandomState,
    last_write: Arc<Mutex<HashMap<u64, Instant>>>,
}

/// More callers than this remembered at once: the expired ones are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl RecentWriters {
    pub(crate) fn new(window: Duration) -> RecentWriters {
        RecentWriters { window, hasher: Default::default(), last_write: Arc::default() }
    }

    fn caller(&self, req: &Request) -> Option<u64> {
        Some(self.hasher.hash_one(crate::rate_limit::credential(req.headers())?.as_bytes()))
    }

    fn wrote(&self, caller: u64) {
        let now = Instant::now();
        let mut map = self.last_write.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= PRUNE_ABOVE {
            map.retain(|_, at| now.duration_since(*at) < self.window);
        }
        map.insert(caller, now);
    }

    fn wrote_recently(&self, caller: u64) -> bool {
        let map = self.last_write.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&caller).is_some_and(|at| at.elapsed() < self.window)
    }
}

pub(crate) async fn route_reads(State(w): State<RecentWriters>, req: Request, next: Next) -> Response {
    let caller = w.caller(&req);
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD);
    if reads_only && !caller.is_some_and(|c| w.wrote_recently(c)) {
        return next.run(req).await;
    }
    let res = hezuo_app::replica::on_primary(next.run(req)).await;
    if !reads_only && let Some(c) = caller {
        w.wrote(c);
    }
    res
}
