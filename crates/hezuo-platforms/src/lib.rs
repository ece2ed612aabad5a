//! The protocols of the e-commerce platforms hezuo pulls orders and refunds from — Taobao open
//! platform (TOP), Pinduoduo and Douyin 抖店 — and of the Standard Webhooks hezuo sends
//! (PLATFORMS.md).
//!
//! This crate holds what those protocols *say*: how a call is signed and built, how an answer
//! is read into exact money and normalized states, how a run is cut into windows and pages, how
//! long to wait before a retry, and which addresses a webhook may reach.
//!
//! # Invariant: pure
//!
//! Nothing here does I/O: no sockets, no files, no clock, no randomness. The current time is
//! always a parameter (`now`), and so is the jitter of a backoff (a per-mille value the caller
//! draws). A [`Request`] is plain data that a thin HTTP layer sends verbatim to the feed's
//! `base_url`; the layer hands the answer's bytes back to [`Platform::parse_orders`] or
//! [`Platform::parse_refunds`]. Money is [`hezuo_core::Money`], read from the answer's text and
//! never through floating point.
//!
//! # A run, in outline
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hezuo_platforms::{Action, Credentials, platform};
//!
//! let pdd = platform("pdd").unwrap();
//! let credentials = Credentials::new("client-id", "client-secret", Some("token".into()));
//! let cursor = Utc.with_ymd_and_hms(2025, 12, 1, 1, 0, 0).unwrap();
//! let now = Utc.with_ymd_and_hms(2025, 12, 1, 2, 0, 0).unwrap();
//! for window in pdd.windows(cursor, now) {
//!     let request = pdd.orders_request(&credentials, &window, pdd.first_page(), now);
//!     // An HTTP layer sends `request.method` to `request.url(base_url)` with `request.body`,
//!     // and hands the answer's bytes back:
//!     let answer = br#"{"order_sn_increment_get_response": {"total_count": 0, "order_sn_list": []}}"#;
//!     let page = pdd.parse_orders(answer).unwrap();
//!     for number in pdd.pages(page.total) {
//!         // Last page first: request page `number`, parse it, and for each order
//!         // book / skip / cancel per `order.state.action()`.
//!         let _ = (number, Action::Book);
//!     }
//!     // The same for refunds; once both are committed the cursor moves to `window.to`.
//! }
//! ```
//! A [`PlatformError::Throttled`] answer waits what the platform said, or [`backoff()`]; a run
//! stops after [`RUN_BUDGET`] and keeps its cursor.
//!
//! # Adding a platform
//!
//! Write one module with a unit struct implementing [`Platform`] (name, window limit, first
//! page number, the two request builders and the two parsers, with its sign function and its
//! state table), and list it in [`platforms`]. Nothing else changes: the run, the windows, the
//! paging and the booking only see the trait and the normalized types.

#![forbid(unsafe_code)]

mod crypto;
mod json;
mod model;

pub mod address;
pub mod backoff;
pub mod douyin;
pub mod pdd;
pub mod plan;
pub mod taobao;
pub mod time;
pub mod webhook;

pub use address::{AllowList, AllowListError, UrlError, admitted, check_url, is_public};
pub use backoff::{RUN_BUDGET, backoff, throttle_wait, within_budget};
pub use douyin::Douyin;
pub use model::{
    Action, Body, Credentials, Method, OrderState, Page, PlatformError, PlatformLine, PlatformOrder, PlatformRefund,
    Request,
};
pub use pdd::Pdd;
pub use plan::{OVERLAP, SETTLE, Window, Windows, page_count, pages_backwards, windows};
pub use taobao::Taobao;

use chrono::{DateTime, TimeDelta, Utc};

/// Rows per page asked of every platform (each allows at most 100).
pub const PAGE_SIZE: u32 = 100;

/// One e-commerce platform's protocol. Implementations are stateless values; every method is
/// pure.
pub trait Platform: Send + Sync {
    /// The feed's `platform` value (`taobao`, `pdd`, `douyin`).
    fn name(&self) -> &'static str;

    /// The longest span a single request may cover, overlap included (see [`plan::windows`]).
    fn max_window(&self) -> TimeDelta;

    /// Rows per page.
    fn page_size(&self) -> u32 {
        PAGE_SIZE
    }

