//! The types every platform shares: credentials, the request to send, the normalized orders and
//! refunds read back, and the errors.

use chrono::{DateTime, Utc};
use hezuo_core::Money;
use std::fmt;
use std::time::Duration;
use url::form_urlencoded;

/// A feed's credentials on its platform. Secrets are write-only: `Debug` prints the secret and
/// the token as `***`, and this type has no serializer.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The application key (`app_key`, Pinduoduo's `client_id`).
    pub app_key: String,
    /// The application secret the requests are signed with; never sent, never printed.
    pub app_secret: String,
    /// The shop's access token (Taobao's `session`), when the platform needs one.
    pub access_token: Option<String>,
}

impl Credentials {
    /// Credentials with an access token.
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>, access_token: Option<String>) -> Credentials {
        Credentials { app_key: app_key.into(), app_secret: app_secret.into(), access_token }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &self.app_key)
            .field("app_secret", &"***")
            .field("access_token", &self.access_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The HTTP method of a platform call. Every call this crate builds is a `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `POST`.
    Post,
}

impl Method {
    /// The method as it goes on the request line.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
        }
    }
}

/// The body of a platform call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `application/x-www-form-urlencoded` parameters, in the order given.
    Form(Vec<(String, String)>),
    /// Bytes sent exactly as they are (for Douyin, the very `param_json` that was signed).
    Raw {
        /// The `Content-Type` header.
        content_type: &'static str,
        /// The body bytes.
        bytes: Vec<u8>,
    },
}

impl Body {
    /// The `Content-Type` header of this body.
    pub fn content_type(&self) -> &'static str {
        match self {
            Body::Form(_) => "application/x-www-form-urlencoded",
            Body::Raw { content_type, .. } => content_type,
        }
    }

    /// The body bytes as they go on the wire (form parameters URL-encoded as UTF-8).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Body::Form(params) => encode_pairs(params).into_bytes(),
            Body::Raw { bytes, .. } => bytes.clone(),
        }
    }

    /// The value of form parameter `name`, if this is a form body that has it.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        match self {
            Body::Form(params) => lookup(params, name),
            Body::Raw { .. } => None,
        }
    }
}

/// A complete platform call, ready to be sent verbatim by a thin HTTP layer: `method`
/// `{base_url}{path}?{query}` with `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Always [`Method::Post`].
    pub method: Method,
    /// Appended to the feed's `base_url` (starts with `/`).
    pub path: String,
    /// Query parameters, in the order given (empty for form calls).
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Request {
    /// The full URL: `base_url` (a trailing `/` is dropped) + `path` + the URL-encoded query.
    pub fn url(&self, base_url: &str) -> String {
        let mut url = format!("{}{}", base_url.trim_end_matches('/'), self.path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&encode_pairs(&self.query));
        }
        url
    }

    /// The value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        lookup(&self.query, name)
    }
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Where a platform order stands, normalized over the platforms' own status codes.
///
/// "Closed" is split by whether the buyer had paid: a platform order closed before payment was
/// never booked (skip it); one closed after payment was refunded in full, which hezuo books as a
/// cancel of the whole order (if hezuo never booked it, there is nothing to cancel). Where the
/// platform's status alone does not say which, each platform module documents its rule; when in
/// doubt the rule leans to "after payment", so that a cancel is never lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OrderState {
    /// Created, not paid yet.
    Unpaid,
    /// Paid, not shipped yet.
    Paid,
    /// Paid and (partly) shipped or signed for, not finished.
    Shipped,
    /// Finished (received / completed). Terminal.
    Completed,
    /// Closed before it was paid. Terminal; never booked.
    ClosedBeforePayment,
    /// Closed after it was paid (every line refunded). Terminal; booked as a full cancel.
    ClosedAfterPayment,
    /// A status outside the platform's published table. Skipped like an unpaid order: it is
    /// booked once the platform moves it to a known paid status (every platform order ends in
    /// one of the known terminal statuses).
    Unrecognized,
}

/// What to do with a platform order in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Book it (a replay of an already booked order is a no-op).
    Book,
    /// Not paid (yet): nothing to book now.
    Skip,
    /// Cancel the whole booked order.
    Cancel,
}

