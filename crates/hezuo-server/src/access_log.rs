//! One log line per request: method, route template, status, latency and request id.
//!
//! The route is the matched template (`/api/v1/stations/{id}/products`), never the raw path or
//! its query: ids, search terms and tokens in a URL may identify people, and templates keep the
//! log greppable per endpoint.

use crate::REQUEST_ID;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use std::fmt;
use std::time::Duration;
use tracing::Span;

/// The span every log line of a request is written in.
pub fn span<B>(req: &Request<B>) -> Span {
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route)
}

/// The access log line, written when the response head is ready.
pub fn on_response<B>(res: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(status = res.status().as_u16(), latency_ms = %Millis(latency), "finished");
}

/// Milliseconds with three decimals, from whole microseconds.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0.as_micros();
        write!(f, "{}.{:03}", us / 1000, us % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::Millis;
    use std::time::Duration;

    #[test]
    fn latency_in_milliseconds_to_the_microsecond() {
        assert_eq!(Millis(Duration::from_micros(1_234_567)).to_string(), "1234.567");
        assert_eq!(Millis(Duration::from_nanos(999)).to_string(), "0.000");
        assert_eq!(Millis(Duration::from_micros(42)).to_string(), "0.042");
    }
}