    /// The number of the first page (1, or 0 for Douyin).
    fn first_page(&self) -> u32;

    /// The call listing the orders modified in `window` (read from its `read_from`), page `page`,
    /// signed at `now`.
    fn orders_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request;

    /// The call listing the refunds modified in `window`, page `page`, signed at `now`.
    fn refunds_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request;

    /// Reads an orders answer (any HTTP status: the platforms put errors in the body).
    fn parse_orders(&self, body: &[u8]) -> Result<Page<PlatformOrder>, PlatformError>;

    /// Reads a refunds answer.
    fn parse_refunds(&self, body: &[u8]) -> Result<Page<PlatformRefund>, PlatformError>;

    /// The windows of a run from `cursor` at `now`, within this platform's limit.
    fn windows(&self, cursor: DateTime<Utc>, now: DateTime<Utc>) -> Windows {
        plan::windows(cursor, now, self.max_window())
    }

    /// The pages to read for `total` rows, last page first.
    fn pages(&self, total: u64) -> std::iter::Rev<std::ops::RangeInclusive<u32>> {
        plan::pages_backwards(total, self.page_size(), self.first_page())
    }
}

static TAOBAO: Taobao = Taobao::new(taobao::SignMethod::Md5);
static PDD: Pdd = Pdd;
static DOUYIN: Douyin = Douyin;

/// Every platform hezuo knows (Taobao signing with `md5`).
pub fn platforms() -> [&'static dyn Platform; 3] {
    [&TAOBAO, &PDD, &DOUYIN]
}

/// The platform called `name` (a feed's `platform` value), if hezuo knows it.
pub fn platform(name: &str) -> Option<&'static dyn Platform> {
    platforms().into_iter().find(|p| p.name() == name)
}

/// A paid order must have lines (the platforms always send them); an order that would be
/// booked without any is refused rather than booked empty.
pub(crate) fn check_lines(order: &PlatformOrder, at: &str) -> Result<(), PlatformError> {
    if order.state.is_paid() && order.lines.is_empty() {
        return Err(PlatformError::Malformed(format!("{at}: a paid order without lines")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_found_by_name() {
        assert_eq!(platform("taobao").map(|p| p.name()), Some("taobao"));
        assert_eq!(platform("pdd").map(|p| p.name()), Some("pdd"));
        assert_eq!(platform("douyin").map(|p| p.name()), Some("douyin"));
        assert!(platform("jd").is_none());
        assert!(platform("Taobao").is_none());
    }

    #[test]
    fn platform_table() {
        let rows: Vec<(&str, i64, u32, u32)> = platforms()
            .iter()
            .map(|p| (p.name(), p.max_window().num_minutes(), p.page_size(), p.first_page()))
            .collect();
        assert_eq!(rows, vec![("taobao", 30, 100, 1), ("pdd", 30, 100, 1), ("douyin", 24 * 60, 100, 0)]);
        let douyin = platform("douyin").unwrap();
        assert_eq!(douyin.pages(250).collect::<Vec<_>>(), vec![2, 1, 0]);
        assert_eq!(platform("pdd").unwrap().pages(250).collect::<Vec<_>>(), vec![3, 2, 1]);
    }

    #[test]
    fn no_request_carries_the_secret() {
        use chrono::TimeZone;
        let credentials = Credentials::new("app-key-1", "the-secret-value", Some("token-1".into()));
        let now = Utc.with_ymd_and_hms(2025, 12, 1, 2, 0, 0).unwrap();
        let cursor = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
        for p in platforms() {
            for window in p.windows(cursor, now) {
                assert!(window.read_span() <= p.max_window(), "{}", p.name());
                for r in [
                    p.orders_request(&credentials, &window, p.first_page(), now),
                    p.refunds_request(&credentials, &window, p.first_page(), now),
                ] {
                    assert_eq!(r.method, Method::Post);
                    let wire =
                        format!("{} {}", r.url("http://127.0.0.1:1"), String::from_utf8_lossy(&r.body.to_bytes()));
                    assert!(!wire.contains("the-secret-value"), "{}: {wire}", p.name());
                    assert!(wire.contains("app-key-1") && wire.contains("token-1"), "{}", p.name());
                }
            }
        }
    }
}
