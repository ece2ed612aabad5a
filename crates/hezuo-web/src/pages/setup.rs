//! 基础设置 (admin): villages, households, cooperatives with their members and rule versions,
//! stations, channels and users — each a list with search and paging, a create form and an
//! edit form, over the same use cases as `POST`/`PATCH /api/v1/...`. Form fields carry the
//! API's field names, so each error of a use case shows beside its field.
//!
//! Every list and form is one of two shapes (`ListPage`, `FormPage`), described here by its
//! columns and fields; the templates render any of them.

use super::staff::all_pages;
use super::{Errors, Layout, State, failure, parse_value, render};
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::setup::*;
use hezuo_app::{AppError, Principal, Role};
use serde::Deserialize;
use std::collections::HashMap;

/// Rows of a list page.
const PER_PAGE: usize = 50;
/// Most objects of a kind a list reads (a district has far fewer).
const MAX_ROWS: usize = 20_000;

/// How a field is entered.
pub enum Kind {
    Text,
    Decimal,
    Password,
    Date,
    /// `<input type=datetime-local>`, read in the deployment's time zone.
    DateTime,
    /// Sent as `true` when ticked.
    Checkbox,
    /// (value, label) pairs; the value is what the API takes.
    Select(Vec<(String, String)>),
}

impl Kind {
    pub fn is_checkbox(&self) -> bool {
        matches!(self, Kind::Checkbox)
    }
}

/// A form field named as the API names it.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub value: String,
    pub hint: &'static str,
    pub required: bool,
    /// Shown only for these roles while the page's script runs (the users' form).
    pub show_for: &'static str,
}

pub fn field(name: &'static str, label: &'static str, kind: Kind, value: impl Into<String>) -> Field {
    Field { name, label, kind, value: value.into(), hint: "", required: true, show_for: "" }
}

impl Field {
    pub fn optional(mut self) -> Field {
        self.required = false;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

pub fn cell(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), href: None }
}

pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
    Cell { text: text.into(), href: Some(href.into()) }
}

