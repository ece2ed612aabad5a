//! The console's pages: each handler reads its session, calls one use case of `App` (the same
//! ones the JSON API calls, so scope and rules are enforced by the same code) and renders a
//! template. Errors of the use cases are shown in Chinese (`i18n`), next to their field.

pub mod alliance;
pub mod auth;
pub mod counter;
mod guard;
pub mod imports;
pub mod integrations;
pub mod labels;
pub mod orders;
pub mod periods;
pub mod setup;
pub mod staff;
pub mod village;

use crate::i18n::{self, Shown};
use crate::session::Session;
use crate::{Console, assets};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hezuo_app::{AppError, Principal};
use serde::de::DeserializeOwned;

/// A link of the navigation bar.
pub struct NavLink {
    pub href: String,
    pub label: &'static str,
}

/// What every page's frame needs: title, navigation, the log-out form's CSRF token, assets.
pub struct Layout {
    pub title: String,
    pub role: &'static str,
    pub nav: Vec<NavLink>,
    pub csrf: String,
    pub logged_in: bool,
    pub css: String,
    pub js: String,
    pub charts: bool,
    pub print: bool,
    pub tz: chrono_tz::Tz,
}

fn link(href: impl Into<String>, label: &'static str) -> NavLink {
    NavLink { href: href.into(), label }
}

/// Each role's navigation: its home first.
fn nav(p: &Principal) -> Vec<NavLink> {
    match *p {
        Principal::Staff { station_id, village_id, .. } => vec![
            link(format!("/stations/{station_id}/products"), "商品与库存"),
            link(format!("/stations/{station_id}/counter"), "收银开单"),
            link(format!("/stations/{station_id}/orders"), "订单"),
            link(format!("/stations/{station_id}/import"), "批量导入"),
            link(format!("/villages/{village_id}/revenue"), "本村集体收入"),
        ],
        Principal::Alliance { .. } => {
            vec![
                link("/stations", "服务站"),
                link("/statements", "平台对账"),
                link("/channels", "平台店铺"),
                link("/webhooks", "接口推送"),
                link("/villages", "村集体收入排名"),
            ]
        }
        Principal::Village { village_id } => vec![
            link(format!("/villages/{village_id}/revenue"), "集体经营收入"),
            link(format!("/villages/{village_id}/households"), "农户成员账户"),
        ],
        Principal::Admin => vec![
            link("/setup", "基础设置"),
            link("/stations", "服务站"),
            link("/statements", "平台对账"),
            link("/channels", "平台店铺"),
            link("/webhooks", "接口推送"),
            link("/villages", "村集体收入排名"),
            link("/cooperatives", "合作社结账"),
        ],
    }
}

pub fn role_label(p: &Principal) -> &'static str {
    match p {
        Principal::Admin => "管理员",
        Principal::Alliance { .. } => "电商联盟",
        Principal::Staff { .. } => "服务站工作人员",
        Principal::Village { .. } => "村集体",
    }
}

impl Layout {
    pub fn new(title: impl Into<String>, session: Option<&Session>) -> Layout {
        Layout {
            title: title.into(),
            role: session.map_or("", |s| role_label(&s.principal)),
            nav: session.map(|s| nav(&s.principal)).unwrap_or_default(),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            logged_in: session.is_some(),
            css: assets::url("console.css"),
            js: assets::url("console.js"),
            charts: false,
            print: false,
            tz: session.map_or(chrono_tz::Asia::Shanghai, |s| s.tz),
        }
    }

    /// A time in the deployment's time zone, to the minute.
    pub fn time(&self, t: impl std::borrow::Borrow<chrono::DateTime<chrono::Utc>>) -> String {
        t.borrow().with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }

    /// A time, or — when there is none.
    pub fn time_or_dash(&self, t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        t.map_or_else(|| "—".to_owned(), |t| self.time(t))
    }

    pub fn icon(&self) -> String {
        assets::url("favicon.svg")
    }

    pub fn echarts(&self) -> String {
        assets::url("echarts.common.min.js")
    }
}

/// Errors of a form: each under its field, or for the form as a whole.
pub struct Errors {
    pub list: Vec<Shown>,
    /// The status the API answers these errors with (422 unless a use case said otherwise:
    /// 409 for a conflict such as a code that exists already, 403 for a role refused …).
    pub status: StatusCode,
}

impl Default for Errors {
    fn default() -> Errors {
        Errors { list: Vec::new(), status: StatusCode::UNPROCESSABLE_ENTITY }
    }
}

impl Errors {
    pub fn one(s: Shown) -> Errors {
        Errors { list: vec![s], ..Errors::default() }
    }

    pub fn from_app(e: &AppError) -> Errors {
        Errors { list: vec![i18n::error(e)], status: status_of(e) }
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.list.iter().find(|s| s.field.as_deref() == Some(field)).map(|s| s.text.as_str())
    }

    /// Messages that belong to no field of the form.
    pub fn general(&self) -> Vec<&str> {
        self.list.iter().filter(|s| s.field.is_none()).map(|s| s.text.as_str()).collect()
    }

    /// Errors of fields the form does not have are shown above the form instead.
    pub fn within(mut self, fields: &[&str]) -> Errors {
        for s in &mut self.list {
            if s.field.as_deref().is_some_and(|f| !fields.contains(&f)) {
                s.field = None;
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The HTTP status the API gives a use case's error.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Invalid { .. } | AppError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Renders a template as a page; a template that fails to render is an internal error.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Html(FALLBACK.to_owned())).into_response()
        }
    }
}

pub fn ok(t: &impl Template) -> Response {
    render(StatusCode::OK, t)
}

const FALLBACK: &str = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>系统错误</title><p>系统内部错误，请联系管理员。</p></html>";

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    text: String,
    back: bool,
}

