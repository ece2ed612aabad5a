//! 平台店铺 and 接口推送 (alliance; admin for every alliance): each channel's platform feed —
//! its settings with write-only secrets, its state, its parked items and a 立即同步 button —
//! and the alliance's webhook endpoints with their deliveries. The same use cases as
//! `PUT /channels/{id}/feed`, `feed:sync` and `/webhooks`.

use super::setup::{Cell, Field, Kind, SavedQuery, body, cell, checked, field, link, text};
use super::staff::all_pages;
use super::{Errors, Layout, State, failure, parse_value, render};
use crate::i18n;
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone};
use hezuo_app::feeds::{Feed, PutFeed};
use hezuo_app::setup::Channel;
use hezuo_app::webhooks::{CreateWebhook, PatchWebhook, Webhook};
use hezuo_app::{AppError, Principal};
use std::collections::HashMap;

const MAX_ROWS: usize = 5_000;

pub const PLATFORMS: [(&str, &str); 3] = [("taobao", "淘宝"), ("pdd", "拼多多"), ("douyin", "抖音")];

/// An address refused by the filter of outgoing requests, said in Chinese with what is allowed.
fn address_refused(errors: Errors, env: &str, nets: String) -> Errors {
    let mut errors = errors;
    for s in &mut errors.list {
        if s.text.contains("地址不允许") {
            s.text = format!(
                "{}地址不允许：只能连接公网地址，或 {env} 列出的网络（当前：{nets}）；公网地址须用 https。",
                i18n::field(s.field.as_deref().unwrap_or_default())
            );
        }
    }
    errors
}

/// The networks an allow-list admits besides public addresses, as the page says them.
fn nets(list: &(impl std::fmt::Display + ?Sized)) -> String {
    let text = list.to_string();
    if text.is_empty() { "未设置".to_owned() } else { text }
}

// ---- 平台店铺 ----

#[derive(Template)]
#[template(path = "integrations/channels.html")]
struct ChannelsPage {
    l: Layout,
    rows: Vec<Vec<Cell>>,
}

/// `GET /channels`: the channels in scope and their feeds' state.
pub async fn channels(axum::extract::State(c): State, session: Session) -> Response {
    let p = &session.principal;
    let list = match all_pages(MAX_ROWS, |pg| c.app.list_channels(p, pg)).await {
        Ok(l) => l,
        Err(e) => return failure(&e, Some(&session)),
    };
    let l = session.layout("平台店铺");
    let mut rows = Vec::with_capacity(list.len());
    for ch in list {
        let state = match c.app.get_feed(p, ch.id).await {
            Ok(f) => feed_state(&f, &l),
            Err(AppError::NotFound(_)) => "未接入".to_owned(),
            Err(e) => return failure(&e, Some(&session)),
        };
        rows.push(vec![link(format!("{}（{}）", ch.name, ch.code), format!("/channels/{}/feed", ch.id)), cell(state)]);
    }
    render(StatusCode::OK, &ChannelsPage { l, rows })
}

fn platform_label(code: &str) -> &'static str {
    PLATFORMS.iter().find(|(v, _)| *v == code).map_or("", |(_, l)| l)
}

fn feed_state(f: &Feed, l: &Layout) -> String {
    let platform = platform_label(&f.platform);
    let on = if f.enabled { "已启用" } else { "已停用" };
    match (&f.last_run.error, f.last_run.finished_at) {
        (Some(e), _) => format!("{platform} · {on} · 上次同步出错：{e}"),
        (None, Some(at)) => format!("{platform} · {on} · 上次同步 {}，待处理 {} 笔", l.time(at), f.last_run.parked),
        (None, None) => format!("{platform} · {on} · 尚未同步"),
    }
}

