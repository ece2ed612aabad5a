//! Set-up of the organisation (API.md "Set-up"): villages, households, cooperatives with
//! their members and rule versions, alliances, stations, channels and users. Admins write;
//! alliances also manage their own channels; everyone reads within their scope.

mod alliances;
mod channels;
mod cooperatives;
mod households;
mod stations;
mod users;
mod villages;

pub use alliances::*;
pub use channels::*;
pub use cooperatives::*;
pub(crate) use cooperatives::{no_rules, stored_rate, stored_rules};
pub use households::*;
pub use stations::*;
pub use users::*;
pub use villages::*;

/// A body field that may be given to change a value (`PATCH`).
pub(crate) fn set_if<T: Into<hezuo_db::sea_orm::Value>>(
    target: &mut hezuo_db::sea_orm::ActiveValue<T>,
    value: Option<T>,
) {
    if let Some(v) = value {
        *target = hezuo_db::sea_orm::ActiveValue::Set(v);
    }
}

/// Writes what a `PATCH` changed; a `PATCH` that changes nothing reads back the row as it is.
pub(crate) async fn save<A>(
    am: A,
    db: &hezuo_db::sea_orm::DatabaseConnection,
) -> Result<<A::Entity as hezuo_db::sea_orm::EntityTrait>::Model, crate::AppError>
where
    A: hezuo_db::sea_orm::ActiveModelTrait
        + hezuo_db::sea_orm::ActiveModelBehavior
        + hezuo_db::sea_orm::TryIntoModel<<A::Entity as hezuo_db::sea_orm::EntityTrait>::Model>
        + Send,
    <A::Entity as hezuo_db::sea_orm::EntityTrait>::Model: hezuo_db::sea_orm::IntoActiveModel<A>,
{
    if am.is_changed() { Ok(am.update(db).await?) } else { am.try_into_model().map_err(crate::AppError::from) }
}
