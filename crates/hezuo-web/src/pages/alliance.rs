//! The alliance (and admins): stations, platform statements and their items, the village ranking.

use super::{Errors, Layout, State, YearQuery, failure, ok, render};
use crate::pages::staff::all_pages;
use crate::pages::village::growth_text;
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::reconciliation::{ItemFilter, ItemView, Resolve, StatementView, items_csv, items_xlsx};
use hezuo_app::reports::VillageRanking;
use hezuo_app::setup::{Channel, Station};
use hezuo_app::{AppError, Principal};
use serde::Deserialize;

/// Item statuses of reconciliation in Chinese.
pub const ITEM_STATUSES: [(&str, &str); 5] = [
    ("matched", "已核对"),
    ("amount_mismatch", "金额不符"),
    ("missing_in_books", "账上没有"),
    ("missing_in_statement", "对账单上没有"),
    ("duplicate", "重复"),
];

pub fn item_status(s: &str) -> &'static str {
    ITEM_STATUSES.iter().find(|(k, _)| *k == s).map_or("其他", |(_, zh)| zh)
}

pub const FORMATS: [(&str, &str); 3] =
    [("generic", "通用格式"), ("alipay", "支付宝（淘宝）结算明细"), ("wechat", "微信支付结算明细")];

#[derive(Template)]
#[template(path = "alliance/stations.html")]
struct StationsPage {
    l: Layout,
    stations: Vec<Station>,
}

/// `GET /stations`.
pub async fn stations(axum::extract::State(c): State, session: Session) -> Response {
    match all_pages(5_000, |page| c.app.list_stations(&session.principal, None, page)).await {
        Ok(stations) => ok(&StationsPage { l: session.layout("服务站"), stations }),
        Err(e) => failure(&e, Some(&session)),
    }
}

#[derive(Template)]
#[template(path = "alliance/statements.html")]
struct StatementsPage {
    l: Layout,
    statements: Vec<StatementView>,
    channels: Vec<Channel>,
    formats: [(&'static str, &'static str); 3],
    can_upload: bool,
    channel: String,
    format: String,
    errors: Errors,
}

async fn statements_page(
    c: &crate::Console,
    session: &Session,
    channel: String,
    format: String,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let statements = all_pages(2_000, |page| c.app.list_statements(p, None, page)).await;
    let channels = all_pages(1_000, |page| c.app.list_channels(p, page)).await;
    let (mut statements, channels) = match (statements, channels) {
        (Ok(s), Ok(ch)) => (s, ch),
        (Err(e), _) | (_, Err(e)) => return failure(&e, Some(session)),
    };
    statements.reverse();
    render(
        status,
        &StatementsPage {
            l: session.layout("平台对账"),
            statements,
            channels,
            formats: FORMATS,
            can_upload: matches!(p, Principal::Alliance { .. }),
            channel,
            format,
            errors: errors.within(&["channel", "format", "file"]),
        },
    )
}

/// `GET /statements`: statements, newest first, and the upload form.
pub async fn statements(axum::extract::State(c): State, session: Session) -> Response {
    statements_page(&c, &session, String::new(), "generic".into(), Errors::default(), StatusCode::OK).await
}

