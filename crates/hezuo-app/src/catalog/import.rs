//! Bulk import: all or nothing. The file is parsed and every row checked against the station
//! (products, member households) before anything is written; then every row is written in one
//! transaction, in batches.

use super::lots::{check_received_at, intake_movement};
use super::writable_station;
use crate::{Actor, App, AppError, Principal, now};
use hezuo_catalog::import::{self, ProductRef, RowError};
use hezuo_db::entities::{cooperative_member, household, lot, product, stock_movement};
use hezuo_db::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use serde::Serialize;
use std::collections::HashMap;

/// Rows per INSERT: well inside SQLite's and PostgreSQL's bound-parameter limits.
const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub imported: usize,
    /// The new objects' ids, in file order.
    pub ids: Vec<i64>,
}

fn rejected(rows: Vec<RowError>) -> AppError {
    let n = rows.len();
    AppError::Rejected { code: "import_rejected", message: format!("{n} row(s) rejected; nothing was imported"), rows }
}

fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, AppError> {
    import::decode(bytes).ok_or_else(|| AppError::Invalid {
        code: "bad_encoding",
        field: None,
        message: "the file is neither UTF-8 nor GBK text".into(),
    })
}

impl App {
    /// `POST /stations/{id}/products:import`.
    pub async fn import_products(
        &self,
        p: &Principal,
        station_id: i64,
        bytes: &[u8],
    ) -> Result<ImportResult, AppError> {
        writable_station(&self.db, p, station_id).await?;
        let (rows, mut errors) = import::parse_products_partial(&decode(bytes)?).map_err(rejected)?;
        let skus: Vec<&str> = rows.iter().filter_map(|r| r.sku.as_deref()).collect();
        let mut taken: HashMap<String, i64> = HashMap::new();
        for chunk in skus.chunks(super::products::ID_LIST_MAX) {
            let found: Vec<(i64, Option<String>)> = product::Entity::find()
                .select_only()
                .column(product::Column::Id)
                .column(product::Column::Sku)
                .filter(product::Column::StationId.eq(station_id))
                .filter(product::Column::Sku.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            taken.extend(found.into_iter().filter_map(|(id, s)| s.map(|s| (s, id))));
        }
        for r in &rows {
            if let Some(id) = r.sku.as_ref().and_then(|s| taken.get(s)) {
                errors.push(RowError::new(r.line, Some("sku"), format!("product {id} of the station has this sku")));
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(rejected(errors));
        }
        let t = now();
        let models: Vec<product::ActiveModel> = rows
            .iter()
            .map(|r| {
                Ok(product::ActiveModel {
                    station_id: Set(station_id),
                    name: Set(r.name.clone()),
                    unit: Set(r.unit.clone()),
                    sku: Set(r.sku.clone()),
                    price: Set(r.price.cents()),
                    status: Set(r.status.as_str().to_owned()),
                    category: Set(r.category.clone()),
                    description: Set(r.description.clone()),
                    image_urls: Set(
                        serde_json::to_string(&r.image_urls).map_err(|e| AppError::Internal(e.to_string()))?
                    ),
                    low_stock_threshold: Set(r.low_stock_threshold.map(|q| q.thousandths())),
                    created_at: Set(t),
                    updated_at: Set(t),
                    ..Default::default()
                })
            })
            .collect::<Result<_, AppError>>()?;
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let mut ids = Vec::with_capacity(models.len());
        for chunk in models.chunks(BATCH) {
            let made = product::Entity::insert_many(chunk.to_vec()).exec_with_returning(&txn).await?;
            ids.extend(made.iter().map(|m| m.id));
        }
        txn.commit().await?;
        Ok(ImportResult { imported: ids.len(), ids })
    }

    /// `POST /stations/{id}/lots:import`: lots of the station's products from member
    /// households, each with its intake movement.
    pub async fn import_lots(
        &self,
        p: &Principal,
        actor: &Actor,
        station_id: i64,
        bytes: &[u8],
    ) -> Result<ImportResult, AppError> {
        let st = writable_station(&self.db, p, station_id).await?;
        let (rows, mut errors) = import::parse_lots_partial(&decode(bytes)?, self.config.timezone).map_err(rejected)?;

        let products: Vec<(i64, String)> = product::Entity::find()
            .select_only()
            .column(product::Column::Id)
            .column(product::Column::Name)
            .filter(product::Column::StationId.eq(station_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut by_name: HashMap<&str, Vec<i64>> = HashMap::new();
        for (id, name) in &products {
            by_name.entry(name.as_str()).or_default().push(*id);
        }
        let ids: std::collections::HashSet<i64> = products.iter().map(|(id, _)| *id).collect();
        let members: HashMap<i64, i64> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::VillageId)
            .filter(
                household::Column::Id.in_subquery(
                    hezuo_db::sea_orm::sea_query::Query::select()
                        .column(cooperative_member::Column::HouseholdId)
                        .from(cooperative_member::Entity)
                        .and_where(cooperative_member::Column::CooperativeId.eq(st.cooperative_id))
                        .to_owned(),
                ),
            )
            .into_tuple::<(i64, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();

        let mut models = Vec::with_capacity(rows.len());
        let created = now();
        for r in &rows {
            let product_id = match &r.product {
                ProductRef::Id(id) if ids.contains(id) => Some(*id),
                ProductRef::Id(id) => {
                    errors.push(RowError::new(r.line, Some("product_id"), format!("no product {id} at this station")));
                    None
                }
                ProductRef::Name(n) => match by_name.get(n.as_str()).map(Vec::as_slice) {
                    Some([id]) => Some(*id),
                    Some(many) => {
                        errors.push(RowError::new(
                            r.line,
                            Some("product_name"),
                            format!("{} products are named {n:?}; use product_id", many.len()),
                        ));
                        None
                    }
                    None => {
                        errors.push(RowError::new(
                            r.line,
                            Some("product_name"),
                            format!("no product named {n:?} at this station"),
                        ));
                        None
                    }
                },
            };
            let village_id = members.get(&r.household_id).copied();
            if village_id.is_none() {
                errors.push(RowError::new(
                    r.line,
                    Some("household_id"),
                    format!("household {} is not a member of the station's cooperative", r.household_id),
                ));
            }
            let received_at = match check_received_at(r.received_at, "received_at") {
                Ok(t) => Some(t),
                Err(_) => {
                    errors.push(RowError::new(r.line, Some("received_at"), "must not be in the future"));
                    None
                }
            };
            if let (Some(product_id), Some(village_id), Some(received_at)) = (product_id, village_id, received_at) {
                models.push(lot::ActiveModel {
                    product_id: Set(product_id),
                    station_id: Set(station_id),
                    household_id: Set(r.household_id),
                    village_id: Set(village_id),
                    received: Set(r.quantity.thousandths()),
                    remaining: Set(r.quantity.thousandths()),
                    floor_price: Set(r.floor_price.cents()),
                    received_at: Set(received_at),
                    trace_code: Set(Some(hezuo_db::trace_code())),
                    created_at: Set(created),
                    ..Default::default()
                });
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(rejected(errors));
        }

        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let mut ids = Vec::with_capacity(models.len());
        for chunk in models.chunks(BATCH) {
            let made = lot::Entity::insert_many(chunk.to_vec()).exec_with_returning(&txn).await?;
            let movements: Vec<stock_movement::ActiveModel> = made.iter().map(|l| intake_movement(l, actor)).collect();
            stock_movement::Entity::insert_many(movements).exec(&txn).await?;
            ids.extend(made.iter().map(|m| m.id));
        }
        txn.commit().await?;
        Ok(ImportResult { imported: ids.len(), ids })
    }
}
