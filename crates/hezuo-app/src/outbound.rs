//! Outgoing HTTP, shared by platform feeds and webhook deliveries: reqwest with rustls, time
//! limits, no redirects, and a resolver that drops every address `hezuo_platforms::admitted`
//! refuses (private, loopback, link-local, CGNAT, multicast, reserved; IPv4-mapped IPv6 judged
//! as its IPv4), so a URL someone saved can never reach the service's own network — checked
//! when the URL is saved ([`check_url`]) and again at every connection (a name may resolve
//! elsewhere later). Addresses written in the URL itself are never resolved, so
//! [`literal_refused`] checks them before each request.

use crate::AppError;
use hezuo_platforms::{AllowList, admitted};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long connecting (resolving included) may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// A client that reaches admitted addresses only, follows no redirect and gives up after
/// `timeout` (connecting included).
pub(crate) fn client(allow: &AllowList, timeout: Duration) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PublicOnly { allow: allow.clone() }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .user_agent(concat!("hezuo/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::Internal(format!("outgoing HTTP client: {e}")))
}

/// Whether `url` names an address literally that may not be reached.
pub(crate) fn literal_refused(url: &Url, allow: &AllowList) -> bool {
    hezuo_platforms::address::literal_ip(url).is_some_and(|ip| !admitted(ip, allow))
}

/// A URL someone saves for outgoing requests (`field` names it in the 422): `https://` with a
/// host whose every address is public (or inside `allow`, the networks of `allow_env`);
/// `http://` only for a host inside the allow-list; no credentials; at most 500 characters.
/// A host that does not resolve, or resolves (also) to an address that may not be reached, is
/// 422 `address_not_allowed`: refused for what the network says, not for the URL's form.
pub(crate) async fn check_url(text: &str, allow: &AllowList, field: &str, allow_env: &str) -> Result<Url, AppError> {
    let refused = |message: &str| AppError::invalid(field, message);
    let not_allowed =
        |message: String| AppError::Invalid { code: "address_not_allowed", field: Some(field.into()), message };
    let text = text.trim();
    if !(text.starts_with("https://") || text.starts_with("http://")) || text.chars().count() > 500 {
        return Err(refused("must be an https:// URL of at most 500 characters"));
    }
    let authority = text.split("://").nth(1).unwrap_or_default().split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(refused("must not carry credentials"));
    }
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
        return Err(not_allowed("must reach public addresses only".into()));
    }
    if url.scheme() == "http" && !addrs.iter().all(|ip| allow.contains(*ip)) {
        return Err(not_allowed(format!("must use https (http only for hosts in {allow_env})")));
    }
    Ok(url)
}

/// A transport error without the URL (whose query may hold a token).
pub(crate) fn describe(e: &reqwest::Error) -> String {
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
