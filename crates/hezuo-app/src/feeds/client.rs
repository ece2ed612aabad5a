//! The HTTP client of feeds: reqwest with rustls, time limits, no redirects, and a resolver
//! that drops every address `hezuo_platforms::admitted` refuses (private, loopback, link-local,
//! CGNAT, multicast, reserved; IPv4-mapped IPv6 judged as its IPv4), so a feed's base URL can
//! never reach the service's own network — checked when the feed is saved and again at every
//! connection (a name may resolve elsewhere later). Addresses written in the URL itself are
//! checked before each request, since they are never resolved.

use crate::AppError;
use hezuo_platforms::{AllowList, Request, admitted};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long one platform call may take, connecting included.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a platform (100 orders a page).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Resolves with the system resolver and keeps the admitted addresses only.
struct PublicOnly {
    allow: AllowList,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| admitted(a.ip(), &allow)).collect();
            if kept.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// Why a base URL is refused, as the 422 names it.
fn refused(message: impl Into<String>) -> AppError {
    AppError::invalid("base_url", message)
}

/// A base URL whose host does not resolve, or resolves (also) to an address outgoing requests
/// may not reach: refused for what the network says, not for the URL's form.
fn not_allowed(message: impl Into<String>) -> AppError {
    AppError::Invalid { code: "address_not_allowed", field: Some("base_url".into()), message: message.into() }
}

/// A feed's base URL when it is saved: `https://` with a host whose every address is public
/// (or in `HEZUO_FEED_ALLOW_NETS`); `http://` only for a host inside the allow-list.
pub(crate) async fn check_base_url(text: &str, allow: &AllowList) -> Result<Url, AppError> {
    let text = text.trim();
    if !(text.starts_with("https://") || text.starts_with("http://")) || text.chars().count() > 500 {
        return Err(refused("must be an https:// URL of at most 500 characters"));
    }
    let authority = text.split("://").nth(1).unwrap_or_default().split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(refused("must not carry credentials"));
    }
    // The form is right: a host that does not parse names no address that can be reached.
    let url =
        hezuo_platforms::check_url(text, true).map_err(|e| not_allowed(format!("the host is not valid ({e})")))?;
    let addrs: Vec<std::net::IpAddr> = match hezuo_platforms::address::literal_ip(&url) {
        Some(ip) => vec![ip],
        None => {
            let host = url.host_str().unwrap_or_default().to_owned();
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host((host.as_str(), port))).await {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                _ => return Err(not_allowed(format!("the host {host} does not resolve"))),
            }
        }
    };
    if addrs.is_empty() || !addrs.iter().all(|ip| admitted(*ip, allow)) {
        return Err(not_allowed("must reach public addresses only"));
    }
    if url.scheme() == "http" && !addrs.iter().all(|ip| allow.contains(*ip)) {
        return Err(not_allowed("must use https (http only for hosts in HEZUO_FEED_ALLOW_NETS)"));
    }
    Ok(url)
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
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly { allow: allow.clone() }))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("hezuo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::Internal(format!("feed client: {e}")))?;
        Ok(FeedClient { http, allow: Arc::new(allow) })
    }

    /// Sends `req` to `base_url` and returns the answer's body (platforms put their errors in
    /// the body, whatever the status). Error texts name the host, never the query (it carries
    /// the access token).
    pub(crate) async fn send(&self, base_url: &str, req: &Request) -> Result<Vec<u8>, CallFailed> {
        let url = Url::parse(&req.url(base_url)).map_err(|_| CallFailed("the feed's base URL is not valid".into()))?;
        let host = url.host_str().unwrap_or_default().to_owned();
        if let Some(ip) = hezuo_platforms::address::literal_ip(&url)
            && !admitted(ip, &self.allow)
        {
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

/// A transport error without the URL (whose query may hold the access token).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    match std::error::Error::source(e).map(ToString::to_string) {
        Some(cause) if !cause.contains('?') => format!("{what} ({cause})"),
        _ => what.to_owned(),
    }
}
