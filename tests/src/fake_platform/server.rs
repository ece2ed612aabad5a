//! The HTTP side: one handler for every route, which reads and verifies the request with the
//! platform's module, then answers a page (or the throttle or error answer) under the lock.

use super::model::{FakeOrder, FakeRefund};
use super::{Kind, List, LoggedRequest, Outcome, Shared, douyin, pdd, taobao};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use hezuo_platforms::Credentials;
use serde_json::{Number, Value};
use std::sync::Arc;

/// How far a request's timestamp may be from the fake's clock.
pub(super) const MAX_SKEW: TimeDelta = TimeDelta::minutes(10);
/// The largest page size every platform allows.
pub(super) const MAX_PAGE_SIZE: u32 = 100;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = Incoming {
        method: &method,
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        content_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let (status, answer) = answer(&shared, &incoming);
    (status, axum::Json(answer)).into_response()
}

/// A request as it arrived.
pub(super) struct Incoming<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Incoming<'_> {
    /// Whether the body is declared as JSON.
    pub fn is_json(&self) -> bool {
        self.content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    }

    /// Whether the body is declared as a form (or not declared at all).
    pub fn is_form(&self) -> bool {
        self.content_type.is_none_or(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
    }
}

/// Why a request was refused; each platform answers it with its own error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// No such route (path or HTTP method) on this platform.
    Route(String),
    /// A required parameter is missing.
    Missing(&'static str),
    /// A parameter has a value the platform refuses.
    Invalid(&'static str, String),
    /// Not the app key (client id) the fake was started with.
    AppKey,
    /// Not the access token the fake was started with.
    Token,
    /// The timestamp is unreadable or too far from the fake's clock.
    Timestamp(String),
    /// The signature does not match.
    Sign,
    /// An API the fake does not serve.
    UnknownApi(String),
    /// The window is empty, reversed or too long.
    Window(String),
}

impl Failure {
    /// The reason, as the request log shows it.
    pub fn reason(&self) -> String {
        match self {
            Failure::Route(route) => format!("no route {route}"),
            Failure::Missing(name) => format!("missing parameter {name}"),
            Failure::Invalid(name, why) => format!("invalid parameter {name}: {why}"),
            Failure::AppKey => "wrong app key".to_owned(),
            Failure::Token => "wrong access token".to_owned(),
            Failure::Timestamp(why) => format!("timestamp: {why}"),
            Failure::Sign => "wrong signature".to_owned(),
            Failure::UnknownApi(api) => format!("unknown API {api}"),
            Failure::Window(why) => format!("window: {why}"),
        }
    }
}

/// A verified list call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Query {
    pub list: List,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// In the platform's numbering.
    pub page: u32,
    pub page_size: u32,
    /// Oldest first (Douyin, when asked).
    pub ascending: bool,
    /// Pinduoduo `order_status` 1/2/3: only orders with this raw status.
    pub order_status: Option<String>,
    /// Pinduoduo `after_sales_status` 10: only succeeded refunds.
    pub succeeded_only: bool,
    /// Pinduoduo `after_sales_type` 2 (false: refunds only) or 3 (true: returns only).
    pub returned: Option<bool>,
}

impl Query {
    pub fn new(list: List, start: DateTime<Utc>, end: DateTime<Utc>, page: u32, page_size: u32) -> Query {
        Query {
            list,
            start,
            end,
            page,
            page_size,
            ascending: false,
            order_status: None,
            succeeded_only: false,
            returned: None,
        }
    }
}

/// A page of rows and the window's total.
pub(super) struct Rows<'a, T> {
    pub items: Vec<&'a T>,
    pub total: u64,
}

