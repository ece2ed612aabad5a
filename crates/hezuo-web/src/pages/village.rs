//! Villages: collective income against the target (chart and table), other income, the
//! households' member accounts, and the print view.

use super::{Errors, Layout, State, YearQuery, failure, ok, parse, render};
use crate::pages::staff::all_pages;
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::reports::{IncomeEntry, MemberAccount, RecordIncome, VillageRevenue};
use hezuo_app::{AppError, Principal};
use hezuo_core::Money;
use serde::Deserialize;

/// Income categories as API.md names them, in Chinese.
pub const CATEGORIES: [(&str, &str); 4] =
    [("rent", "租赁收入"), ("service", "服务收入"), ("investment", "投资收益"), ("other", "其他经营收入")];

pub fn category_label(c: &str) -> &'static str {
    CATEGORIES.iter().find(|(k, _)| *k == c).map_or("其他经营收入", |(_, zh)| zh)
}

/// Growth as a percentage with two decimals, from the report's four-decimal ratio.
pub fn growth_text(g: Option<rust_decimal::Decimal>) -> String {
    match g {
        None => "—（上年为 0）".to_owned(),
        Some(g) => {
            let pct = (g * rust_decimal::Decimal::ONE_HUNDRED).round_dp(2);
            if pct.is_sign_negative() { format!("{pct}%") } else { format!("+{pct}%") }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct IncomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    covers_from: String,
    #[serde(default)]
    covers_to: String,
}

const INCOME_FIELDS: &[&str] = &["date", "amount", "category", "note", "covers_from", "covers_to"];

#[derive(Template)]
#[template(path = "village/revenue.html")]
struct RevenuePage {
    l: Layout,
    r: VillageRevenue,
    chart: String,
    growth: String,
    entries: Vec<IncomeEntry>,
    can_record: bool,
    f: IncomeForm,
    errors: Errors,
    categories: [(&'static str, &'static str); 4],
    years: Vec<i32>,
}

impl RevenuePage {
    fn category(&self, c: &str) -> &'static str {
        category_label(c)
    }
}

/// The chart's data: the twelve months' parts, the running total and the target, as text
/// (exact amounts; the chart only draws them).
fn chart_data(r: &VillageRevenue) -> Result<String, AppError> {
    let mut cumulative = Vec::with_capacity(12);
    let mut sum = Money::ZERO;
    for m in &r.months {
        sum = sum.checked_add(m.total)?;
        cumulative.push(sum.to_string());
    }
    let col = |f: fn(&hezuo_app::reports::RevenueMonth) -> Money| -> Vec<String> {
        r.months.iter().map(|m| f(m).to_string()).collect()
    };
    let v = serde_json::json!({
        "months": (1..=12).map(|m| format!("{m}月")).collect::<Vec<_>>(),
        "sales_share": col(|m| m.sales_share),
        "dividends": col(|m| m.dividends),
        "other": col(|m| m.other),
        "cumulative": cumulative,
        "target": vec![r.target.to_string(); 12],
    });
    Ok(v.to_string())
}

fn may_record(p: &Principal) -> bool {
    matches!(p, Principal::Admin | Principal::Village { .. })
}

async fn revenue_page(
    c: &crate::Console,
    session: &Session,
    village_id: i64,
    year: &str,
    f: IncomeForm,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let r = match c.app.village_revenue(p, village_id, super::optional(year).as_deref()).await {
        Ok(r) => r,
        Err(e) => return failure(&e, Some(session)),
    };
    let y = r.year.to_string();
    let entries = match all_pages(2_000, |page| c.app.list_income(p, village_id, Some(&y), page)).await {
        Ok(e) => e,
        Err(e) => return failure(&e, Some(session)),
    };
    let chart = match chart_data(&r) {
        Ok(c) => c,
        Err(e) => return failure(&e, Some(session)),
    };
    let mut l = session.layout(format!("{} {} 年集体经营收入", r.village.name, r.year));
    l.charts = true;
    render(
        status,
        &RevenuePage {
            l,
            growth: growth_text(r.growth),
            chart,
            entries,
            can_record: may_record(p),
            f,
            errors: errors.within(INCOME_FIELDS),
            categories: CATEGORIES,
            years: super::recent_years(c),
            r,
        },
    )
}

/// `GET /villages/{id}/revenue?year=`.
pub async fn revenue(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let f = IncomeForm { category: "rent".into(), ..Default::default() };
    revenue_page(&c, &session, id, &q.year, f, Errors::default(), StatusCode::OK).await
}

/// `POST /villages/{id}/income`: `App::record_income`.
pub async fn record_income(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<IncomeForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let fields = [
        ("date", f.date.as_str()),
        ("amount", &f.amount),
        ("category", &f.category),
        ("note", &f.note),
        ("covers_from", &f.covers_from),
        ("covers_to", &f.covers_to),
    ];
    let recorded = match parse::<RecordIncome>(&fields) {
        Ok(req) => {
            c.app.record_income(&session.principal, &session.actor, id, req).await.map_err(|e| Errors::from_app(&e))
        }
        Err(e) => Err(e),
    };
    match recorded {
        Ok(entry) => {
            let year = chrono::Datelike::year(&entry.date);
            Redirect::to(&format!("/villages/{id}/revenue?year={year}&recorded=1")).into_response()
        }
        Err(errors) => revenue_page(&c, &session, id, "", f, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

#[derive(Deserialize, Default)]
pub struct ReverseForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /villages/{id}/income/{entry}/reverse`: `App::reverse_income` (the entry stays listed).
pub async fn reverse_income(
    axum::extract::State(c): State,
    session: Session,
    Path((id, entry)): Path<(i64, i64)>,
    Form(f): Form<ReverseForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    match c.app.reverse_income(&session.principal, &session.actor, id, entry).await {
        Ok(e) => {
            Redirect::to(&format!("/villages/{id}/revenue?year={}", chrono::Datelike::year(&e.date))).into_response()
        }
        Err(e) => failure(&e, Some(&session)),
    }
}

#[derive(Template)]
#[template(path = "village/print.html")]
struct PrintPage {
    l: Layout,
    r: VillageRevenue,
    chart: String,
    growth: String,
    running_head: String,
    printed: String,
}

/// Text for a CSS string: quotes and backslashes escaped, `<` written as an escape so that
/// nothing can close the style element.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\3C "),
            '>' => out.push_str("\\3E "),
            '&' => out.push_str("\\26 "),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `GET /villages/{id}/print?year=`: the revenue report for A4 paper, the village and the
/// period at the top of every page, page numbers at the bottom.
pub async fn print(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let r = match c.app.village_revenue(&session.principal, id, super::optional(&q.year).as_deref()).await {
        Ok(r) => r,
        Err(e) => return failure(&e, Some(&session)),
    };
    let chart = match chart_data(&r) {
        Ok(c) => c,
        Err(e) => return failure(&e, Some(&session)),
    };
    let mut l = session.layout(format!("{} {} 年集体经营收入", r.village.name, r.year));
    l.charts = true;
    l.print = true;
    let running_head =
        css_string(&format!("{}（{}）· {} 年 1 月至 12 月集体经营收入", r.village.name, r.village.code, r.year));
    let printed = c.app.now().with_timezone(&c.app.config.timezone).format("%Y-%m-%d %H:%M").to_string();
    ok(&PrintPage { l, growth: growth_text(r.growth), chart, running_head, printed, r })
}

#[derive(Template)]
#[template(path = "village/households.html")]
struct HouseholdsPage {
    l: Layout,
    households: Vec<hezuo_app::setup::Household>,
}

/// `GET /villages/{id}/households`: the village's households, each with its member account.
pub async fn households(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    let p = &session.principal;
    let village = match c.app.get_village(p, id).await {
        Ok(v) => v,
        Err(e) => return failure(&e, Some(&session)),
    };
    match all_pages(20_000, |page| c.app.list_households(p, Some(id), page)).await {
        Ok(households) => ok(&HouseholdsPage { l: session.layout(format!("{} 的农户", village.name)), households }),
        Err(e) => failure(&e, Some(&session)),
    }
}

#[derive(Deserialize, Default)]
pub struct RangeQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "village/statement.html")]
struct StatementPage {
    l: Layout,
    a: MemberAccount,
    errors: Errors,
    from: String,
    to: String,
}

impl StatementPage {
    fn kind(&self, k: &str) -> &'static str {
        match k {
            "sale" => "销售",
            "refund" => "退款冲回",
            "rebate" => "二次返利",
            _ => "股金分红",
        }
    }
}

/// `GET /households/{id}/statement?from=&to=`: the member account (成员账户).
pub async fn statement(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let p = &session.principal;
    let (from, to) = (super::optional(&q.from), super::optional(&q.to));
    let (account, errors) = match c.app.member_account(p, id, from.as_deref(), to.as_deref()).await {
        Ok(a) => (a, Errors::default()),
        Err(e @ AppError::Invalid { .. }) => match c.app.member_account(p, id, None, None).await {
            Ok(a) => (a, Errors::from_app(&e).within(&["from", "to"])),
            Err(e) => return failure(&e, Some(&session)),
        },
        Err(e) => return failure(&e, Some(&session)),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &StatementPage {
            l: session.layout(format!("成员账户：{}", account.household.name)),
            from: from.unwrap_or_else(|| account.from.to_string()),
            to: to.unwrap_or_else(|| account.to.to_string()),
            a: account,
            errors,
        },
    )
}
