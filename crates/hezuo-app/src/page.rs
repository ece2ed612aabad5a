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
            // Digits only, as the OpenAPI document says: `+5` is no whole number there.
            Some(s) => digits(s, 3)
                .and_then(|l| l.parse::<u64>().ok())
                .filter(|l| (1..=Self::MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                AppError::invalid("limit", format!("must be a whole number from 1 to {}", Self::MAX_LIMIT))
            })?,
        };
        let after = match cursor {
            None | Some("") => None,
            // Exactly the document's `^[0-9]{0,18}$`: what it does not allow is refused.
            Some(s) => Some(
                digits(s, 18)
                    .and_then(|d| d.parse::<i64>().ok())
                    .ok_or_else(|| AppError::invalid("cursor", "not a cursor this server gave out"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

/// `s` if it is 1 to `max` ASCII digits.
fn digits(s: &str, max: usize) -> Option<&str> {
    (1..=max).contains(&s.len()).then_some(s).filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
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

#[cfg(test)]
mod tests {
    use super::PageRequest;

    #[test]
    fn cursors_and_limits_are_what_the_document_allows() {
        assert_eq!(PageRequest::parse(None, Some("123")).unwrap().after, Some(123));
        assert_eq!(PageRequest::parse(None, Some(&"9".repeat(18))).unwrap().after, Some(999_999_999_999_999_999));
        assert!(PageRequest::parse(None, Some(&"0".repeat(19))).is_err(), "longer than maxLength 18");
        assert!(PageRequest::parse(None, Some("+5")).is_err());
        assert!(PageRequest::parse(None, Some("-1")).is_err());
        assert_eq!(PageRequest::parse(Some("500"), None).unwrap().limit, 500);
        assert!(PageRequest::parse(Some("+5"), None).is_err());
        assert!(PageRequest::parse(Some("501"), None).is_err());
        assert!(PageRequest::parse(Some("0"), None).is_err());
    }
}
