//! Station staff: CSV import of products and of lots (`App::import_products`,
//! `App::import_lots`). A file is imported whole or not at all; when it is refused, every bad
//! line is listed with its field and the reason in Chinese.

use super::{Errors, Layout, State, UploadError, failure, read_upload, render};
use crate::i18n;
use crate::session::Session;
use askama::Template;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::AppError;
use hezuo_app::catalog::ImportResult;
use serde::Deserialize;

/// A refused line as the page lists it.
pub struct BadLine {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "staff/import.html")]
struct ImportPage {
    l: Layout,
    station_id: i64,
    station: String,
    /// `products` or `lots`: the form the errors belong to.
    kind: String,
    errors: Errors,
    lines: Vec<BadLine>,
    imported: Option<(String, u64)>,
    kinds: [&'static str; 2],
}

impl ImportPage {
    fn is_kind(&self, k: &str) -> bool {
        self.kind == k
    }

    fn is_products(&self, k: &str) -> bool {
        k == "products"
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    imported: Option<u64>,
}

fn what(kind: &str) -> &'static str {
    if kind == "lots" { "批次" } else { "商品" }
}

/// What the page shows besides the forms.
#[derive(Default)]
struct Outcome {
    kind: String,
    errors: Errors,
    lines: Vec<BadLine>,
    imported: Option<u64>,
}

async fn page(c: &crate::Console, session: &Session, station_id: i64, o: Outcome, status: StatusCode) -> Response {
    let station = match c.app.get_station(&session.principal, station_id).await {
        Ok(s) => s,
        Err(e) => return failure(&e, Some(session)),
    };
    render(
        status,
        &ImportPage {
            l: session.layout("批量导入"),
            station_id,
            station: station.name,
            imported: o.imported.map(|n| (what(&o.kind).to_owned(), n)),
            kind: o.kind,
            errors: o.errors.within(&["file"]),
            lines: o.lines,
            kinds: ["products", "lots"],
        },
    )
}

/// `GET /stations/{id}/import`: the two upload forms, and what the last import did.
pub async fn form(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    let o = Outcome { kind: done.kind, imported: done.imported, ..Default::default() };
    page(&c, &session, station_id, o, StatusCode::OK).await
}

/// `POST /stations/{id}/import/{kind}` (multipart: `csrf`, `file`), `kind` `products` or `lots`.
pub async fn upload(
    axum::extract::State(c): State,
    session: Session,
    Path((station_id, kind)): Path<(i64, String)>,
    form: Multipart,
) -> Response {
    if kind != "products" && kind != "lots" {
        return super::not_found(Some(&session));
    }
    let up = match read_upload(&session, form).await {
        Ok(u) => u,
        Err(UploadError::Refused(r)) => return r,
        Err(UploadError::Unreadable(errors, status)) => {
            return page(&c, &session, station_id, Outcome { kind, errors, ..Default::default() }, status).await;
        }
    };
    let p = &session.principal;
    let result: Result<ImportResult, AppError> = match up.file.as_deref() {
        None => Err(AppError::invalid("file", "is required")),
        Some([]) => Err(AppError::invalid("file", "must not be empty")),
        Some(bytes) if kind == "lots" => c.app.import_lots(p, &session.actor, station_id, bytes).await,
        Some(bytes) => c.app.import_products(p, station_id, bytes).await,
    };
    match result {
        Ok(r) => {
            Redirect::to(&format!("/stations/{station_id}/import?kind={kind}&imported={}", r.imported)).into_response()
        }
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden)) => failure(&e, Some(&session)),
        Err(e) => {
            let lines = match &e {
                AppError::Rejected { rows, .. } => rows
                    .iter()
                    .map(|r| {
                        let shown = i18n::show("invalid_field", r.field.as_deref(), &r.reason);
                        BadLine {
                            line: r.line,
                            field: r.field.as_deref().map(i18n::field).unwrap_or_else(|| "整行".to_owned()),
                            reason: shown.text,
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let status = if matches!(e, AppError::Conflict { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let o = Outcome { kind, errors: Errors::from_app(&e), lines, imported: None };
            page(&c, &session, station_id, o, status).await
        }
    }
}