/// A parked item in Chinese, with the link to what clears it.
pub struct ParkedRow {
    pub kind: &'static str,
    pub external_id: String,
    pub reason: String,
    pub fix: Option<(String, &'static str)>,
}

fn parked_row(kind: &str, external_id: &str, reason: &str) -> ParkedRow {
    let quoted = || reason.split('"').nth(1).unwrap_or_default().to_owned();
    let (reason_zh, fix) = if reason.starts_with("unknown sku") {
        (
            format!("未知的商家编码 {}：没有商品使用这个编码", quoted()),
            Some(("/stations".to_owned(), "给对应商品填写该商家编码")),
        )
    } else if let Some(rest) = reason.strip_prefix("not enough stock: ") {
        let product =
            rest.split("(product ").nth(1).and_then(|r| r.split(')').next()).and_then(|n| n.parse::<i64>().ok());
        (format!("库存不足：{rest}"), product.map(|id| (format!("/products/{id}/lots/new"), "为该商品收货")))
    } else if reason.starts_with("refund of order") {
        ("退款早于订单：订单尚未入账，订单同步入账后自动处理".to_owned(), None)
    } else if reason.contains("no merchant code") {
        ("平台订单行没有商家编码：请在平台商品上填写商家编码".to_owned(), None)
    } else {
        (reason.to_owned(), None)
    };
    ParkedRow {
        kind: if kind == "refund" { "退款" } else { "订单" },
        external_id: external_id.to_owned(),
        reason: reason_zh,
        fix,
    }
}

#[derive(Template)]
#[template(path = "integrations/feed.html")]
struct FeedPage {
    l: Layout,
    channel: Channel,
    fields: Vec<Field>,
    errors: Errors,
    feed: Option<Feed>,
    state: String,
    parked: Vec<ParkedRow>,
    notice: Option<String>,
    sync_error: Option<String>,
}

impl FeedPage {
    /// Whether the last run read every window up to now: a run stopped at its time budget with
    /// windows left asks for the next one at once, not after the feed's interval.
    fn caught_up(&self) -> &'static str {
        match &self.feed {
            Some(f) => match f.last_run.finished_at {
                None => "尚未同步",
                Some(done) if f.next_run_at <= done => "未追平：还有时段未读，马上继续",
                Some(_) => "已追平",
            },
            None => "",
        }
    }
}

fn feed_fields(f: &HashMap<String, String>, stored: Option<&Feed>) -> Vec<Field> {
    let platforms = PLATFORMS.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
    let secret_hint = |set: bool| if set { "已设置：留空则保留原值" } else { "未设置" };
    let mut v = vec![
        field("platform", "平台", Kind::Select(platforms), text(f, "platform")),
        field("base_url", "接口地址", Kind::Text, text(f, "base_url")).hint("平台开放接口的 https 地址"),
        field("app_key", "App Key", Kind::Text, text(f, "app_key")),
        field("app_secret", "App Secret", Kind::Password, "")
            .hint(secret_hint(stored.is_some_and(|s| s.app_secret_set))),
        field("access_token", "Access Token（店铺授权）", Kind::Password, "")
            .optional()
            .hint(secret_hint(stored.is_some_and(|s| s.access_token_set))),
        field("interval_seconds", "同步间隔（秒）", Kind::Text, text(f, "interval_seconds")).hint("60 到 86400"),
        field("start_at", "从何时开始同步", Kind::DateTime, text(f, "start_at"))
            .hint("第一次同步读取这个时间之后的订单"),
        field("enabled", "启用自动同步", Kind::Checkbox, text(f, "enabled")),
    ];
    if stored.is_none() {
        v[3].required = true;
    }
    v
}

