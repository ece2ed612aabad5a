//! A fake e-commerce platform — Taobao open platform (TOP), Pinduoduo or Douyin 抖店 — served
//! on `127.0.0.1` for tests of hezuo's order feed, playing the protocols of
//! `shared/PLATFORMS.md` §§ 1–4.
//!
//! ```text
//! let fake = FakePlatform::start(Kind::Pdd, Credentials::new("id", "secret", Some("token".into()))).await;
//! fake.put_order(FakeOrder::new("251201-1", FakeStatus::Paid, t).line(FakeLine::new("", "APPLE", 2, Money::from_cents(1230))));
//! // … point the feed's base_url at fake.base_url() and run it …
//! assert_eq!(fake.rejected(), 0);
//! ```
//!
//! # What it checks
//!
//! Every request is verified as the platform would: the route and HTTP method, the app key
//! (Pinduoduo `client_id`), the access token (Taobao `session`) when the fake was started with
//! one, the protocol constants (`v`, `format`, `sign_method`, `data_type`), the timestamp
//! (at most 10 minutes away from the fake's clock, [`FakePlatform::now`]), and the signature,
//! recomputed with hezuo-platforms' own sign functions over exactly the parameters that
//! arrived (Taobao: query and form body together; Pinduoduo: form or JSON body; Douyin: the raw
//! body bytes, which must also be canonical `param_json`). Then the list call itself: a known
//! API, its required parameters, a window with `end > start` and at most the platform's limit
//! ([`Kind::max_window`]: Taobao 1 day, Pinduoduo 30 minutes, Douyin 1 day), a page number
//! from the platform's first page ([`Kind::first_page`]) and a page size from 1 to 100. A
//! request that fails any check gets the platform's error answer and is counted by
//! [`FakePlatform::rejected`] (a test of a correct client asserts it stays 0).
//!
//! # What it answers
//!
//! The rows (orders or refunds) whose modified time `m` lies in the request's window
//! **inclusive at both ends**, `start ≤ m ≤ end`, to the whole second — hezuo reads windows
//! `[from, to)` with an overlap, so an inclusive fake hides nothing from it — sorted by modified
//! time **newest first** (ties by id), cut into pages; the answer's total counts every row of
//! the window. A Douyin request that asks for ascending order (`order_asc=true` on orders,
//! `order_by=["update_time asc"]` on after-sales) gets it, oldest first, as Douyin would.
//! Unpaid and closed orders are listed like the others: the client must skip them. Pinduoduo's
//! filters are honoured: `order_status` 1/2/3 (5 = all), `after_sales_status` 10 (succeeded
//! only; any other value lists all), `after_sales_type` 2/3 (1 = all).
//!
//! Answers are the JSON shapes of PLATFORMS.md with HTTP 200 (errors too, as the platforms do;
//! an unknown route answers 404 with the platform's error JSON). Money: Taobao yuan strings,
//! Pinduoduo yuan as JSON numbers in orders (the shortest exact text, `12.3`, `30`) and strings
//! in refunds, Douyin fen integers. Numeric ids are sent as JSON numbers where the platform
//! does (Taobao `tid`/`oid`/`refund_id`, Pinduoduo `sku_id` and refund `id`), which hezuo must
//! read as exact digits.
//!
//! # Test hooks
//!
//! [`FakePlatform::throttle_next`] makes the next requests get the platform's rate-limit
//! answer; [`FakePlatform::on_page`] changes the data right after a given page was answered
//! (an order that changes between two pages); [`FakePlatform::requests`] logs every request
//! with its window, page and outcome; [`FakePlatform::set_clock_offset`] moves the fake's clock.

mod douyin;
mod model;
mod pdd;
mod server;
mod taobao;
#[cfg(test)]
mod tests;

pub use model::{FakeData, FakeLine, FakeOrder, FakeRefund, FakeStatus};

