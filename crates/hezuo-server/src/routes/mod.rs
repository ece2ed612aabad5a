pub mod auth;
pub mod catalog;
pub mod ops;
pub mod orders;
pub mod periods;
pub mod reconciliation;
pub mod setup;

use serde::Deserialize;

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1 to 500, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> Result<hezuo_app::PageRequest, crate::error::ApiError> {
        Ok(hezuo_app::PageRequest::parse(self.limit.as_deref(), self.cursor.as_deref())?)
    }
}