fn answer(shared: &Shared, incoming: &Incoming<'_>) -> (StatusCode, Value) {
    let kind = shared.kind;
    let mut state = shared.lock();
    let now = state.now();
    let mut entry = LoggedRequest {
        route: format!("{} {}", incoming.method, incoming.path),
        api: None,
        list: None,
        start: None,
        end: None,
        page: None,
        page_size: None,
        at: now,
        outcome: Outcome::Rejected(String::new()),
    };
    let read = match kind {
        Kind::Taobao => taobao::read(incoming, &shared.credentials, now, &mut entry),
        Kind::Pdd => pdd::read(incoming, &shared.credentials, now, &mut entry),
        Kind::Douyin => douyin::read(incoming, &shared.credentials, now, &mut entry),
    };
    let query = match read {
        Ok(query) => query,
        Err(failure) => {
            state.rejected += 1;
            entry.outcome = Outcome::Rejected(failure.reason());
            state.log.push(entry);
            let status = if matches!(failure, Failure::Route(_)) { StatusCode::NOT_FOUND } else { StatusCode::OK };
            let body = match kind {
                Kind::Taobao => taobao::error(&failure),
                Kind::Pdd => pdd::error(&failure),
                Kind::Douyin => douyin::error(&failure),
            };
            return (status, body);
        }
    };
    if state.throttle > 0 {
        state.throttle -= 1;
        entry.outcome = Outcome::Throttled;
        state.log.push(entry);
        let body = match kind {
            Kind::Taobao => taobao::throttled(),
            Kind::Pdd => pdd::throttled(),
            Kind::Douyin => douyin::throttled(),
        };
        return (StatusCode::OK, body);
    }
    let first = kind.first_page();
    let (body, total, rows) = match query.list {
        List::Orders => {
            let rows = select(
                state.data.orders(),
                |o: &FakeOrder| (o.modified, &o.id),
                &query,
                first,
                |o| query.order_status.as_ref().is_none_or(|s| o.status.raw(kind) == *s),
            );
            let (total, count) = (rows.total, rows.items.len());
            let body = match kind {
                Kind::Taobao => taobao::orders(&rows),
                Kind::Pdd => pdd::orders(&rows, &query),
                Kind::Douyin => douyin::orders(&rows, &query),
            };
            (body, total, count)
        }
        List::Refunds => {
            let rows = select(
                state.data.refunds(),
                |r: &FakeRefund| (r.modified, &r.refund_id),
                &query,
                first,
                |r| {
                    (!query.succeeded_only || r.succeeded)
                        && query.returned.is_none_or(|returned| r.quantity_returned.is_some() == returned)
                },
            );
            let (total, count) = (rows.total, rows.items.len());
            let body = match kind {
                Kind::Taobao => taobao::refunds(&rows),
                Kind::Pdd => pdd::refunds(&rows),
                Kind::Douyin => douyin::refunds(&rows, &query),
            };
            (body, total, count)
        }
    };
    entry.outcome = Outcome::Answered { total, rows };
    state.log.push(entry);
    // The page is answered: now the changes that were waiting for it.
    let state = &mut *state;
    let hooks = std::mem::take(&mut state.hooks);
    for (list, page, hook) in hooks {
        if list == query.list && page == query.page {
            hook(&mut state.data);
        } else {
            state.hooks.push((list, page, hook));
        }
    }
    (StatusCode::OK, body)
}

/// The rows modified in `[query.start, query.end]` (inclusive) that pass `keep`, sorted newest
/// first (or oldest first when the query asks), ties by id, and page `query.page` of them.
fn select<'a, T: 'a>(
    rows: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> (DateTime<Utc>, &String),
    query: &Query,
    first_page: u32,
    keep: impl Fn(&T) -> bool,
) -> Rows<'a, T> {
    let mut matching: Vec<&T> = rows
        .filter(|row| {
            let modified = key(row).0;
            query.start <= modified && modified <= query.end && keep(row)
        })
        .collect();
    matching.sort_by(|a, b| {
        let (ma, ia) = key(a);
        let (mb, ib) = key(b);
        let by_time = if query.ascending { ma.cmp(&mb) } else { mb.cmp(&ma) };
        by_time.then_with(|| ia.cmp(ib))
    });
    let total = matching.len() as u64;
    let index = u64::from(query.page.saturating_sub(first_page));
    let offset = usize::try_from(index * u64::from(query.page_size)).unwrap_or(usize::MAX);
    let items = matching.into_iter().skip(offset).take(query.page_size as usize).collect();
    Rows { items, total }
}