use chrono::{DateTime, TimeDelta, Utc};
use hezuo_platforms::{Credentials, Platform};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which platform the fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Taobao open platform (TOP): `POST /router/rest` (a GET query is accepted too).
    Taobao,
    /// Pinduoduo: `POST /api/router`, form or JSON body.
    Pdd,
    /// Douyin 抖店: `POST /order/searchList` and `POST /afterSale/List`.
    Douyin,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::Taobao, Kind::Pdd, Kind::Douyin];

    /// The feed's `platform` value: `taobao`, `pdd`, `douyin`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Taobao => "taobao",
            Kind::Pdd => "pdd",
            Kind::Douyin => "douyin",
        }
    }

    /// hezuo-platforms' protocol of this platform.
    pub fn platform(self) -> &'static dyn Platform {
        hezuo_platforms::platform(self.name()).expect("hezuo-platforms knows every Kind")
    }

    /// The longest window (`end − start`) the fake accepts: the platform's own limit (Taobao
    /// 1 day, although hezuo uses 30 minutes; Pinduoduo 30 minutes; Douyin 1 day).
    pub fn max_window(self) -> TimeDelta {
        match self {
            Kind::Taobao | Kind::Douyin => TimeDelta::days(1),
            Kind::Pdd => TimeDelta::minutes(30),
        }
    }

    /// The number of the first page: 1, or 0 on Douyin.
    pub fn first_page(self) -> u32 {
        match self {
            Kind::Taobao | Kind::Pdd => 1,
            Kind::Douyin => 0,
        }
    }
}

/// Which list a call reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// Orders (Taobao trades, Pinduoduo order numbers, Douyin shop orders).
    Orders,
    /// Refunds (after-sales).
    Refunds,
}

/// One request the fake received, as [`FakePlatform::requests`] lists it. Fields the request
/// did not carry (or carried unreadably) are `None`; they are filled for rejected requests too,
/// as far as they could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The HTTP method and path, e.g. `POST /router/rest`.
    pub route: String,
    /// The platform API: Taobao `method`, Pinduoduo `type`, Douyin `method` (`order.searchList`).
    pub api: Option<String>,
    /// The list it reads, when the API is one the fake serves.
    pub list: Option<List>,
    /// The window's start.
    pub start: Option<DateTime<Utc>>,
    /// The window's end.
    pub end: Option<DateTime<Utc>>,
    /// The page number, in the platform's numbering.
    pub page: Option<u32>,
    /// The page size.
    pub page_size: Option<u32>,
    /// The fake's clock when it arrived.
    pub at: DateTime<Utc>,
    /// What the fake answered.
    pub outcome: Outcome,
}

impl LoggedRequest {
    /// The window's span `end − start`, when both were read.
    pub fn span(&self) -> Option<TimeDelta> {
        Some(self.end? - self.start?)
    }
}

/// How the fake answered a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A page of rows: the window's `total` and the number of `rows` on this page.
    Answered {
        /// Rows in the whole window.
        total: u64,
        /// Rows on this page.
        rows: usize,
    },
    /// The platform's rate-limit answer ([`FakePlatform::throttle_next`]).
    Throttled,
    /// The platform's error answer, with the fake's reason (counted by
    /// [`FakePlatform::rejected`]).
    Rejected(String),
}

/// A change to the data made right after a page was answered ([`FakePlatform::on_page`]).
type Hook = Box<dyn FnOnce(&mut FakeData) + Send>;

/// What the handle and the server share.
struct Shared {
    kind: Kind,
    credentials: Credentials,
    state: Mutex<State>,
}

struct State {
    data: FakeData,
    throttle: u32,
    hooks: Vec<(List, u32, Hook)>,
    log: Vec<LoggedRequest>,
    rejected: u64,
    clock_offset: TimeDelta,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked inside a hook must not hide the data from the next assertion.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }
}

/// A running fake platform: an HTTP server on `127.0.0.1` and the handle a test drives it with.
/// The server stops when the handle is dropped (or [`FakePlatform::stop`]ped).
pub struct FakePlatform {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakePlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlatform").field("kind", &self.shared.kind).field("addr", &self.addr).finish()
    }
}