async fn feed_page(
    c: &crate::Console,
    session: &Session,
    channel_id: i64,
    form: Option<(&HashMap<String, String>, Errors)>,
    notice: Option<String>,
    sync_error: Option<String>,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let channel = match c.app.get_channel(p, channel_id).await {
        Ok(ch) => ch,
        Err(e) => return failure(&e, Some(session)),
    };
    let feed = match c.app.get_feed(p, channel_id).await {
        Ok(f) => Some(f),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return failure(&e, Some(session)),
    };
    let l = session.layout(format!("平台店铺：{}", channel.name));
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&session.tz).format("%Y-%m-%dT%H:%M").to_string();
    let stored: HashMap<String, String> = match &feed {
        Some(f) => HashMap::from([
            ("platform".to_owned(), f.platform.clone()),
            ("base_url".to_owned(), f.base_url.clone()),
            ("app_key".to_owned(), f.app_key.clone()),
            ("interval_seconds".to_owned(), f.interval_seconds.to_string()),
            ("start_at".to_owned(), local(f.start_at)),
            ("enabled".to_owned(), f.enabled.to_string()),
        ]),
        None => HashMap::from([
            ("interval_seconds".to_owned(), "300".to_owned()),
            ("enabled".to_owned(), "true".to_owned()),
        ]),
    };
    let (values, errors) = match form {
        Some((f, e)) => (f.clone(), e),
        None => (stored, Errors::default()),
    };
    let names =
        ["platform", "base_url", "app_key", "app_secret", "access_token", "interval_seconds", "start_at", "enabled"];
    let errors = address_refused(errors.within(&names), "HEZUO_FEED_ALLOW_NETS", nets(&c.app.config.feed_allow_nets));
    let state = feed.as_ref().map(|f| feed_state(f, &l)).unwrap_or_default();
    let parked = feed
        .as_ref()
        .map(|f| f.parked.iter().map(|x| parked_row(&x.kind, &x.external_id, &x.reason)).collect())
        .unwrap_or_default();
    let page = FeedPage {
        fields: feed_fields(&values, feed.as_ref()),
        l,
        channel,
        errors,
        feed,
        state,
        parked,
        notice,
        sync_error,
    };
    render(status, &page)
}

/// `start_at` as typed (`datetime-local`, the deployment's time zone) in RFC 3339.
fn start_at(typed: &str, tz: chrono_tz::Tz) -> Option<String> {
    let t = typed.trim();
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    tz.from_local_datetime(&naive).earliest().map(|at| at.to_rfc3339())
}

pub async fn save_feed(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let mut req = body(&f, &["platform", "base_url", "app_key", "access_token"], &[]);
    req["app_secret"] = serde_json::Value::String(text(&f, "app_secret").trim().to_owned());
    req["enabled"] = serde_json::Value::Bool(text(&f, "enabled") == "true");
    let interval = text(&f, "interval_seconds");
    req["interval_seconds"] = interval.trim().parse::<i64>().map_or_else(|_| interval.trim().into(), Into::into);
    let typed = text(&f, "start_at");
    let done = match (start_at(&typed, session.tz), typed.trim().is_empty()) {
        (None, empty) => Err(Errors::one(i18n::show(
            "invalid_field",
            Some("start_at"),
            if empty { "is required" } else { "not a valid time" },
        ))),
        (Some(at), _) => {
            req["start_at"] = at.into();
            match parse_value::<PutFeed>(req) {
                Ok(req) => {
                    c.app.put_feed_keeping_secrets(&session.principal, id, req).await.map_err(|e| Errors::from_app(&e))
                }
                Err(e) => Err(e),
            }
        }
    };
    match done {
        Ok(_) => Redirect::to(&format!("/channels/{id}/feed?saved=1")).into_response(),
        Err(e) => {
            let status = e.status;
            feed_page(&c, &session, id, Some((&f, e)), None, None, status).await
        }
    }
}

/// `GET /channels/{id}/feed`: the feed's state, parked items and settings.
pub async fn feed_saved(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let notice = (!q.saved.is_empty()).then(|| "已保存。".to_owned());
    feed_page(&c, &session, id, None, notice, None, StatusCode::OK).await
}

