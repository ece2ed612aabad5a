//! Produce labels (承诺达标合格证) for a station's lots, and the public trace page their QR
//! code leads to (`/t/{code}`, no login).

use super::{Layout, State, failure, ok, render};
use crate::session::Session;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hezuo_app::catalog::PublicTrace;
use serde::Deserialize;

/// Most copies printed at once.
pub const MAX_COPIES: u32 = 100;

/// The promise of the certificate, as the station makes it for what it sells.
pub const PROMISE: &str = "我单位承诺所销售的食用农产品：不使用禁用农药兽药、停用兽药和非法添加物；常规农药兽药残留不超标；对承诺的真实性负责。";

/// The address a label prints and its QR code carries.
pub fn trace_url(c: &crate::Console, code: &str) -> String {
    let base = match &c.app.config.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{}", c.app.config.listen),
    };
    format!("{base}/t/{code}")
}

#[derive(Template)]
#[template(path = "staff/label.html")]
struct LabelPage {
    l: Layout,
    product_id: i64,
    t: PublicTrace,
    url: String,
    qr: String,
    copies: u32,
    copies_text: String,
    copies_error: Option<&'static str>,
    max_copies: u32,
    promise: &'static str,
}

impl LabelPage {
    fn origin(&self) -> String {
        format!("{}{}", self.t.origin.township.as_deref().unwrap_or(""), self.t.origin.village)
    }
}

#[derive(Deserialize, Default)]
pub struct LabelQuery {
    #[serde(default)]
    copies: String,
}

/// `GET /lots/{id}/label?copies=`: the lot's label, as many copies as asked (1 to 100), for
/// 60 × 40 mm label paper.
pub async fn label(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<LabelQuery>,
) -> Response {
    let label = match c.app.lot_label(&session.principal, id).await {
        Ok(l) => l,
        Err(e) => return failure(&e, Some(&session)),
    };
    let asked = q.copies.trim();
    let (copies, copies_error) = match asked.parse::<u32>() {
        _ if asked.is_empty() => (1, None),
        Ok(n) if (1..=MAX_COPIES).contains(&n) => (n, None),
        _ => (1, Some("份数须为 1 到 100 的整数")),
    };
    let url = trace_url(&c, &label.trace.code);
    let Some(qr) = crate::qr::svg(&url, "溯源二维码") else {
        return failure(&hezuo_app::AppError::Internal(format!("no QR code for {url}")), Some(&session));
    };
    let status = if copies_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    render(
        status,
        &LabelPage {
            l: session.layout("承诺达标合格证"),
            product_id: label.product_id,
            t: label.trace,
            url,
            qr,
            copies,
            copies_text: if asked.is_empty() { "1".into() } else { asked.to_owned() },
            copies_error,
            max_copies: MAX_COPIES,
            promise: PROMISE,
        },
    )
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    l: Layout,
    t: PublicTrace,
    promise: &'static str,
}

impl TracePage {
    fn origin(&self) -> String {
        format!("{}{}", self.t.origin.township.as_deref().unwrap_or(""), self.t.origin.village)
    }
}

/// `GET /t/{code}`: what the label certifies, for anyone who scans it. Never a household.
pub async fn trace(axum::extract::State(c): State, Path(code): Path<String>) -> Response {
    match c.app.public_trace(&code).await {
        Ok(t) => {
            let mut res =
                ok(&TracePage { l: Layout::new(format!("{} · 产品溯源", t.product), None), t, promise: PROMISE });
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            res
        }
        Err(hezuo_app::AppError::NotFound(_)) => {
            let mut res = super::not_found(None);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
            res
        }
        Err(e) => failure(&e, None).into_response(),
    }
}