impl FakePlatform {
    /// Starts a fake `kind` platform on `127.0.0.1:0` that accepts requests signed with
    /// `credentials` (and requires their access token when it has one). Must be called inside a
    /// Tokio runtime, which serves it.
    ///
    /// # Panics
    /// When no port can be bound on 127.0.0.1.
    pub async fn start(kind: Kind, credentials: Credentials) -> FakePlatform {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared {
            kind,
            credentials,
            state: Mutex::new(State {
                data: FakeData::default(),
                throttle: 0,
                hooks: Vec::new(),
                log: Vec::new(),
                rejected: 0,
                clock_offset: TimeDelta::zero(),
            }),
        });
        let (shutdown, signal) = oneshot::channel::<()>();
        let app = server::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = signal.await;
            });
            // A failing accept loop ends the fake; the test then sees connection errors.
            let _ = serve.await;
        });
        FakePlatform { shared, addr, shutdown: Some(shutdown), task: Some(task) }
    }

    /// The platform it plays.
    pub fn kind(&self) -> Kind {
        self.shared.kind
    }

    /// The feed's `base_url`: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> Credentials {
        self.shared.credentials.clone()
    }

    /// Stores an order (replacing the one with the same id).
    pub fn put_order(&self, order: FakeOrder) {
        self.shared.lock().data.put_order(order);
    }

    /// Changes the order `id` in place (e.g. its status and modified time).
    ///
    /// # Panics
    /// When there is no such order.
    pub fn update_order(&self, id: &str, change: impl FnOnce(&mut FakeOrder)) {
        let found = self.shared.lock().data.update_order(id, change);
        assert!(found, "the fake platform has no order {id}");
    }

    /// The order `id`.
    pub fn order(&self, id: &str) -> Option<FakeOrder> {
        self.shared.lock().data.order(id).cloned()
    }

    /// Stores a refund (replacing the one with the same id).
    pub fn put_refund(&self, refund: FakeRefund) {
        self.shared.lock().data.put_refund(refund);
    }

    /// Changes the refund `id` in place.
    ///
    /// # Panics
    /// When there is no such refund.
    pub fn update_refund(&self, id: &str, change: impl FnOnce(&mut FakeRefund)) {
        let found = self.shared.lock().data.update_refund(id, change);
        assert!(found, "the fake platform has no refund {id}");
    }

    /// Runs `f` on the data, under the fake's lock (no request is served meanwhile).
    pub fn with_data<R>(&self, f: impl FnOnce(&mut FakeData) -> R) -> R {
        f(&mut self.shared.lock().data)
    }

    /// The next `n` requests that pass verification get the platform's rate-limit answer
    /// (Taobao code 7 "This ban will last for 1 more seconds", Pinduoduo 70031, Douyin 40003)
    /// instead of a page. Adds to any count still pending.
    pub fn throttle_next(&self, n: u32) {
        let mut state = self.shared.lock();
        state.throttle = state.throttle.saturating_add(n);
    }

    /// Runs `hook` on the data once, right after the fake has answered page `page` (in the
    /// platform's numbering) of `list` — before it serves any other request. For an order that
    /// changes between two pages: e.g. bump its modified time after the last page was read, so
    /// that it moves to the first page. Hooks run in the order they were added; throttled and
    /// rejected requests do not trigger them.
    pub fn on_page(&self, list: List, page: u32, hook: impl FnOnce(&mut FakeData) + Send + 'static) {
        self.shared.lock().hooks.push((list, page, Box::new(hook)));
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// How many requests got an error answer (bad credentials, signature, timestamp, window,
    /// page, route…). Throttled requests are not counted.
    pub fn rejected(&self) -> u64 {
        self.shared.lock().rejected
    }

    /// Moves the fake's clock: it reads the real time plus `offset` (timestamps are checked
    /// against it).
    pub fn set_clock_offset(&self, offset: TimeDelta) {
        self.shared.lock().clock_offset = offset;
    }

    /// The fake's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.lock().now()
    }

    /// Stops the server: it accepts no more connections and closes the open ones (waiting up to
    /// 5 seconds for requests in flight).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(std::time::Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for FakePlatform {
    fn drop(&mut self) {
        // Graceful shutdown closes idle keep-alive connections and stops accepting at once.
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