/// `POST /channels/{id}/feed/sync`: one run now, its counts shown; a run under way is 同步进行中.
pub async fn sync(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    match c.app.sync_feed(&session.principal, id).await {
        Ok(s) => {
            let notice = format!(
                "同步完成：新订单 {} 笔，重复 {} 笔，取消 {} 笔，退款 {} 笔，待处理 {} 笔{}{}。",
                s.orders_created,
                s.orders_replayed,
                s.orders_cancelled,
                s.refunds,
                s.parked,
                if s.caught_up { "" } else { "；还有未读完的时段，下次同步继续" },
                s.error.as_deref().map(|e| format!("；提前结束：{e}")).unwrap_or_default()
            );
            feed_page(&c, &session, id, None, Some(notice), None, StatusCode::OK).await
        }
        Err(AppError::Conflict { code: "feed_busy", .. }) => {
            feed_page(
                &c,
                &session,
                id,
                None,
                None,
                Some("同步进行中：上一次同步尚未结束，请稍后再试。".into()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden)) => failure(&e, Some(&session)),
        Err(e) => {
            let status = super::status_of(&e);
            feed_page(&c, &session, id, None, None, Some(i18n::error(&e).text), status).await
        }
    }
}

// ---- 接口推送 ----

#[derive(Template)]
#[template(path = "integrations/webhooks.html")]
struct WebhooksPage {
    l: Layout,
    endpoints: Vec<Webhook>,
    alliances: Vec<(String, String)>,
    admin: bool,
    events: Vec<(&'static str, &'static str, bool)>,
    url: String,
    alliance_id: String,
    errors: Errors,
    created: Option<(i64, String)>,
}

pub const EVENTS: [(&str, &str); 5] = [
    ("order.created", "新订单"),
    ("order.refunded", "退款"),
    ("order.cancelled", "订单取消"),
    ("period.closed", "结账"),
    ("statement.imported", "对账单导入"),
];

fn event_label(e: &str) -> &'static str {
    EVENTS.iter().find(|(v, _)| *v == e).map_or("", |(_, l)| l)
}

async fn webhooks_page(
    c: &crate::Console,
    session: &Session,
    form: Option<(String, Vec<String>, String, Errors)>,
    created: Option<(i64, String)>,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let endpoints = match all_pages(MAX_ROWS, |pg| c.app.list_webhooks(p, pg)).await {
        Ok(e) => e,
        Err(e) => return failure(&e, Some(session)),
    };
    let admin = matches!(p, Principal::Admin);
    let alliances = if admin {
        match all_pages(MAX_ROWS, |pg| c.app.list_alliances(p, pg)).await {
            Ok(a) => a.into_iter().map(|a| (a.id.to_string(), a.name)).collect(),
            Err(e) => return failure(&e, Some(session)),
        }
    } else {
        Vec::new()
    };
    let (url, chosen, alliance_id, errors) = form.unwrap_or_default();
    let events = EVENTS.iter().map(|(v, l)| (*v, *l, chosen.iter().any(|c| c == v))).collect();
    let errors = address_refused(
        errors.within(&["url", "events", "alliance_id"]),
        "HEZUO_WEBHOOK_ALLOW_NETS",
        nets(&c.app.config.webhook_allow_nets),
    );
    let page = WebhooksPage {
        l: session.layout("接口推送"),
        endpoints,
        alliances,
        admin,
        events,
        url,
        alliance_id,
        errors,
        created,
    };
    render(status, &page)
}

pub async fn webhooks(axum::extract::State(c): State, session: Session) -> Response {
    webhooks_page(&c, &session, None, None, StatusCode::OK).await
}

