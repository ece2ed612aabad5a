//! Log-in and log-out.

use super::{Errors, Layout, State, render};
use crate::session::{self, LOGIN_COOKIE, SESSION_COOKIE, Session};
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use hezuo_app::AppError;
use hezuo_app::auth::LoginRequest;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    csrf: String,
    next: String,
    username: String,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// Only paths of this site are followed after log-in.
fn local(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") { next } else { "/" }
}

fn page(jar: CookieJar, console: &crate::Console, status: StatusCode, p: LoginPage) -> Response {
    let cookie = session::cookie(console, LOGIN_COOKIE, p.csrf.clone(), Some(std::time::Duration::from_secs(3600)));
    (jar.add(cookie), render(status, &p)).into_response()
}

/// `GET /login`.
pub async fn form(axum::extract::State(c): State, jar: CookieJar, Query(q): Query<Next>) -> Response {
    let csrf = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_else(session::random_token);
    let p = LoginPage {
        l: Layout::new("登录", None),
        csrf,
        next: local(&q.next).to_owned(),
        username: String::new(),
        errors: Errors::default(),
    };
    page(jar, &c, StatusCode::OK, p)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: the API's log-in (same checks, same limits on failed attempts).
pub async fn login(axum::extract::State(c): State, jar: CookieJar, Form(f): Form<LoginForm>) -> Response {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.as_deref().is_some_and(|e| session::same(e, &f.csrf)) {
        return super::csrf_refused(None);
    }
    let retry = |errors: Errors, status: StatusCode| {
        let p = LoginPage {
            l: Layout::new("登录", None),
            csrf: session::random_token(),
            next: local(&f.next).to_owned(),
            username: f.username.clone(),
            errors: errors.within(&["username", "password"]),
        };
        page(jar.clone(), &c, status, p)
    };
    let req: LoginRequest = match super::parse(&[("username", &f.username), ("password", &f.password)]) {
        Ok(r) => r,
        Err(e) => return retry(e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    match c.app.console_login(req).await {
        Ok(res) => {
            let ttl = c.app.config.login_token_ttl;
            let jar = jar.clone().remove(session::removal(&c, LOGIN_COOKIE)).add(session::cookie(
                &c,
                SESSION_COOKIE,
                res.token,
                Some(ttl),
            ));
            (jar, Redirect::to(local(&f.next))).into_response()
        }
        Err(e @ AppError::Unauthorized(_)) => retry(Errors::from_app(&e), StatusCode::UNAUTHORIZED),
        Err(e @ AppError::TooManyAttempts { .. }) => retry(Errors::from_app(&e), StatusCode::TOO_MANY_REQUESTS),
        Err(e) => retry(Errors::from_app(&e), StatusCode::UNPROCESSABLE_ENTITY),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: the session's token is deleted.
pub async fn logout(
    axum::extract::State(c): State,
    session: Session,
    jar: CookieJar,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    if let Err(e) = c.app.revoke_token(&session.token).await {
        return super::failure(&e, Some(&session));
    }
    (jar.remove(session::removal(&c, SESSION_COOKIE)), Redirect::to("/login")).into_response()
}
