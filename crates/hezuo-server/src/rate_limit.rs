//! Request rates per token and per client address (API.md "Operations": 429 in the error
//! envelope with `Retry-After`). `governor`'s keyed GCRA limiters: N requests a minute, in
//! bursts of up to N. The client address is the socket's peer, or — when the peer is a trusted
//! proxy (`HEZUO_TRUSTED_PROXIES`) — the nearest address in `X-Forwarded-For` that is not one.
//! Probes and metrics are never limited.

use crate::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The caller's credential: the bearer token, else the console's cookies.
pub(crate) fn credential(headers: &HeaderMap) -> Option<&HeaderValue> {
    headers.get(header::AUTHORIZATION).or_else(|| headers.get(header::COOKIE))
}

#[derive(Clone)]
pub(crate) struct Limits {
    token: Option<Arc<DefaultKeyedRateLimiter<u64>>>,
    address: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    app: hezuo_app::App,
    hasher: std::collections::hash_map::RandomState,
    requests: Arc<AtomicU64>,
}

/// Every this many requests, keys idle long enough to be full again are forgotten.
const PRUNE_EVERY: u64 = 10_000;

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<Arc<DefaultKeyedRateLimiter<K>>> {
    NonZeroU32::new(per_minute).map(|n| Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))))
}

impl Limits {
    /// The limits of `app.config`; `None` when both are off.
    pub(crate) fn new(app: &hezuo_app::App) -> Option<Limits> {
        let (token, address) = (limiter(app.config.rate_limit_token), limiter(app.config.rate_limit_address));
        (token.is_some() || address.is_some()).then(|| Limits {
            token,
            address,
            app: app.clone(),
            hasher: Default::default(),
            requests: Arc::default(),
        })
    }

    fn prune_now_and_then(&self) {
        if self.requests.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            if let Some(l) = &self.token {
                l.retain_recent();
            }
            if let Some(l) = &self.address {
                l.retain_recent();
            }
        }
    }

    /// The client's address: the peer, or what a trusted proxy in front of it says.
    fn client(&self, req: &Request) -> Option<IpAddr> {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
        let trusted = &self.app.config.trusted_proxies;
        if !trusted.contains(peer) {
            return Some(peer);
        }
        let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|a| a.trim().parse().ok()).collect();
        // Right to left: each proxy appends the address it saw; the first one not ours is the client.
        Some(hops.iter().rev().find(|ip| !trusted.contains(**ip)).or(hops.first()).copied().unwrap_or(peer))
    }
}

fn too_many(what: &str, wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests from this {what}; try again in {secs} s"),
    )
    .with_retry_after(secs)
    .into_response()
}

pub(crate) async fn limit(State(l): State<Limits>, req: Request, next: Next) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    l.prune_now_and_then();
    let now = DefaultClock::default().now();
    if let (Some(limiter), Some(ip)) = (&l.address, l.client(&req))
        && let Err(until) = limiter.check_key(&ip)
    {
        return too_many("address", until.wait_time_from(now));
    }
    if let (Some(limiter), Some(c)) = (&l.token, credential(req.headers()))
        && let Err(until) = limiter.check_key(&l.hasher.hash_one(c.as_bytes()))
    {
        return too_many("token", until.wait_time_from(now));
    }
    next.run(req).await
}