/// `POST /webhooks`: the endpoint created, its secret shown on this answer only.
pub async fn create_webhook(axum::extract::State(c): State, session: Session, body: axum::body::Bytes) -> Response {
    let mut f: HashMap<String, String> = HashMap::new();
    let mut events = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        if k == "events" {
            events.push(v.into_owned());
        } else {
            f.insert(k.into_owned(), v.into_owned());
        }
    }
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let mut req = super::setup::body(&f, &["url", "alliance_id"], &["alliance_id"]);
    req["events"] = events.clone().into();
    let done = match parse_value::<CreateWebhook>(req) {
        Ok(req) => c.app.create_webhook(&session.principal, req).await.map_err(|e| Errors::from_app(&e)),
        Err(e) => Err(e),
    };
    match done {
        Ok(w) => webhooks_page(&c, &session, None, Some((w.id, w.secret)), StatusCode::CREATED).await,
        Err(e) => {
            let status = e.status;
            let form = (text(&f, "url"), events, text(&f, "alliance_id"), e);
            webhooks_page(&c, &session, Some(form), None, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "integrations/webhook.html")]
struct WebhookPage {
    l: Layout,
    w: Webhook,
    deliveries: Vec<hezuo_app::webhooks::DeliveryView>,
    notice: Option<String>,
}

impl WebhookPage {
    fn event_label(&self, e: &str) -> &'static str {
        event_label(e)
    }

    fn status_label(&self, s: &str) -> &'static str {
        match s {
            "pending" => "待推送",
            "delivered" => "已送达",
            "failed" => "失败，将重试",
            "dead" => "已放弃",
            _ => "",
        }
    }
}

async fn webhook_page(c: &crate::Console, session: &Session, id: i64, notice: Option<String>) -> Response {
    let p = &session.principal;
    let read = async {
        let w = c.app.get_webhook(p, id).await?;
        let deliveries = all_pages(500, |pg| c.app.webhook_deliveries(p, id, pg)).await?;
        Ok::<_, AppError>((w, deliveries))
    };
    match read.await {
        Ok((w, mut deliveries)) => {
            deliveries.reverse();
            render(StatusCode::OK, &WebhookPage { l: session.layout("接口推送：推送记录"), w, deliveries, notice })
        }
        Err(e) => failure(&e, Some(session)),
    }
}

pub async fn webhook(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    webhook_page(&c, &session, id, None).await
}

/// `POST /webhooks/{id}/enable|disable`.
pub async fn webhook_switch(
    axum::extract::State(c): State,
    session: Session,
    Path((id, what)): Path<(i64, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let enabled = match what.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return super::not_found(Some(&session)),
    };
    let req = PatchWebhook { url: None, events: None, enabled: Some(enabled) };
    match c.app.patch_webhook(&session.principal, id, req).await {
        Ok(_) => {
            webhook_page(&c, &session, id, Some(if enabled { "已启用。" } else { "已停用：不再推送。" }.into())).await
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

/// `POST /webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    axum::extract::State(c): State,
    session: Session,
    Path((id, delivery)): Path<(i64, i64)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    match c.app.redeliver(&session.principal, id, delivery).await {
        Ok(_) => webhook_page(&c, &session, id, Some(format!("已安排重新推送（第 {delivery} 条）。"))).await,
        Err(e @ AppError::Conflict { .. }) => {
            webhook_page(&c, &session, id, Some(format!("未能重新推送：{}", i18n::error(&e).text))).await
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parked_reasons_read_in_chinese_with_their_fix() {
        let r = super::parked_row("order", "TB1", "unknown sku \"TAO-001\"");
        assert_eq!(r.reason, "未知的商家编码 TAO-001：没有商品使用这个编码");
        let r = super::parked_row("order", "TB2", "not enough stock: 白凤桃 (product 31): 1.000 available, 3 ordered");
        assert_eq!(r.fix.map(|f| f.0).as_deref(), Some("/products/31/lots/new"));
        assert_eq!(super::parked_row("refund", "R1", "refund of order 9 which is not booked (yet)").kind, "退款");
    }

    #[test]
    fn a_local_start_is_read_in_the_deployments_zone() {
        let at = super::start_at("2026-12-01T08:00", chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(at, "2026-12-01T08:00:00+08:00");
        assert!(super::start_at("12/01", chrono_tz::Asia::Shanghai).is_none());
    }
}