impl OrderState {
    /// Whether the buyer has paid and the order stands: the order is booked.
    pub fn is_paid(self) -> bool {
        matches!(self, OrderState::Paid | OrderState::Shipped | OrderState::Completed)
    }

    /// Whether the state is final: a later update never moves an order out of it.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderState::Completed | OrderState::ClosedBeforePayment | OrderState::ClosedAfterPayment)
    }

    /// Book, skip or cancel.
    pub fn action(self) -> Action {
        match self {
            OrderState::Paid | OrderState::Shipped | OrderState::Completed => Action::Book,
            OrderState::ClosedAfterPayment => Action::Cancel,
            OrderState::Unpaid | OrderState::ClosedBeforePayment | OrderState::Unrecognized => Action::Skip,
        }
    }
}

/// One line of a platform order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlatformLine {
    /// The platform's id of the line (Taobao `oid`, Douyin `sku_order_id`; Pinduoduo has none,
    /// see [`crate::pdd`]).
    pub line_id: String,
    /// The merchant code (商家编码) that names the product; `None` when the platform has none.
    pub sku: Option<String>,
    /// Units bought (the platforms count whole pieces).
    pub quantity: u32,
    /// The line's gross `G`: what the buyer paid for it after discounts, shipping excluded.
    pub amount: Money,
}

/// A platform order, normalized.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlatformOrder {
    /// The platform's order id (the hezuo order's `external_id`).
    pub id: String,
    /// The normalized state.
    pub state: OrderState,
    /// The platform's own status code, as text (for messages).
    pub status: String,
    /// When the platform last modified the order: an update older than the stored one is ignored.
    pub modified: DateTime<Utc>,
    /// When the buyer paid, if the platform says.
    pub paid_at: Option<DateTime<Utc>>,
    /// The lines, in the platform's order.
    pub lines: Vec<PlatformLine>,
}

/// A platform refund (after-sale), normalized.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlatformRefund {
    /// The platform's refund id: the same id again changes nothing.
    pub refund_id: String,
    /// The platform's order id.
    pub order_id: String,
    /// The lines it refunds; empty means the order as a whole.
    pub line_ids: Vec<String>,
    /// The amount refunded, as the platform gives it.
    pub amount: Money,
    /// Units returned, when goods came back (a return-and-refund); `None` for a refund only.
    pub quantity_returned: Option<u32>,
    /// Whether the refund has succeeded; only successful refunds are booked.
    pub succeeded: bool,
    /// When the platform last modified the refund.
    pub modified: DateTime<Utc>,
}

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The number of rows in the whole window, over every page.
    pub total: u64,
}

impl<T> Page<T> {
    /// How many pages of `page_size` the window has.
    pub fn page_count(&self, page_size: u32) -> u64 {
        crate::plan::page_count(self.total, page_size)
    }
}

/// Why a platform call gave no usable answer. Messages never contain the secret: the parsers
/// never see it, and [`PlatformError::scrubbed`] removes it (and the token) from text the
/// platform sent back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// A rate-limit answer. `wait` is what the platform asked for, if it said; otherwise back
    /// off (see [`crate::backoff()`]).
    #[error("throttled by the platform{}", wait.map(|w| format!(" for {} s", w.as_secs())).unwrap_or_default())]
    Throttled {
        /// How long the platform asked to wait.
        wait: Option<Duration>,
    },
    /// Any other error answer: the platform's code and message.
    #[error("platform error {code}: {message}")]
    Api {
        /// The platform's code (with its sub-code, when it has one).
        code: String,
        /// The platform's message.
        message: String,
    },
    /// An answer that is not what the protocol says: a short reason, never the whole body.
    #[error("malformed answer: {0}")]
    Malformed(String),
}

impl PlatformError {
    /// Whether this is a rate-limit answer.
    pub fn is_throttled(&self) -> bool {
        matches!(self, PlatformError::Throttled { .. })
    }

    /// The same error with every occurrence of the secret and the access token replaced by
    /// `***`: a guard for text that came from outside (a platform echoing a parameter).
    pub fn scrubbed(self, credentials: &Credentials) -> PlatformError {
        let scrub = |text: String| {
            let mut text = text;
            let secrets = [Some(credentials.app_secret.as_str()), credentials.access_token.as_deref()];
            for secret in secrets.into_iter().flatten().filter(|s| !s.is_empty()) {
                text = text.replace(secret, "***");
            }
            text
        };
        match self {
            PlatformError::Api { code, message } => PlatformError::Api { code: scrub(code), message: scrub(message) },
            PlatformError::Malformed(reason) => PlatformError::Malformed(scrub(reason)),
            throttled @ PlatformError::Throttled { .. } => throttled,
        }
    }
}