fn message(status: StatusCode, session: Option<&Session>, heading: &'static str, text: String) -> Response {
    let l = Layout::new(heading, session);
    render(status, &MessagePage { l, text, back: true })
}

/// The Chinese 404 page: unknown pages and other tenants' objects alike.
pub fn not_found(session: Option<&Session>) -> Response {
    message(StatusCode::NOT_FOUND, session, "页面不存在", "您要找的页面不存在，或不在您的管辖范围内。".to_owned())
}

pub fn csrf_refused(session: Option<&Session>) -> Response {
    message(
        StatusCode::FORBIDDEN,
        session,
        "页面已过期",
        "表单已过期或来自其他网站，未做任何修改。请返回并重新提交。".to_owned(),
    )
}

/// A use case's refusal as a page of its own (for errors that belong to no form).
pub fn failure(e: &AppError, session: Option<&Session>) -> Response {
    let shown = i18n::error(e);
    match e {
        AppError::NotFound(_) => not_found(session),
        AppError::Forbidden => message(StatusCode::FORBIDDEN, session, "无权访问", shown.text),
        AppError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            message(StatusCode::INTERNAL_SERVER_ERROR, session, "系统错误", shown.text)
        }
        _ => message(StatusCode::UNPROCESSABLE_ENTITY, session, "操作未能完成", shown.text),
    }
}

/// The fallback of the console's paths.
pub async fn unknown_page() -> Response {
    not_found(None)
}

/// Reads a use case's request type from form fields the way the JSON API reads it from a body,
/// so that the console parses amounts, quantities and dates by the very same rules.
/// Empty fields are left out (the API's optional fields).
pub fn parse<T: DeserializeOwned>(fields: &[(&str, &str)]) -> Result<T, Errors> {
    let mut map = serde_json::Map::new();
    for (k, v) in fields {
        let v = v.trim();
        if !v.is_empty() {
            map.insert((*k).to_owned(), serde_json::Value::String(v.to_owned()));
        }
    }
    parse_value(serde_json::Value::Object(map))
}

pub fn parse_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, Errors> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let field = if path == "." {
            inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()).map(str::to_owned)
        } else {
            Some(path)
        };
        Errors::one(i18n::show("invalid_field", field.as_deref(), &inner))
    })
}

/// A multipart form as read: its text fields and its file (the field `file`).
pub struct Upload {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<axum::body::Bytes>,
}

impl Upload {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
    }
}

/// Why a multipart form could not be used.
pub enum UploadError {
    /// Answered already: the CSRF token did not come first or did not match.
    Refused(Response),
    /// The body broke off or was too large: shown beside the file field.
    Unreadable(Errors, StatusCode),
}

/// Reads a multipart form whose CSRF token comes first: nothing after it is read unless it
/// matches the session's.
pub async fn read_upload(session: &Session, mut form: axum::extract::Multipart) -> Result<Upload, UploadError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        UploadError::Unreadable(Errors::one(i18n::show("unreadable_body", Some("file"), &e.body_text())), e.status())
    };
    let mut up = Upload { fields: Default::default(), file: None };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        let csrf = up.fields.get("csrf").map(String::as_str).unwrap_or_default();
        if name != "csrf" && !crate::session::same(csrf, &session.csrf) {
            return Err(UploadError::Refused(csrf_refused(Some(session))));
        }
        if name == "file" {
            up.file = Some(field.bytes().await.map_err(unreadable)?);
        } else {
            let t = field.text().await.map_err(unreadable)?;
            up.fields.insert(name, t);
        }
    }
    session.check(up.fields.get("csrf").map(String::as_str).unwrap_or_default()).map_err(UploadError::Refused)?;
    Ok(up)
}

/// Names read one by one through the caller's scope (those out of it are left out): for
/// pages that name the few households or villages of one order or close.
async fn names_of<F, Fut>(ids: impl IntoIterator<Item = i64>, name: F) -> std::collections::HashMap<i64, String>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let mut names = std::collections::HashMap::new();
    for id in ids {
        if !names.contains_key(&id)
            && let Some(n) = name(id).await
        {
            names.insert(id, n);
        }
    }
    names
}

/// The names of households in the caller's scope.
pub async fn household_names(
    c: &Console,
    p: &Principal,
    ids: impl IntoIterator<Item = i64>,
) -> std::collections::HashMap<i64, String> {
    names_of(ids, |id| async move { c.app.get_household(p, id).await.ok().map(|h| h.name) }).await
}

/// The names of villages in the caller's scope (a close's dividends name village collectives).
pub async fn village_names(
    c: &Console,
    p: &Principal,
    ids: impl IntoIterator<Item = i64>,
) -> std::collections::HashMap<i64, String> {
    names_of(ids, |id| async move { c.app.get_village(p, id).await.ok().map(|v| v.name) }).await
}

/// A query or form field as the use cases take it: trimmed, and absent when empty.
pub fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The years a page offers to choose from: this one (on the business clock) and four before.
pub fn recent_years(c: &Console) -> Vec<i32> {
    let this_year = chrono::Datelike::year(&c.app.now().with_timezone(&c.app.config.timezone));
    (this_year - 4..=this_year).rev().collect()
}

/// `?year=`, empty meaning this year.
#[derive(serde::Deserialize, Default)]
pub struct YearQuery {
    #[serde(default)]
    pub year: String,
}

/// Percent-encodes a path and query for a `next=` parameter.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /`: each role's home.
pub async fn home(session: Session) -> Response {
    let home = nav(&session.principal).into_iter().next().map_or_else(|| "/login".to_owned(), |l| l.href);
    axum::response::Redirect::to(&home).into_response()
}

/// `Console` for handlers that need only the app.
pub type State = axum::extract::State<Console>;
