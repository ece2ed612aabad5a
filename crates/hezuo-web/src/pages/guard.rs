//! The console's session as a request extractor, and the check of a form's CSRF token: a
//! missing or dead session is sent to the log-in page, a refused token gets the Chinese page
//! that says nothing was changed.

use crate::Console;
use crate::pages::{self, Layout};
use crate::session::{SESSION_COOKIE, Session, digest, removal, same};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

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