/// A table under a form (a cooperative's members and rule versions).
pub struct Table {
    pub id: &'static str,
    pub title: &'static str,
    pub note: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// A second form on an edit page (add a member, reset a password, disable …).
pub struct Action {
    pub id: &'static str,
    pub title: &'static str,
    pub action: String,
    pub fields: Vec<Field>,
    pub button: &'static str,
    pub secondary: bool,
    pub confirm: &'static str,
}

#[derive(Template)]
#[template(path = "setup/list.html")]
struct ListPage {
    l: Layout,
    notice: Option<String>,
    q: String,
    keep: Vec<(&'static str, String)>,
    new_href: Option<String>,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "setup/form.html")]
struct FormPage {
    l: Layout,
    back: String,
    notice: Option<String>,
    action: String,
    fields: Vec<Field>,
    errors: Errors,
    actions: Vec<Action>,
    action_errors: Errors,
    action_errors_for: &'static str,
    tables: Vec<Table>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    village_id: String,
    #[serde(default)]
    saved: String,
}

/// A list's rows filtered by `q` (any cell) and cut to its page.
fn list_page(
    session: &Session,
    title: &str,
    base: &str,
    q: &ListQuery,
    new_href: Option<String>,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
) -> Response {
    let needle = q.q.trim().to_lowercase();
    let rows: Vec<Vec<Cell>> = rows
        .into_iter()
        .filter(|r| needle.is_empty() || r.iter().any(|c| c.text.to_lowercase().contains(&needle)))
        .collect();
    let total = rows.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.trim().parse::<usize>().unwrap_or(1).clamp(1, pages);
    let mut keep: Vec<(&'static str, String)> = Vec::new();
    if !q.village_id.trim().is_empty() {
        keep.push(("village_id", q.village_id.trim().to_owned()));
    }
    let href = |n: usize| {
        let mut s = format!("{base}?page={n}&q={}", super::url_encode(q.q.trim()));
        for (k, v) in &keep {
            s.push_str(&format!("&{k}={}", super::url_encode(v)));
        }
        s
    };
    let rows = rows.into_iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
    let (prev, next) = ((page > 1).then(|| href(page - 1)), (page < pages).then(|| href(page + 1)));
    let notice = (!q.saved.is_empty()).then(|| "已保存。".to_owned());
    render(
        StatusCode::OK,
        &ListPage {
            l: session.layout(title),
            notice,
            q: q.q.clone(),
            keep,
            new_href,
            columns,
            rows,
            total,
            page,
            pages,
            prev,
            next,
        },
    )
}

/// A form page with nothing but its fields.
fn form_page(
    session: &Session,
    title: impl Into<String>,
    back: &str,
    action: String,
    fields: Vec<Field>,
    errors: Errors,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { errors.status };
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let page = FormPage {
        l: session.layout(title),
        back: back.to_owned(),
        notice: None,
        action,
        errors: errors.within(&names),
        fields,
        actions: Vec::new(),
        action_errors: Errors::default(),
        action_errors_for: "",
        tables: Vec::new(),
    };
    render(status, &page)
}

/// The form's fields as the API's JSON body: empty fields left out (the API's optional
/// fields), the named integer fields as numbers, so serde reads them exactly as it reads a body.
pub fn body(form: &HashMap<String, String>, fields: &[&str], integers: &[&str]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for name in fields {
        let v = form.get(*name).map(|v| v.trim()).unwrap_or_default();
        if v.is_empty() {
            continue;
        }
        let value = match v.parse::<i64>() {
            Ok(n) if integers.contains(name) => serde_json::Value::from(n),
            _ => serde_json::Value::String(v.to_owned()),
        };
        map.insert((*name).to_owned(), value);
    }
    serde_json::Value::Object(map)
}

pub fn text(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// Checks the form's CSRF token; `Err` is the refusal page.
#[allow(clippy::result_large_err)]
pub fn checked(session: &Session, form: &HashMap<String, String>) -> Result<(), Response> {
    session.check(form.get("csrf").map(String::as_str).unwrap_or_default())
}

fn saved(to: String) -> Response {
    Redirect::to(&to).into_response()
}

/// A form read into the API's request type and given to its use case; either refusal as the
/// form's errors.
pub async fn submit<T, R, Fut>(value: serde_json::Value, call: impl FnOnce(T) -> Fut) -> Result<R, Errors>
where
    T: serde::de::DeserializeOwned,
    Fut: std::future::Future<Output = Result<R, AppError>>,
{
    let req = parse_value::<T>(value)?;
    call(req).await.map_err(|e| Errors::from_app(&e))
}

async fn names<T>(
    fetch: impl std::future::Future<Output = Result<Vec<T>, AppError>>,
    f: impl Fn(&T) -> (i64, String),
) -> Result<Vec<(String, String)>, AppError> {
    Ok(fetch.await?.iter().map(f).map(|(id, n)| (id.to_string(), n)).collect())
}

fn name_of(options: &[(String, String)], id: i64) -> String {
    let id = id.to_string();
    options.iter().find(|(v, _)| *v == id).map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

// ---- the overview ----

pub struct Count {
    pub id: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub href: &'static str,
    pub warn: bool,
}

#[derive(Template)]
#[template(path = "setup/home.html")]
struct HomePage {
    l: Layout,
    counts: Vec<Count>,
}

/// `GET /setup`: the admin's home — the organisation at a glance.
pub async fn home(axum::extract::State(c): State, session: Session) -> Response {
    let p = &session.principal;
    if !matches!(p, Principal::Admin) {
        return failure(&AppError::Forbidden, Some(&session));
    }
    let counted = async {
        Ok::<_, AppError>(vec![
            ("villages", "村", all_pages(MAX_ROWS, |pg| c.app.list_villages(p, pg)).await?.len(), "/setup/villages"),
            (
                "households",
                "农户",
                all_pages(MAX_ROWS, |pg| c.app.list_households(p, None, pg)).await?.len(),
                "/setup/households",
            ),
            (
                "cooperatives",
                "合作社",
                all_pages(MAX_ROWS, |pg| c.app.list_cooperatives(p, pg)).await?.len(),
                "/setup/cooperatives",
            ),
            (
                "stations",
                "服务站",
                all_pages(MAX_ROWS, |pg| c.app.list_stations(p, None, pg)).await?.len(),
                "/setup/stations",
            ),
            ("channels", "渠道", all_pages(MAX_ROWS, |pg| c.app.list_channels(p, pg)).await?.len(), "/setup/channels"),
            ("users", "用户", all_pages(MAX_ROWS, |pg| c.app.list_users(p, pg)).await?.len(), "/setup/users"),
        ])
    };
    let problems = async {
        let mut failing = 0;
        for ch in all_pages(MAX_ROWS, |pg| c.app.list_channels(p, pg)).await? {
            match c.app.get_feed(p, ch.id).await {
                Ok(f) if f.last_run.error.is_some() => failing += 1,
                Ok(_) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut dead = 0;
        for w in all_pages(MAX_ROWS, |pg| c.app.list_webhooks(p, pg)).await? {
            dead += all_pages(MAX_ROWS, |pg| c.app.webhook_deliveries(p, w.id, pg))
                .await?
                .iter()
                .filter(|d| d.status == "dead")
                .count();
        }
        Ok::<_, AppError>((failing, dead))
    };
    match (counted.await, problems.await) {
        (Ok(list), Ok((failing, dead))) => {
            let mut counts: Vec<Count> = list
                .into_iter()
                .map(|(id, label, count, href)| Count { id, label, count, href, warn: false })
                .collect();
            counts.push(Count {
                id: "failing-feeds",
                label: "同步出错的平台店铺",
                count: failing,
                href: "/channels",
                warn: failing > 0,
            });
            counts.push(Count {
                id: "dead-deliveries",
                label: "已放弃的接口推送",
                count: dead,
                href: "/webhooks",
                warn: dead > 0,
            });
            render(StatusCode::OK, &HomePage { l: session.layout("基础设置"), counts })
        }
        (Err(e), _) | (_, Err(e)) => failure(&e, Some(&session)),
    }
}

// ---- villages ----

fn village_fields(f: &HashMap<String, String>, new: bool) -> Vec<Field> {
    let mut v = vec![field("name", "村名", Kind::Text, text(f, "name"))];
    if new {
        v.push(field("code", "统计用区划代码（12 位）", Kind::Text, text(f, "code")).hint("如 320206103201，不能重复"));
    }
    v.push(field("township", "所属乡镇", Kind::Text, text(f, "township")).optional().hint("印在合格证上的产地"));
    v.push(
        field("income_target", "年度集体经营收入目标（元）", Kind::Decimal, text(f, "income_target"))
            .optional()
            .hint("不填则用系统默认目标"),
    );
    v
}

pub async fn villages(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    match all_pages(MAX_ROWS, |pg| c.app.list_villages(p, pg)).await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|v| {
                    vec![
                        link(v.name.clone(), format!("/setup/villages/{}", v.id)),
                        cell(v.code),
                        cell(v.township.unwrap_or_default()),
                        cell(format!(
                            "{}{}",
                            v.income_target,
                            if v.income_target_is_default { "（默认）" } else { "" }
                        )),
                        link("农户", format!("/setup/households?village_id={}", v.id)),
                    ]
                })
                .collect();
            let cols = vec!["村名", "区划代码", "乡镇", "年度目标（元）", "农户"];
            list_page(&session, "村", "/setup/villages", &q, Some("/setup/villages/new".into()), cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_village(session: Session) -> Response {
    let fields = village_fields(&HashMap::new(), true);
    form_page(&session, "新增村", "/setup/villages", "/setup/villages/new".into(), fields, Errors::default())
}

pub async fn create_village(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let fields = body(&f, &["name", "code", "income_target", "township"], &[]);
    let done = submit(fields, |req: CreateVillage| c.app.create_village(&session.principal, req)).await;
    match done {
        Ok(v) => saved(format!("/setup/villages?saved={}", v.id)),
        Err(e) => {
            form_page(&session, "新增村", "/setup/villages", "/setup/villages/new".into(), village_fields(&f, true), e)
        }
    }
}

pub async fn village(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_village(&session.principal, id).await {
        Ok(v) => {
            let mut f = HashMap::new();
            f.insert("name".into(), v.name.clone());
            f.insert("township".into(), v.township.clone().unwrap_or_default());
            if !v.income_target_is_default {
                f.insert("income_target".into(), v.income_target.to_string());
            }
            let fields = village_fields(&f, false);
            let title = format!("村：{}（{}）", v.name, v.code);
            form_page(&session, title, "/setup/villages", format!("/setup/villages/{id}"), fields, Errors::default())
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn update_village(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let done = submit(body(&f, &["name", "income_target", "township"], &[]), |req: UpdateVillage| {
        c.app.update_village(&session.principal, id, req)
    })
    .await;
    match done {
        Ok(_) => saved(format!("/setup/villages?saved={id}")),
        Err(e) => form_page(
            &session,
            "修改村",
            "/setup/villages",
            format!("/setup/villages/{id}"),
            village_fields(&f, false),
            e,
        ),
    }
}

// ---- households ----

async fn village_options(c: &crate::Console, p: &Principal) -> Result<Vec<(String, String)>, AppError> {
    names(all_pages(MAX_ROWS, |pg| c.app.list_villages(p, pg)), |v| (v.id, format!("{}（{}）", v.name, v.code))).await
}

fn household_fields(f: &HashMap<String, String>, villages: Option<Vec<(String, String)>>) -> Vec<Field> {
    let mut v = Vec::new();
    if let Some(options) = villages {
        v.push(field("village_id", "所在村", Kind::Select(options), text(f, "village_id")));
    }
    v.push(field("name", "户主姓名", Kind::Text, text(f, "name")));
    v.push(field("members", "家庭人口（人）", Kind::Text, text(f, "members")).hint("1 到 100，用于计算人均收入"));
    v
}

pub async fn households(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    let village = q.village_id.trim().parse::<i64>().ok();
    let read = async {
        let villages = village_options(&c, p).await?;
        let households = all_pages(MAX_ROWS, |pg| c.app.list_households(p, village, pg)).await?;
        // Memberships: which cooperatives each household belongs to.
        let mut member_of: HashMap<i64, Vec<String>> = HashMap::new();
        for coop in all_pages(MAX_ROWS, |pg| c.app.list_cooperatives(p, pg)).await? {
            for m in all_pages(MAX_ROWS, |pg| c.app.list_members(p, coop.id, pg)).await? {
                if let Some(h) = m.household_id {
                    member_of.entry(h).or_default().push(format!("{}（出资 {}）", coop.name, m.capital));
                }
            }
        }
        Ok::<_, AppError>((villages, households, member_of))
    };
    match read.await {
        Ok((villages, households, mut member_of)) => {
            let rows = households
                .into_iter()
                .map(|h| {
                    vec![
                        cell(name_of(&villages, h.village_id)),
                        link(h.name.clone(), format!("/setup/households/{}", h.id)),
                        cell(h.members.to_string()),
                        cell(member_of.remove(&h.id).map_or_else(|| "—".to_owned(), |m| m.join("；"))),
                    ]
                })
                .collect();
            let cols = vec!["村", "户主", "人口", "合作社成员资格"];
            let new = Some(match village {
                Some(v) => format!("/setup/households/new?village_id={v}"),
                None => "/setup/households/new".into(),
            });
            list_page(&session, "农户", "/setup/households", &q, new, cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_household(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    match village_options(&c, &session.principal).await {
        Ok(villages) => {
            let mut f = HashMap::new();
            f.insert("village_id".to_owned(), q.village_id.trim().to_owned());
            let fields = household_fields(&f, Some(villages));
            form_page(
                &session,
                "新增农户",
                "/setup/households",
                "/setup/households/new".into(),
                fields,
                Errors::default(),
            )
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn create_household(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    let done =
        submit(body(&f, &["village_id", "name", "members"], &["village_id", "members"]), |req: CreateHousehold| {
            c.app.create_household(p, req)
        })
        .await;
    match done {
        Ok(h) => saved(format!("/setup/households?village_id={}&saved={}", h.village_id, h.id)),
        Err(e) => {
            let villages = village_options(&c, p).await.unwrap_or_default();
            let fields = household_fields(&f, Some(villages));
            form_page(&session, "新增农户", "/setup/households", "/setup/households/new".into(), fields, e)
        }
    }
}

pub async fn household(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_household(&session.principal, id).await {
        Ok(h) => {
            let f = HashMap::from([("name".to_owned(), h.name.clone()), ("members".to_owned(), h.members.to_string())]);
            let back = format!("/setup/households?village_id={}", h.village_id);
            let fields = household_fields(&f, None);
            form_page(
                &session,
                format!("农户：{}", h.name),
                &back,
                format!("/setup/households/{id}"),
                fields,
                Errors::default(),
            )
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn update_household(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let done = submit(body(&f, &["name", "members"], &["members"]), |req: UpdateHousehold| {
        c.app.update_household(&session.principal, id, req)
    })
    .await;
    match done {
        Ok(h) => saved(format!("/setup/households?village_id={}&saved={id}", h.village_id)),
        Err(e) => form_page(
            &session,
            "修改农户",
            "/setup/households",
            format!("/setup/households/{id}"),
            household_fields(&f, None),
            e,
        ),
    }
}

// ---- stations ----

async fn station_options(
    c: &crate::Console,
    p: &Principal,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>), AppError> {
    let villages = village_options(c, p).await?;
    let coops = names(all_pages(MAX_ROWS, |pg| c.app.list_cooperatives(p, pg)), |x| (x.id, x.name.clone())).await?;
    let alliances = names(all_pages(MAX_ROWS, |pg| c.app.list_alliances(p, pg)), |x| (x.id, x.name.clone())).await?;
    Ok((villages, coops, alliances))
}

type Options = (Vec<(String, String)>, Vec<(String, String)>, Vec<(String, String)>);

fn station_fields(f: &HashMap<String, String>, options: Option<Options>) -> Vec<Field> {
    let mut v = vec![field("name", "服务站名称", Kind::Text, text(f, "name"))];
    if let Some((villages, coops, alliances)) = options {
        v.push(field("village_id", "所在村（党群服务中心）", Kind::Select(villages), text(f, "village_id")));
        v.push(field("cooperative_id", "所属合作社", Kind::Select(coops), text(f, "cooperative_id")));
        v.push(field("alliance_id", "所属电商联盟", Kind::Select(alliances), text(f, "alliance_id")));
    }
    v.push(field("phone", "联系电话", Kind::Text, text(f, "phone")).optional().hint("作为开具单位的电话印在合格证上"));
    v
}

pub async fn stations(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    let read = async {
        let options = station_options(&c, p).await?;
        let list = all_pages(MAX_ROWS, |pg| c.app.list_stations(p, None, pg)).await?;
        Ok::<_, AppError>((options, list))
    };
    match read.await {
        Ok(((villages, coops, alliances), list)) => {
            let rows = list
                .into_iter()
                .map(|s| {
                    vec![
                        link(s.name.clone(), format!("/setup/stations/{}", s.id)),
                        cell(name_of(&villages, s.village_id)),
                        cell(name_of(&coops, s.cooperative_id)),
                        cell(name_of(&alliances, s.alliance_id)),
                        cell(s.phone.unwrap_or_default()),
                    ]
                })
                .collect();
            let cols = vec!["服务站", "村", "合作社", "电商联盟", "电话"];
            list_page(&session, "服务站", "/setup/stations", &q, Some("/setup/stations/new".into()), cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_station(axum::extract::State(c): State, session: Session) -> Response {
    match station_options(&c, &session.principal).await {
        Ok(o) => {
            let fields = station_fields(&HashMap::new(), Some(o));
            form_page(
                &session,
                "新增服务站",
                "/setup/stations",
                "/setup/stations/new".into(),
                fields,
                Errors::default(),
            )
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn create_station(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    let ids = ["village_id", "cooperative_id", "alliance_id"];
    let done = submit(
        body(&f, &["name", "village_id", "cooperative_id", "alliance_id", "phone"], &ids),
        |req: CreateStation| c.app.create_station(p, req),
    )
    .await;
    match done {
        Ok(s) => saved(format!("/setup/stations?saved={}", s.id)),
        Err(e) => {
            let fields = station_fields(&f, station_options(&c, p).await.ok());
            form_page(&session, "新增服务站", "/setup/stations", "/setup/stations/new".into(), fields, e)
        }
    }
}

pub async fn station(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_station(&session.principal, id).await {
        Ok(s) => {
            let f = HashMap::from([
                ("name".to_owned(), s.name.clone()),
                ("phone".to_owned(), s.phone.clone().unwrap_or_default()),
            ]);
            let fields = station_fields(&f, None);
            form_page(
                &session,
                format!("服务站：{}", s.name),
                "/setup/stations",
                format!("/setup/stations/{id}"),
                fields,
                Errors::default(),
            )
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn update_station(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    // A cleared phone is sent as empty: the API removes it.
    let mut req = body(&f, &["name"], &[]);
    req["phone"] = serde_json::Value::String(text(&f, "phone").trim().to_owned());
    let done = submit(req, |req: UpdateStation| c.app.update_station(&session.principal, id, req)).await;
    match done {
        Ok(_) => saved(format!("/setup/stations?saved={id}")),
        Err(e) => form_page(
            &session,
            "修改服务站",
            "/setup/stations",
            format!("/setup/stations/{id}"),
            station_fields(&f, None),
            e,
        ),
    }
}

// ---- channels ----

async fn alliance_options(c: &crate::Console, p: &Principal) -> Result<Vec<(String, String)>, AppError> {
    names(all_pages(MAX_ROWS, |pg| c.app.list_alliances(p, pg)), |x| (x.id, x.name.clone())).await
}

fn channel_fields(f: &HashMap<String, String>, alliances: Option<Vec<(String, String)>>) -> Vec<Field> {
    let mut v = Vec::new();
    if alliances.is_some() {
        v.push(
            field("code", "渠道代码", Kind::Text, text(f, "code"))
                .hint("小写字母、数字、_ 或 -，如 own、taobao；同一联盟内不能重复"),
        );
    }
    v.push(field("name", "渠道名称", Kind::Text, text(f, "name")));
    v.push(
        field("fee_rate", "平台费率", Kind::Decimal, text(f, "fee_rate"))
            .hint("0 到 1 之间的小数，如 0.05 表示 5%；自营店为 0"),
    );
    if let Some(options) = alliances {
        v.push(field("alliance_id", "所属电商联盟", Kind::Select(options), text(f, "alliance_id")));
    }
    v
}

pub async fn channels(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    let read = async {
        Ok::<_, AppError>((alliance_options(&c, p).await?, all_pages(MAX_ROWS, |pg| c.app.list_channels(p, pg)).await?))
    };
    match read.await {
        Ok((alliances, list)) => {
            let rows = list
                .into_iter()
                .map(|ch| {
                    vec![
                        link(ch.name.clone(), format!("/setup/channels/{}", ch.id)),
                        cell(ch.code),
                        cell(ch.fee_rate.to_string()),
                        cell(name_of(&alliances, ch.alliance_id)),
                    ]
                })
                .collect();
            let cols = vec!["渠道", "代码", "平台费率", "电商联盟"];
            list_page(&session, "渠道", "/setup/channels", &q, Some("/setup/channels/new".into()), cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_channel(axum::extract::State(c): State, session: Session) -> Response {
    match alliance_options(&c, &session.principal).await {
        Ok(a) => {
            let fields = channel_fields(&HashMap::new(), Some(a));
            form_page(&session, "新增渠道", "/setup/channels", "/setup/channels/new".into(), fields, Errors::default())
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn create_channel(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    let fields = body(&f, &["code", "name", "fee_rate", "alliance_id"], &["alliance_id"]);
    let done = submit(fields, |req: CreateChannel| c.app.create_channel(p, req)).await;
    match done {
        Ok(ch) => saved(format!("/setup/channels?saved={}", ch.id)),
        Err(e) => {
            let fields = channel_fields(&f, alliance_options(&c, p).await.ok());
            form_page(&session, "新增渠道", "/setup/channels", "/setup/channels/new".into(), fields, e)
        }
    }
}

pub async fn channel(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_channel(&session.principal, id).await {
        Ok(ch) => {
            let f =
                HashMap::from([("name".to_owned(), ch.name.clone()), ("fee_rate".to_owned(), ch.fee_rate.to_string())]);
            let fields = channel_fields(&f, None);
            form_page(
                &session,
                format!("渠道：{}（{}）", ch.name, ch.code),
                "/setup/channels",
                format!("/setup/channels/{id}"),
                fields,
                Errors::default(),
            )
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn update_channel(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let done = submit(body(&f, &["name", "fee_rate"], &[]), |req: UpdateChannel| {
        c.app.update_channel(&session.principal, id, req)
    })
    .await;
    match done {
        Ok(_) => saved(format!("/setup/channels?saved={id}")),
        Err(e) => form_page(
            &session,
            "修改渠道",
            "/setup/channels",
            format!("/setup/channels/{id}"),
            channel_fields(&f, None),
            e,
        ),
    }
}

// ---- users ----

pub const ROLES: [(&str, &str); 4] =
    [("admin", "管理员"), ("alliance", "电商联盟"), ("staff", "服务站工作人员"), ("village", "村集体")];

fn role_label(r: Role) -> &'static str {
    ROLES.iter().find(|(v, _)| *v == r.as_str()).map_or("", |(_, l)| l)
}

async fn user_fields(c: &crate::Console, p: &Principal, f: &HashMap<String, String>) -> Result<Vec<Field>, AppError> {
    let (villages, _, alliances) = station_options(c, p).await?;
    let stations =
        names(all_pages(MAX_ROWS, |pg| c.app.list_stations(p, None, pg)), |x| (x.id, x.name.clone())).await?;
    let roles = ROLES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect();
    let scoped = |mut fl: Field, role: &'static str, hint: &'static str| {
        fl.required = false;
        fl.show_for = role;
        fl.hint = hint;
        fl
    };
    Ok(vec![
        field("username", "用户名", Kind::Text, text(f, "username")).hint("3 到 64 个字母、数字或 _ - . @，不能重复"),
        field("password", "初始密码", Kind::Password, "").hint("8 到 128 个字符；保存后不再显示"),
        field("role", "角色", Kind::Select(roles), text(f, "role")),
        scoped(
            field("station_id", "服务站", Kind::Select(stations), text(f, "station_id")),
            "staff",
            "角色为服务站工作人员时必填",
        ),
        scoped(
            field("village_id", "村", Kind::Select(villages), text(f, "village_id")),
            "village",
            "角色为村集体时必填",
        ),
        scoped(
            field("alliance_id", "电商联盟", Kind::Select(alliances), text(f, "alliance_id")),
            "alliance",
            "角色为电商联盟时必填",
        ),
    ])
}

pub async fn users(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    let read = async {
        let (villages, _, alliances) = station_options(&c, p).await?;
        let stations =
            names(all_pages(MAX_ROWS, |pg| c.app.list_stations(p, None, pg)), |x| (x.id, x.name.clone())).await?;
        let users = all_pages(MAX_ROWS, |pg| c.app.list_users(p, pg)).await?;
        Ok::<_, AppError>((villages, alliances, stations, users))
    };
    match read.await {
        Ok((villages, alliances, stations, users)) => {
            let rows = users
                .into_iter()
                .map(|u| {
                    let scope = match (u.station_id, u.village_id, u.alliance_id) {
                        (Some(s), _, _) => name_of(&stations, s),
                        (_, Some(v), _) => name_of(&villages, v),
                        (_, _, Some(a)) => name_of(&alliances, a),
                        _ => "全部".to_owned(),
                    };
                    vec![
                        link(u.username.clone(), format!("/setup/users/{}", u.id)),
                        cell(role_label(u.role)),
                        cell(scope),
                        cell(if u.disabled { "已停用" } else { "正常" }),
                    ]
                })
                .collect();
            let cols = vec!["用户名", "角色", "范围", "状态"];
            list_page(&session, "用户", "/setup/users", &q, Some("/setup/users/new".into()), cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_user(axum::extract::State(c): State, session: Session) -> Response {
    match user_fields(&c, &session.principal, &HashMap::new()).await {
        Ok(fields) => {
            form_page(&session, "新增用户", "/setup/users", "/setup/users/new".into(), fields, Errors::default())
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn create_user(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    // Only the scope the role needs is sent: the others may still hold a choice made before
    // the role was changed.
    let role = text(&f, "role");
    let scope = match role.as_str() {
        "staff" => Some("station_id"),
        "village" => Some("village_id"),
        "alliance" => Some("alliance_id"),
        _ => None,
    };
    let mut names_sent = vec!["username", "password", "role"];
    names_sent.extend(scope);
    let done = submit(body(&f, &names_sent, &["station_id", "village_id", "alliance_id"]), |req: CreateUser| {
        c.app.create_user(p, req)
    })
    .await;
    match done {
        Ok(u) => saved(format!("/setup/users?saved={}", u.id)),
        Err(e) => match user_fields(&c, p, &f).await {
            Ok(fields) => form_page(&session, "新增用户", "/setup/users", "/setup/users/new".into(), fields, e),
            Err(e) => failure(&e, Some(&session)),
        },
    }
}

fn user_page(session: &Session, u: &hezuo_app::setup::User, notice: Option<String>, errors: Errors) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { errors.status };
    let id = u.id;
    let reset = Action {
        id: "reset-password",
        title: "重置密码",
        action: format!("/setup/users/{id}/password"),
        fields: vec![
            field("password", "新密码", Kind::Password, "").hint("8 到 128 个字符；该用户已登录的会话全部失效"),
        ],
        button: "重置密码",
        secondary: false,
        confirm: "",
    };
    let toggle = if u.disabled {
        Action {
            id: "enable",
            title: "启用",
            action: format!("/setup/users/{id}/enable"),
            fields: Vec::new(),
            button: "启用该用户",
            secondary: true,
            confirm: "",
        }
    } else {
        Action {
            id: "disable",
            title: "停用",
            action: format!("/setup/users/{id}/disable"),
            fields: Vec::new(),
            button: "停用该用户",
            secondary: true,
            confirm: "停用后该用户不能登录，已登录的会话立即失效。确定停用？",
        }
    };
    let page = FormPage {
        l: session.layout(format!(
            "用户：{}（{}{}）",
            u.username,
            role_label(u.role),
            if u.disabled { "，已停用" } else { "" }
        )),
        back: "/setup/users".into(),
        notice,
        action: String::new(),
        fields: Vec::new(),
        errors: Errors::default(),
        actions: vec![reset, toggle],
        action_errors: errors.within(&["password"]),
        action_errors_for: "reset-password",
        tables: Vec::new(),
    };
    render(status, &page)
}

pub async fn user(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_user(&session.principal, id).await {
        Ok(u) => user_page(&session, &u, None, Errors::default()),
        Err(e) => failure(&e, Some(&session)),
    }
}

/// `POST /setup/users/{id}/{password|disable|enable}`.
pub async fn user_action(
    axum::extract::State(c): State,
    session: Session,
    Path((id, what)): Path<(i64, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    let (req, notice) = match what.as_str() {
        "password" => (body(&f, &["password"], &[]), "密码已重置，该用户原有的会话已失效。"),
        "disable" => (serde_json::json!({"disabled": true}), "已停用。"),
        "enable" => (serde_json::json!({"disabled": false}), "已启用。"),
        _ => return super::not_found(Some(&session)),
    };
    if what == "password" && text(&f, "password").is_empty() {
        let u = match c.app.get_user(p, id).await {
            Ok(u) => u,
            Err(e) => return failure(&e, Some(&session)),
        };
        let e = Errors::one(crate::i18n::show("invalid_field", Some("password"), "is required"));
        return user_page(&session, &u, None, e);
    }
    let done = submit(req, |req: UpdateUser| c.app.update_user(p, id, req)).await;
    match done {
        Ok(u) => user_page(&session, &u, Some(notice.to_owned()), Errors::default()),
        Err(e) => match c.app.get_user(p, id).await {
            Ok(u) => user_page(&session, &u, None, e),
            Err(e) => failure(&e, Some(&session)),
        },
    }
}

// ---- cooperatives, their members and rule versions ----

/// The five rates of a rule version (docs/domain.md "Distribution rules"), each with what it means.
const RATES: [(&str, &str, &str); 5] = [
    ("household_share", "农户分成比例", "一笔销售净额（扣除平台费后）记给供货农户的比例；与保底价比较取高者"),
    ("station_fee_rate", "服务站服务费比例", "净额中记给服务站的服务费比例"),
    (
        "collective_rate",
        "村集体提成比例",
        "净额中记给农户所在村集体的提成比例（计入村集体经营收入）；三项比例合计不超过 1",
    ),
    ("reserve_rate", "公积金比例", "每期结账时，合作社盈余中先提取的公积金比例"),
    (
        "rebate_rate",
        "二次返利比例",
        "可分配盈余中按交易额返还农户的比例；依《农民专业合作社法》第四十四条，不得低于 0.60",
    ),
];

fn cooperative_fields(f: &HashMap<String, String>) -> Vec<Field> {
    vec![field("name", "合作社名称", Kind::Text, text(f, "name"))]
}

pub async fn cooperatives(axum::extract::State(c): State, session: Session, Query(q): Query<ListQuery>) -> Response {
    let p = &session.principal;
    match all_pages(MAX_ROWS, |pg| c.app.list_cooperatives(p, pg)).await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|x| vec![link(x.name.clone(), format!("/setup/cooperatives/{}", x.id)), cell("成员与分配方案")])
                .collect();
            let cols = vec!["合作社", ""];
            list_page(&session, "合作社", "/setup/cooperatives", &q, Some("/setup/cooperatives/new".into()), cols, rows)
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

pub async fn new_cooperative(session: Session) -> Response {
    let fields = cooperative_fields(&HashMap::new());
    form_page(
        &session,
        "新增合作社",
        "/setup/cooperatives",
        "/setup/cooperatives/new".into(),
        fields,
        Errors::default(),
    )
}

pub async fn create_cooperative(
    axum::extract::State(c): State,
    session: Session,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let done =
        submit(body(&f, &["name"], &[]), |req: CreateCooperative| c.app.create_cooperative(&session.principal, req))
            .await;
    match done {
        Ok(x) => saved(format!("/setup/cooperatives/{}?saved=1", x.id)),
        Err(e) => form_page(
            &session,
            "新增合作社",
            "/setup/cooperatives",
            "/setup/cooperatives/new".into(),
            cooperative_fields(&f),
            e,
        ),
    }
}

/// Which form of the cooperative's page was sent, and what it held.
struct Sent<'a> {
    form: &'static str,
    fields: &'a HashMap<String, String>,
    errors: Errors,
}

async fn cooperative_page(
    c: &crate::Console,
    session: &Session,
    id: i64,
    notice: Option<String>,
    sent: Option<Sent<'_>>,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let read = async {
        let coop = c.app.get_cooperative(p, id).await?;
        let members = all_pages(MAX_ROWS, |pg| c.app.list_members(p, id, pg)).await?;
        let rules = all_pages(MAX_ROWS, |pg| c.app.list_rule_versions(p, id, pg)).await?;
        let villages = village_options(c, p).await?;
        let households =
            names(all_pages(MAX_ROWS, |pg| c.app.list_households(p, None, pg)), |h| (h.id, h.name.clone())).await?;
        Ok::<_, AppError>((coop, members, rules, villages, households))
    };
    let (coop, members, rules, villages, households) = match read.await {
        Ok(x) => x,
        Err(e) => return failure(&e, Some(session)),
    };
    let empty = HashMap::new();
    let values = |form: &str| match &sent {
        Some(s) if s.form == form => s.fields,
        _ => &empty,
    };
    let today = c.app.today();
    let member_rows = members
        .iter()
        .map(|m| {
            let who = match (m.household_id, m.village_id) {
                (Some(h), _) => format!("农户 {}", name_of(&households, h)),
                (_, Some(v)) => format!("村集体 {}", name_of(&villages, v)),
                _ => "—".into(),
            };
            vec![cell(who), cell(m.capital.to_string())]
        })
        .collect();
    let rule_rows = rules
        .iter()
        .map(|r| {
            let state = if r.effective_from <= today {
                "已生效，不能修改（以往的销售按它分配）"
            } else {
                "尚未生效"
            };
            vec![
                cell(r.effective_from.to_string()),
                cell(r.household_share.to_string()),
                cell(r.station_fee_rate.to_string()),
                cell(r.collective_rate.to_string()),
                cell(r.reserve_rate.to_string()),
                cell(r.rebate_rate.to_string()),
                cell(state),
            ]
        })
        .collect();
    let mf = values("member");
    let member_form = Action {
        id: "add-member",
        title: "新增成员",
        action: format!("/setup/cooperatives/{id}/members"),
        fields: vec![
            field("household_id", "农户成员", Kind::Select(households.clone()), text(mf, "household_id"))
                .optional()
                .hint("农户与村集体二选一"),
            field("village_id", "村集体成员", Kind::Select(villages.clone()), text(mf, "village_id")).optional(),
            field("capital", "出资额（元）", Kind::Decimal, text(mf, "capital")),
        ],
        button: "新增成员",
        secondary: false,
        confirm: "",
    };
    let rf = values("rule");
    let mut rule_fields = vec![
        field("effective_from", "生效日期", Kind::Date, text(rf, "effective_from"))
            .hint("该日起的销售使用这一版；已生效的版本不能修改，要改就新增一版"),
    ];
    for (name, label, hint) in RATES {
        rule_fields.push(field(name, label, Kind::Decimal, text(rf, name)).hint(hint));
    }
    let rule_form = Action {
        id: "add-rule",
        title: "新增分配方案版本",
        action: format!("/setup/cooperatives/{id}/rules"),
        fields: rule_fields,
        button: "新增版本",
        secondary: false,
        confirm: "",
    };
    let (errors, action_errors, action_errors_for) = match sent {
        Some(s) if s.form == "name" => (s.errors.within(&["name"]), Errors::default(), ""),
        Some(s) if s.form == "member" => {
            (Errors::default(), s.errors.within(&["household_id", "village_id", "capital"]), "add-member")
        }
        Some(s) => {
            let mut names = vec!["effective_from"];
            names.extend(RATES.iter().map(|r| r.0));
            (Errors::default(), s.errors.within(&names), "add-rule")
        }
        None => (Errors::default(), Errors::default(), ""),
    };
    let page = FormPage {
        l: session.layout(format!("合作社：{}", coop.name)),
        back: "/setup/cooperatives".into(),
        notice,
        action: format!("/setup/cooperatives/{id}"),
        fields: cooperative_fields(&HashMap::from([("name".to_owned(), coop.name.clone())])),
        errors,
        actions: vec![member_form, rule_form],
        action_errors,
        action_errors_for,
        tables: vec![
            Table {
                id: "members", title: "成员", note: "", columns: vec!["成员", "出资额（元）"], rows: member_rows
            },
            Table {
                id: "rules",
                title: "分配方案版本",
                note: "一笔销售使用其记账日当天生效的版本；结账使用该期最后一天生效的版本。",
                columns: vec!["生效日期", "农户分成", "服务站", "村集体", "公积金", "二次返利", "状态"],
                rows: rule_rows,
            },
        ],
    };
    render(status, &page)
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: String,
}

pub async fn cooperative(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> Response {
    let notice = (!q.saved.is_empty()).then(|| "已保存。".to_owned());
    cooperative_page(&c, &session, id, notice, None, StatusCode::OK).await
}

/// `POST /setup/cooperatives/{id}`, `…/members`, `…/rules`.
pub async fn cooperative_form(
    axum::extract::State(c): State,
    session: Session,
    Path((id, what)): Path<(i64, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = checked(&session, &f) {
        return r;
    }
    let p = &session.principal;
    let (form, done): (&'static str, Result<(), Errors>) = match what.as_str() {
        "name" => (
            "name",
            submit(body(&f, &["name"], &[]), |req: UpdateCooperative| c.app.update_cooperative(p, id, req))
                .await
                .map(drop),
        ),
        "members" => (
            "member",
            submit(
                body(&f, &["household_id", "village_id", "capital"], &["household_id", "village_id"]),
                |req: CreateMember| c.app.add_member(p, id, req),
            )
            .await
            .map(drop),
        ),
        "rules" => {
            let mut names = vec!["effective_from"];
            names.extend(RATES.iter().map(|r| r.0));
            (
                "rule",
                submit(body(&f, &names, &[]), |req: CreateRuleVersion| c.app.add_rule_version(p, id, req))
                    .await
                    .map(drop),
            )
        }
        _ => return super::not_found(Some(&session)),
    };
    match done {
        Ok(()) => saved(format!("/setup/cooperatives/{id}?saved=1")),
        Err(errors) => {
            let status = errors.status;
            cooperative_page(&c, &session, id, None, Some(Sent { form, fields: &f, errors }), status).await
        }
    }
}

pub async fn update_cooperative(
    state: axum::extract::State<crate::Console>,
    session: Session,
    Path(id): Path<i64>,
    form: Form<HashMap<String, String>>,
) -> Response {
    cooperative_form(state, session, Path((id, "name".to_owned())), form).await
}
