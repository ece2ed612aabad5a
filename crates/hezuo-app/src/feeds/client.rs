//! The HTTP client of feeds: `crate::outbound`'s client (public addresses only, no redirects)
//! with the platforms' time and size limits.

use crate::AppError;
use crate::outbound::{self, describe};
use hezuo_platforms::{AllowList, Request};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long one platform call may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read from a platform (100 orders a page).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// A feed's base URL when it is saved (`crate::outbound::check_url`).
pub(crate) async fn check_base_url(text: &str, allow: &AllowList) -> Result<Url, AppError> {
    outbound::check_url(text, allow, "base_url", "HEZUO_FEED_ALLOW_NETS").await
}

/// Sends platform calls. Cheap to clone.
#[derive(Clone)]
pub struct FeedClient {
    http: reqwest::Client,
    allow: Arc<AllowList>,
}

/// A call that got no usable answer.
#[derive(Debug)]
pub(crate) struct CallFailed(pub String);

impl FeedClient {
    pub fn new(allow: AllowList) -> Result<FeedClient, AppError> {
        Ok(FeedClient { http: outbound::client(&allow, CALL_TIMEOUT)?, allow: Arc::new(allow) })
    }

    /// Sends `req` to `base_url` and returns the answer's body (platforms put their errors in
    /// the body, whatever the status). Error texts name the host, never the query (it carries
    /// the access token).
    pub(crate) async fn send(&self, base_url: &str, req: &Request) -> Result<Vec<u8>, CallFailed> {
        let url = Url::parse(&req.url(base_url)).map_err(|_| CallFailed("the feed's base URL is not valid".into()))?;
        let host = url.host_str().unwrap_or_default().to_owned();
        if outbound::literal_refused(&url, &self.allow) {
            return Err(CallFailed(format!("{host} is not a public address")));
        }
        let builder = self.http.post(url).header(reqwest::header::CONTENT_TYPE, req.body.content_type());
        let res = builder
            .body(req.body.to_bytes())
            .send()
            .await
            .map_err(|e| CallFailed(format!("{host}: {}", describe(&e))))?;
        let status = res.status();
        if status.is_redirection() {
            return Err(CallFailed(format!("{host} answered a redirect ({status}), which is not followed")));
        }
        if res.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
            return Err(CallFailed(format!("{host} answered more than {MAX_ANSWER_BYTES} bytes")));
        }
        let mut body = Vec::new();
        let mut res = res;
        while let Some(chunk) = res.chunk().await.map_err(|e| CallFailed(format!("{host}: {}", describe(&e))))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CallFailed(format!("{host} answered more than {MAX_ANSWER_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        if body.is_empty() {
            return Err(CallFailed(format!("{host} answered {status} with no body")));
        }
        Ok(body)
    }
}