/// `POST /statements` (multipart: `csrf`, `channel`, `format`, `file`): `App::import_statement`.
pub async fn upload(axum::extract::State(c): State, session: Session, form: Multipart) -> Response {
    let up = match super::read_upload(&session, form).await {
        Ok(u) => u,
        Err(super::UploadError::Refused(r)) => return r,
        Err(super::UploadError::Unreadable(errors, status)) => {
            return statements_page(&c, &session, String::new(), String::new(), errors, status).await;
        }
    };
    let (channel, format, file) = (up.text("channel"), up.text("format"), up.file);
    let p = &session.principal;
    let result = match (&file, c.app.check_statement_import(p, channel.trim(), format.trim()).await) {
        (_, Err(e)) => Err(e),
        (None, Ok(())) => Err(AppError::invalid("file", "is required")),
        (Some(body), Ok(())) if body.is_empty() => Err(AppError::invalid("file", "must not be empty")),
        (Some(body), Ok(())) => c.app.import_statement(p, &session.actor, channel.trim(), format.trim(), body).await,
    };
    match result {
        Ok(imported) => Redirect::to(&format!("/statements/{}", imported.statement.id)).into_response(),
        Err(e) => {
            let errors = Errors::from_app(&e);
            statements_page(&c, &session, channel, format, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ItemQuery {
    #[serde(default)]
    status: String,
}

pub struct SummaryRow {
    pub status: &'static str,
    pub key: &'static str,
    pub s: hezuo_app::reconciliation::StatusSummary,
}

#[derive(Template)]
#[template(path = "alliance/statement.html")]
struct StatementPage {
    l: Layout,
    st: StatementView,
    summary: Vec<SummaryRow>,
    items: Vec<ItemView>,
    status: String,
    statuses: [(&'static str, &'static str); 5],
    can_resolve: bool,
    error_item: Option<i64>,
    errors: Errors,
}

impl StatementPage {
    fn status_label(&self, s: &str) -> &'static str {
        item_status(s)
    }

    fn is_error_item(&self, id: &i64) -> bool {
        self.error_item == Some(*id)
    }
}

/// At most this many items are shown on the page; the downloads have them all.
const ITEMS_SHOWN: usize = 2_000;

async fn statement_page(
    c: &crate::Console,
    session: &Session,
    id: i64,
    status: String,
    error_item: Option<i64>,
    errors: Errors,
    code: StatusCode,
) -> Response {
    let p = &session.principal;
    let st = match c.app.get_statement(p, id).await {
        Ok(s) => s,
        Err(e) => return failure(&e, Some(session)),
    };
    let filter = ItemFilter { status: super::optional(&status) };
    let items = match all_pages(ITEMS_SHOWN, |page| c.app.statement_items(p, id, &filter, page)).await {
        Ok(i) => i,
        Err(e) => return failure(&e, Some(session)),
    };
    let summary = ITEM_STATUSES
        .iter()
        .map(|(k, zh)| SummaryRow { status: zh, key: k, s: st.summary.get(*k).cloned().unwrap_or_default() })
        .collect();
    render(
        code,
        &StatementPage {
            l: session.layout(format!("对账单 {}（{}）", st.id, st.channel)),
            st,
            summary,
            items,
            status,
            statuses: ITEM_STATUSES,
            can_resolve: matches!(p, Principal::Alliance { .. }),
            error_item,
            errors: errors.within(&["note"]),
        },
    )
}

/// `GET /statements/{id}?status=`: totals by status and the items.
pub async fn statement(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<ItemQuery>,
) -> Response {
    statement_page(&c, &session, id, q.status, None, Errors::default(), StatusCode::OK).await
}

/// `GET /statements/{id}/items.csv|xlsx?status=`: every item, as the API's export.
pub async fn download(
    axum::extract::State(c): State,
    session: Session,
    Path((id, file)): Path<(i64, String)>,
    Query(q): Query<ItemQuery>,
) -> Response {
    let filter = ItemFilter { status: super::optional(&q.status) };
    let (ext, content_type) = match file.as_str() {
        "items.csv" => ("csv", "text/csv; charset=utf-8"),
        "items.xlsx" => ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        _ => return super::not_found(Some(&session)),
    };
    let body = match c.app.all_statement_items(&session.principal, id, &filter).await {
        Ok(all) if ext == "csv" => items_csv(&all).map(String::into_bytes),
        Ok(all) => items_xlsx(&all),
        Err(e) => Err(e),
    };
    match body {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"statement-{id}.{ext}\"")),
            ],
            b,
        )
            .into_response(),
        Err(e) => failure(&e, Some(&session)),
    }
}

#[derive(Deserialize, Default)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    statement_id: i64,
    #[serde(default)]
    status: String,
}

/// `POST /items/{id}/resolve`: `App::resolve_item` with the note.
pub async fn resolve(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ResolveForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    match c.app.resolve_item(&session.principal, &session.actor, id, Resolve { note: f.note.clone() }).await {
        Ok(item) => {
            let q =
                if f.status.is_empty() { String::new() } else { format!("?status={}", super::url_encode(&f.status)) };
            Redirect::to(&format!("/statements/{}{q}#item-{id}", item.statement_id)).into_response()
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) if f.statement_id > 0 => {
            let mut errors = Errors::from_app(&e);
            for s in &mut errors.list {
                s.field = Some("note".into());
            }
            statement_page(&c, &session, f.statement_id, f.status, Some(id), errors, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

#[derive(Template)]
#[template(path = "alliance/ranking.html")]
struct RankingPage {
    l: Layout,
    r: VillageRanking,
    years: Vec<i32>,
}

impl RankingPage {
    fn growth(&self, g: &Option<rust_decimal::Decimal>) -> String {
        growth_text(*g)
    }
}

/// `GET /villages?year=`: every village of the scope ranked, 薄弱村 marked.
pub async fn ranking(axum::extract::State(c): State, session: Session, Query(q): Query<YearQuery>) -> Response {
    match c.app.village_ranking(&session.principal, super::optional(&q.year).as_deref()).await {
        Ok(r) => {
            let l = session.layout(format!("{} 年村集体经营收入排名", r.year));
            ok(&RankingPage { l, years: super::recent_years(&c), r })
        }
        Err(e) => failure(&e, Some(&session)),
    }
}
