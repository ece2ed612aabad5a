//! A webhook receiver on `127.0.0.1` for tests of hezuo's outgoing webhooks (PLATFORMS.md §5):
//! it verifies every delivery as a careful receiver would — the Standard Webhooks signature
//! with the endpoint's secret, and a timestamp within 5 minutes — records it, and answers with
//! the statuses it was told to (200 once they run out).
//!
//! ```text
//! let rx = Receiver::start().await;
//! // … create the endpoint with rx.url(), then rx.set_secret(&created["secret"]) …
//! rx.answer(&[500, 200]);
//! let got = rx.wait_for(2).await;
//! assert!(got.iter().all(|d| d.verified));
//! ```

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hezuo_platforms::webhook::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Secret, timestamp_is_fresh};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// The body as JSON.
    pub body: Value,
    /// Whether the signature matched the secret and the timestamp was fresh.
    pub verified: bool,
    /// The status the receiver answered.
    pub answered: u16,
}

#[derive(Default)]
struct Inner {
    secret: Option<Secret>,
    answers: VecDeque<u16>,
    received: Vec<Received>,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let id = header(HEADER_ID);
    let timestamp: i64 = header(HEADER_TIMESTAMP).parse().unwrap_or_default();
    let mut inner = inner.lock().expect("receiver state");
    let verified = inner.secret.as_ref().is_some_and(|s| s.verify(&id, timestamp, &body, &header(HEADER_SIGNATURE)))
        && timestamp_is_fresh(timestamp, chrono::Utc::now())
        && header("content-type") == "application/json";
    // A delivery that fails verification is refused as a receiver would refuse it.
    let answered = if verified { inner.answers.pop_front().unwrap_or(200) } else { 401 };
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.received.push(Received { id, timestamp, body, verified, answered });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}/hooks/hezuo", listener.local_addr().expect("addr"));
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().route("/hooks/hezuo", axum::routing::post(receive)).with_state(inner.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            let _ = serve.await;
        });
        Receiver { url, inner, _stop: stop }
    }

    /// Where hezuo should send deliveries.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The endpoint's secret (`whsec_…`) to verify deliveries with.
    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().expect("receiver state").secret = Some(Secret::parse(secret).expect("whsec_ secret"));
    }

    /// Answers the next deliveries with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.inner.lock().expect("receiver state").answers.extend(statuses);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("receiver state").received.clone()
    }

    /// Waits (up to 30 s) until `n` deliveries have arrived; all that arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let got = self.received();
        panic!("{} deliveries arrived, {n} expected: {got:#?}", got.len());
    }
}
