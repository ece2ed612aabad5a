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

use crate::Console;
use crate::pages::{self, Layout};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
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

fn digest(label: &str, secret: &str) -> String {
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

impl Session {
    /// Refuses a POST whose form does not carry this session's token.
    #[allow(clippy::result_large_err)] // the refusal is the page to answer with
    pub fn check(&self, csrf: &str) -> Result<(), Response> {
        if same(csrf, &self.csrf) { Ok(()) } else { Err(pages::csrf_refused(Some(self))) }
    }

    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout::new(title, Some(self))
    }
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

impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Session, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let to_login = || {
            let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next = if parts.method == axum::http::Method::GET && back.starts_with('/') && !back.starts_with("//") {
                format!("/login?next={}", pages::url_encode(back))
            } else {
                "/login".to_owned()
            };
            (jar.clone().remove(removal(console, SESSION_COOKIE)), Redirect::to(&next)).into_response()
        };
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(to_login());
        };
        match console.app.authenticate(&token).await {
            Ok((principal, actor)) => {
                let csrf = digest("hezuo console csrf", &token);
                Ok(Session { principal, actor, token, csrf, tz: console.app.config.timezone })
            }
            Err(hezuo_app::AppError::Unauthorized(_)) => Err(to_login()),
            Err(e) => Err(pages::failure(&e, None)),
        }
    }
}