/// The longest message kept from a platform's error answer, in characters.
pub(crate) const MAX_MESSAGE_CHARS: usize = 200;

/// Builds [`PlatformError::Api`], keeping at most [`MAX_MESSAGE_CHARS`] of the message.
pub(crate) fn api_error(code: String, message: String) -> PlatformError {
    let message = if message.chars().count() > MAX_MESSAGE_CHARS {
        let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        short.push('…');
        short
    } else {
        message
    };
    PlatformError::Api { code, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_hides_secret_and_token() {
        let c = Credentials::new("key-1", "s3cr3t-value", Some("tok-abc".into()));
        let shown = format!("{c:?}");
        assert!(shown.contains("key-1"));
        assert!(!shown.contains("s3cr3t-value"));
        assert!(!shown.contains("tok-abc"));
        assert_eq!(shown, r#"Credentials { app_key: "key-1", app_secret: "***", access_token: Some("***") }"#);
        let c = Credentials::new("k", "s", None);
        assert!(format!("{c:?}").contains("access_token: None"));
    }

    #[test]
    fn scrub_removes_secret_and_token() {
        let c = Credentials::new("k", "topsecret", Some("tok".into()));
        let e = PlatformError::Api { code: "15".into(), message: "bad sign topsecret for tok".into() };
        assert_eq!(e.scrubbed(&c), PlatformError::Api { code: "15".into(), message: "bad sign *** for ***".into() });
        let e = PlatformError::Throttled { wait: Some(Duration::from_secs(3)) };
        assert_eq!(e.clone().scrubbed(&c), e);
        assert_eq!(e.to_string(), "throttled by the platform for 3 s");
        assert_eq!(PlatformError::Throttled { wait: None }.to_string(), "throttled by the platform");
    }

    #[test]
    fn long_messages_are_cut() {
        let e = api_error("1".into(), "长".repeat(500));
        match e {
            PlatformError::Api { message, .. } => assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn states_decide_book_skip_cancel() {
        use OrderState::*;
        for s in [Paid, Shipped, Completed] {
            assert!(s.is_paid());
            assert_eq!(s.action(), Action::Book);
        }
        for s in [Unpaid, ClosedBeforePayment, Unrecognized] {
            assert!(!s.is_paid());
            assert_eq!(s.action(), Action::Skip);
        }
        assert_eq!(ClosedAfterPayment.action(), Action::Cancel);
        assert!(!ClosedAfterPayment.is_paid());
        let terminal: Vec<_> =
            [Unpaid, Paid, Shipped, Completed, ClosedBeforePayment, ClosedAfterPayment, Unrecognized]
                .into_iter()
                .filter(|s| s.is_terminal())
                .collect();
        assert_eq!(terminal, vec![Completed, ClosedBeforePayment, ClosedAfterPayment]);
    }

    #[test]
    fn request_url_and_body_encoding() {
        let r = Request {
            method: Method::Post,
            path: "/order/searchList".into(),
            query: vec![("a".into(), "x y".into()), ("b".into(), "2025-12-01 10:00:00".into())],
            body: Body::Form(vec![("k".into(), "值&=".into())]),
        };
        assert_eq!(r.url("http://127.0.0.1:9/"), "http://127.0.0.1:9/order/searchList?a=x+y&b=2025-12-01+10%3A00%3A00");
        assert_eq!(r.body.to_bytes(), b"k=%E5%80%BC%26%3D".to_vec());
        assert_eq!(r.body.content_type(), "application/x-www-form-urlencoded");
        assert_eq!(r.body.form_value("k"), Some("值&="));
        assert_eq!(r.query_value("a"), Some("x y"));
        assert_eq!(r.method.as_str(), "POST");
        let raw = Body::Raw { content_type: "application/json", bytes: b"{}".to_vec() };
        assert_eq!(raw.to_bytes(), b"{}".to_vec());
        assert_eq!(raw.form_value("k"), None);
    }
}
