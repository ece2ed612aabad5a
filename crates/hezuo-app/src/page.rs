use crate::AppError;
use hezuo_db::sea_orm::{
    Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;

/// `?limit=&cursor=` of API.md. The cursor is opaque to clients; it is the last id seen.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<i64>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u64 = 50;
    pub const MAX_LIMIT: u64 = 500;

    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, AppError> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(s) => s.parse::<u64>().ok().filter(|l| (1..=Self::MAX_LIMIT).contains(l)).ok_or_else(|| {
                AppError::invalid("limit", format!("must be a whole number from 1 to {}", Self::MAX_LIMIT))
            })?,
        };
        let after = match cursor {
            None | Some("") => None,
            Some(s) => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| AppError::invalid("cursor", "not a cursor this server gave out"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: Self::DEFAULT_LIMIT, after: None }
    }
}

/// A page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Reads one page of `E` in id order, within `scope`, mapping rows with `view`.
pub(crate) async fn fetch_page<E, T>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    scope: Condition,
    page: PageRequest,
    id_of: impl Fn(&E::Model) -> i64,
    view: impl Fn(E::Model) -> T,
) -> Result<Page<T>, AppError>
where
    E: EntityTrait,
{
    let mut q = query.filter(scope);
    if let Some(after) = page.after {
        q = q.filter(Expr::col("id").gt(after));
    }
    let mut rows = q.order_by(Expr::cust("id"), Order::Asc).limit(page.limit + 1).all(db).await?;
    let next_cursor = if rows.len() as u64 > page.limit {
        rows.truncate(page.limit as usize);
        rows.last().map(|r| id_of(r).to_string())
    } else {
        None
    };
    Ok(Page { items: rows.into_iter().map(view).collect(), next_cursor })
}

/// Finds `id` of `E` within `scope`; anything outside it is simply not found.
pub(crate) async fn find_scoped<E>(
    db: &impl ConnectionTrait,
    id: i64,
    scope: Condition,
    what: &'static str,
) -> Result<E::Model, AppError>
where
    E: EntityTrait,
    <E::PrimaryKey as hezuo_db::sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id).filter(scope).one(db).await?.ok_or(AppError::NotFound(what))
}
