//! Console sessions and CSRF.
//!
//! A session is a login token of the user (`App::console_login`): stored only as its SHA-256,
//! expiring like every login token, deleted by log-out, and dead as soon as the user is
//! disabled or changes password (those delete the user's tokens). The browser holds it in an
//! `HttpOnly`, `SameSite=Lax` cookie, `Secure` when the public URL is https.
//!
//! Every form of a session carries a CSRF token derived from the session token (SHA-256 of a
//! label and the token): another site can neither read it nor compute it. The log-in form,
//! which comes before any session, is protected the same way by a random value in a cookie of
//! its own that the form must repeat.
//!
//! The session as a request extractor and the refusal of a form lie with the pages
//! (`pages/guard.rs`): this module knows nothing of pages.

use crate::Console;
use axum_extra::extract::cookie::{Cookie, SameSite};
use hezuo_app::{Actor, Principal};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "hezuo_session";
pub const LOGIN_COOKIE: &str = "hezuo_login";

/// A logged-in caller.
#[derive(Clone)]
pub struct Session {
    pub principal: Principal,
    pub actor: Actor,
    pub token: String,
    pub csrf: String,
    /// The deployment's time zone: times are shown in it.
    pub tz: chrono_tz::Tz,
}

pub(crate) fn digest(label: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Compares two tokens by their digests, so the time taken tells nothing about where they differ.
pub fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A cookie of the console with the attributes every one of them has.
pub fn cookie(
    console: &Console,
    name: &'static str,
    value: String,
    max_age: Option<std::time::Duration>,
) -> Cookie<'static> {
    let mut c = Cookie::build((name, value)).path("/").http_only(true).same_site(SameSite::Lax).secure(console.secure);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(i64::try_from(age.as_secs()).unwrap_or(i64::MAX)));
    }
    c.build()
}

/// The cookie that ends a session in the browser.
pub fn removal(console: &Console, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(console, name, String::new(), None);
    c.make_removal();
    c
}
