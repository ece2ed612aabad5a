//! Cooperatives' periods (admins; the alliance may close too, as in the API): the closed
//! periods, the preview of the next close as things stand (`App::preview_close`), and the
//! close itself after an explicit confirmation (`App::close_period`).

use super::{Errors, Layout, State, failure, ok, render};
use crate::pages::staff::all_pages;
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::AppError;
use hezuo_app::periods::{CloseView, ClosedPeriod};
use hezuo_app::setup::Cooperative;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "admin/cooperatives.html")]
struct CooperativesPage {
    l: Layout,
    cooperatives: Vec<Cooperative>,
}

/// `GET /cooperatives`: the cooperatives in scope, each with its periods.
pub async fn cooperatives(axum::extract::State(c): State, session: Session) -> Response {
    match all_pages(2_000, |page| c.app.list_cooperatives(&session.principal, page)).await {
        Ok(cooperatives) => ok(&CooperativesPage { l: session.layout("合作社与结账"), cooperatives }),
        Err(e) => failure(&e, Some(&session)),
    }
}

/// The next close as the page shows it.
pub struct Next {
    pub view: CloseView,
    /// The period has ended: it may be closed now.
    pub ended: bool,
}

#[derive(Template)]
#[template(path = "admin/periods.html")]
struct PeriodsPage {
    l: Layout,
    cooperative: Cooperative,
    closed: Vec<ClosedPeriod>,
    next: Option<Next>,
    households: HashMap<i64, String>,
    villages: HashMap<i64, String>,
    notice: String,
    errors: Errors,
}

impl PeriodsPage {
    fn household(&self, id: &i64) -> String {
        self.households.get(id).cloned().unwrap_or_else(|| format!("农户 {id}"))
    }

    fn member(&self, m: &hezuo_app::periods::MemberRef) -> String {
        match (m.household_id, m.village_id) {
            (Some(h), _) => self.household(&h),
            (None, Some(v)) => match self.villages.get(&v) {
                // 桃源村 → 桃源村集体
                Some(name) if name.ends_with('村') => format!("{name}集体"),
                Some(name) => format!("{name}村集体"),
                None => format!("村集体 {v}"),
            },
            _ => m.account.clone(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    closed: String,
}

async fn periods_page(
    c: &crate::Console,
    session: &Session,
    cooperative_id: i64,
    notice: String,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let p = &session.principal;
    let loaded = async {
        let cooperative = c.app.get_cooperative(p, cooperative_id).await?;
        let closed = c.app.closed_periods(p, cooperative_id).await?;
        let next = match c.app.next_close_period(p, cooperative_id).await? {
            Some(period) => {
                let view = c.app.preview_close(p, cooperative_id, &period.to_string()).await?;
                Some(Next { ended: c.app.today() > period.last_day(), view })
            }
            None => None,
        };
        Ok::<_, AppError>((cooperative, closed, next))
    };
    let (cooperative, closed, next) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(&e, Some(session)),
    };
    let ids: Vec<i64> = next
        .iter()
        .flat_map(|n| {
            let rebates = n.view.rebates.iter().map(|r| r.household_id);
            rebates.chain(n.view.dividends.iter().filter_map(|d| d.member.household_id))
        })
        .collect();
    let households = super::household_names(c, p, ids).await;
    let village_ids: Vec<i64> =
        next.iter().flat_map(|n| n.view.dividends.iter().filter_map(|d| d.member.village_id)).collect();
    let villages = super::village_names(c, p, village_ids).await;
    render(
        status,
        &PeriodsPage {
            l: session.layout(format!("{}：期间结账", cooperative.name)),
            cooperative,
            closed,
            next,
            households,
            villages,
            notice,
            errors: errors.within(&["confirm"]),
        },
    )
}

/// `GET /cooperatives/{id}/periods`.
pub async fn periods(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    let notice = if done.closed.is_empty() { String::new() } else { format!("{} 已结账。", done.closed) };
    periods_page(&c, &session, id, notice, Errors::default(), StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /cooperatives/{id}/periods/{period}/close`: closes the period once confirmed.
pub async fn close(
    axum::extract::State(c): State,
    session: Session,
    Path((id, period)): Path<(i64, String)>,
    Form(f): Form<CloseForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    if f.confirm.is_none() {
        let errors = Errors::one(crate::i18n::Shown {
            field: Some("confirm".into()),
            text: "请先勾选确认，再结账".into(),
        });
        return periods_page(&c, &session, id, String::new(), errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match c.app.close_period(&session.principal, &session.actor, id, &period).await {
        Ok(v) => Redirect::to(&format!("/cooperatives/{id}/periods?closed={}", v.period)).into_response(),
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden)) => failure(&e, Some(&session)),
        Err(e) => {
            let status = if matches!(e, AppError::Conflict { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            periods_page(&c, &session, id, String::new(), Errors::from_app(&e), status).await
        }
    }
}