/// Checks the timestamp against the fake's clock.
pub(super) fn check_timestamp(timestamp: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Failure> {
    let skew = (timestamp - now).abs();
    if skew > MAX_SKEW {
        return Err(Failure::Timestamp(format!("{} s away from the platform's clock", skew.num_seconds())));
    }
    Ok(())
}

/// Checks `end > start` and `end − start ≤` the platform's limit.
pub(super) fn check_window(kind: Kind, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), Failure> {
    if end <= start {
        return Err(Failure::Window(format!("end {end} is not after start {start}")));
    }
    let span = end - start;
    if span > kind.max_window() {
        return Err(Failure::Window(format!(
            "{} s between start and end, more than the {} s allowed",
            span.num_seconds(),
            kind.max_window().num_seconds()
        )));
    }
    Ok(())
}

/// Checks the page number (from the platform's first page) and size (1 to 100).
pub(super) fn check_page(
    kind: Kind,
    page_name: &'static str,
    page: u32,
    size_name: &'static str,
    size: u32,
) -> Result<(), Failure> {
    if page < kind.first_page() {
        return Err(Failure::Invalid(page_name, format!("pages are numbered from {}", kind.first_page())));
    }
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(Failure::Invalid(size_name, format!("{size} is not from 1 to {MAX_PAGE_SIZE}")));
    }
    Ok(())
}

/// Parameters given as name–value text (Taobao, Pinduoduo), each name at most once.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters; a name given twice is refused (which value was signed would be
    /// ambiguous).
    pub fn new(pairs: Vec<(String, String)>) -> Result<Params, Failure> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _)| other == name) {
                return Err(Failure::Invalid("parameters", format!("{name} is given twice")));
            }
        }
        Ok(Params(pairs))
    }

    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A required parameter (an empty value counts as missing).
    pub fn require(&self, name: &'static str) -> Result<&str, Failure> {
        self.get(name).filter(|v| !v.is_empty()).ok_or(Failure::Missing(name))
    }

    /// A required parameter that must be exactly `want`.
    pub fn expect(&self, name: &'static str, want: &str) -> Result<(), Failure> {
        let value = self.require(name)?;
        if value != want {
            return Err(Failure::Invalid(name, format!("{value:?} instead of {want:?}")));
        }
        Ok(())
    }

    /// An optional number (`default` when absent).
    pub fn number(&self, name: &'static str, default: u32) -> Result<u32, Failure> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => parse_u32(name, text),
        }
    }

    /// The value as a number for the request log, if it reads as one.
    pub fn peek_number(&self, name: &str) -> Option<u32> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

/// `text` as a non-negative number of parameter `name`.
pub(super) fn parse_u32(name: &'static str, text: &str) -> Result<u32, Failure> {
    text.parse().map_err(|_| Failure::Invalid(name, format!("{text:?} is not a non-negative integer")))
}

/// `text` as Unix seconds of parameter `name`.
pub(super) fn parse_unix(name: &'static str, text: &str) -> Result<DateTime<Utc>, Failure> {
    text.parse::<i64>()
        .ok()
        .and_then(hezuo_platforms::time::from_unix)
        .ok_or_else(|| Failure::Invalid(name, format!("{text:?} is not Unix seconds")))
}

/// URL-encoded pairs (a query or a form body).
pub(super) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// Checks the app key and, when the fake has one, the access token.
pub(super) fn check_credentials(
    credentials: &Credentials,
    app_key: &str,
    token: Option<&str>,
    token_name: &'static str,
) -> Result<(), Failure> {
    if app_key != credentials.app_key {
        return Err(Failure::AppKey);
    }
    if let Some(want) = &credentials.access_token {
        match token {
            None | Some("") => return Err(Failure::Missing(token_name)),
            Some(token) if token != want => return Err(Failure::Token),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Yuan as exact text with two decimals: `"12.30"`.
pub(super) fn yuan_text(cents: hezuo_core::Money) -> String {
    cents.to_string()
}

/// Yuan as a JSON number in its shortest exact form, as a platform writing a float sends it:
/// 12.30 → `12.3`, 30.00 → `30`, 0.05 → `0.05`.
pub(super) fn yuan_number(amount: hezuo_core::Money) -> Value {
    let text = amount.to_string();
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    number(text)
}

/// An id as the platform sends a numeric id: a JSON number when it is plain digits (no leading
/// zero), otherwise a string.
pub(super) fn id_value(id: &str) -> Value {
    let digits = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id == "0" || !id.starts_with('0'));
    if digits { number(id) } else { Value::String(id.to_owned()) }
}

/// A raw status as a JSON number when it is an integer, otherwise as the string given.
pub(super) fn int_or_text(raw: &str) -> Value {
    match raw.parse::<i64>() {
        Ok(n) => Value::Number(n.into()),
        Err(_) => Value::String(raw.to_owned()),
    }
}

/// A JSON number from exact decimal text (`arbitrary_precision` keeps the text).
fn number(text: &str) -> Value {
    Value::Number(serde_json::from_str::<Number>(text).expect("decimal text is a JSON number"))
}
