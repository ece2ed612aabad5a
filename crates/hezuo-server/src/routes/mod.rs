pub mod auth;
pub mod catalog;
pub mod feeds;
pub mod ops;
pub mod orders;
pub mod periods;
pub mod reconciliation;
pub mod reports;
pub mod setup;
pub mod webhooks;

use crate::error::ApiError;
use axum::http::StatusCode;
use serde::Deserialize;

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (empty: the first page).
    #[param(value_type = Option<String>, pattern = "^[0-9]{0,18}$", max_length = 18, example = "")]
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> Result<hezuo_app::PageRequest, ApiError> {
        Ok(hezuo_app::PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?)
    }
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

/// A channel code given as a filter: the shape every code has, so a typo is an error rather
/// than an empty list.
pub(crate) fn check_channel_filter(name: &str, code: Option<&str>) -> Result<(), ApiError> {
    match code {
        Some(c)
            if !(1..=32).contains(&c.len())
                || !c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') =>
        {
            Err(invalid_query(format!("{name}: a channel code is 1 to 32 characters of a-z, 0-9, '_' or '-'")))
        }
        _ => Ok(()),
    }
}

/// Longest name search: no name is longer.
const MAX_SEARCH_CHARS: usize = 100;

/// A name search: at most as long as a name, without control characters.
pub(crate) fn check_search(q: Option<&str>) -> Result<(), ApiError> {
    match q {
        Some(q) if q.chars().count() > MAX_SEARCH_CHARS || q.chars().any(char::is_control) => {
            Err(invalid_query(format!("q: at most {MAX_SEARCH_CHARS} characters without control characters")))
        }
        _ => Ok(()),
    }
}
