use super::{readable_station, to_csv};
use crate::page::fetch_page;
use crate::{Actor, App, AppError, Page, PageRequest, Principal, now, scope};
use chrono::{DateTime, Utc};
use hezuo_catalog::{self as catalog, AdjustmentReason, MovementKind};
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{cooperative_member, household, lot, product, station, stock_movement, village};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

/// Produce received from one household (订单收购).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLot {
    /// A member household of the station's cooperative.
    pub household_id: i64,
    /// More than 0, at most 3 decimals.
    #[schema(value_type = crate::openapi::QuantityInput)]
    pub quantity: Quantity,
    /// Guaranteed price per unit (保底价), 0 or more.
    #[schema(value_type = crate::openapi::UnitPriceInput)]
    pub floor_price: Money,
    /// Defaults to now; not in the future.
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lot {
    pub id: i64,
    pub product_id: i64,
    pub station_id: i64,
    pub household_id: i64,
    /// The household's village at intake: its collective is credited for the lot's sales.
    pub village_id: i64,
    pub received: Quantity,
    pub remaining: Quantity,
    pub floor_price: Money,
    pub received_at: DateTime<Utc>,
    /// The code the lot's label carries to its public trace page (`/t/{code}`).
    pub trace_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<lot::Model> for Lot {
    fn from(m: lot::Model) -> Self {
        Lot {
            id: m.id,
            product_id: m.product_id,
            station_id: m.station_id,
            household_id: m.household_id,
            village_id: m.village_id,
            received: Quantity::from_thousandths(m.received),
            remaining: Quantity::from_thousandths(m.remaining),
            floor_price: Money::from_cents(m.floor_price),
            received_at: m.received_at,
            trace_code: m.trace_code,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Movement {
    pub id: i64,
    pub lot_id: i64,
    pub kind: MovementKind,
    /// Signed: what the movement added to the lot's remaining.
    pub quantity: Quantity,
    pub reason: Option<AdjustmentReason>,
    pub note: Option<String>,
    pub order_line_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<stock_movement::Model> for Movement {
    type Error = AppError;
    fn try_from(m: stock_movement::Model) -> Result<Self, AppError> {
        let bad = || AppError::Internal(format!("movement {} is malformed", m.id));
        let reason = match m.reason.as_deref() {
            None => None,
            Some("spoilage") => Some(AdjustmentReason::Spoilage),
            Some("loss") => Some(AdjustmentReason::Loss),
            Some("count_correction") => Some(AdjustmentReason::CountCorrection),
            Some(_) => return Err(bad()),
        };
        Ok(Movement {
            id: m.id,
            lot_id: m.lot_id,
            kind: MovementKind::parse(&m.kind).ok_or_else(bad)?,
            quantity: Quantity::from_thousandths(m.quantity),
            reason,
            note: m.note,
            order_line_id: m.order_line_id,
            actor_user_id: m.actor_user_id,
            actor_token_id: m.actor_token_id,
            created_at: m.created_at,
        })
    }
}

/// A hand adjustment of a lot (spoilage, loss, count correction).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdjustment {
    /// Signed, not 0: negative takes stock out, positive puts it back (count correction).
    #[schema(value_type = crate::openapi::SignedQuantityInput)]
    pub quantity: Quantity,
    pub reason: AdjustmentReason,
    #[schema(value_type = Option<crate::openapi::OptionalNote>)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub movement: Movement,
    pub lot: Lot,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedRef {
    pub id: i64,
    pub name: String,
}

/// Where a lot came from and where it went (溯源).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LotTrace {
    pub lot: Lot,
    pub product: NamedRef,
    pub unit: String,
    pub household: NamedRef,
    pub village: NamedRef,
    pub village_code: String,
    pub station: NamedRef,
    /// Oldest first.
    pub movements: Vec<Movement>,
    /// The order lines that drew from the lot, with the quantity each took.
    pub order_lines: Vec<LotDraw>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LotDraw {
    pub order_line_id: i64,
    pub quantity: Quantity,
    pub at: DateTime<Utc>,
}

/// One row of the lots CSV export.
#[derive(Debug, Serialize)]
struct LotCsv {
    id: i64,
    product_id: i64,
    household_id: i64,
    village_id: i64,
    received: Quantity,
    remaining: Quantity,
    floor_price: Money,
    received_at: String,
}

/// Allowance for clock skew between a station's device and the server.
const FUTURE_SLACK: chrono::Duration = chrono::Duration::minutes(10);

/// The household's village if it is a member of the cooperative; the rule of lot intake.
pub(crate) async fn member_household(
    db: &impl ConnectionTrait,
    cooperative_id: i64,
    household_id: i64,
) -> Result<i64, AppError> {
    let Some(h) = household::Entity::find_by_id(household_id).one(db).await? else {
        return Err(AppError::unknown_reference("household_id", "household"));
    };
    let member = cooperative_member::Entity::find()
        .filter(cooperative_member::Column::CooperativeId.eq(cooperative_id))
        .filter(cooperative_member::Column::HouseholdId.eq(household_id))
        .one(db)
        .await?;
    if member.is_none() {
        return Err(AppError::Invalid {
            code: "household_not_member",
            field: Some("household_id".into()),
            message: "the household is not a member of the station's cooperative; only members supply its stations"
                .into(),
        });
    }
    Ok(h.village_id)
}

pub(crate) fn check_received_at(at: Option<DateTime<Utc>>, field: &str) -> Result<DateTime<Utc>, AppError> {
    let t = now();
    match at {
        None => Ok(t),
        Some(at) if at > t + FUTURE_SLACK => Err(AppError::invalid(field, "must not be in the future")),
        Some(at) => Ok(at),
    }
}

pub(crate) fn intake_movement(l: &lot::Model, actor: &Actor) -> stock_movement::ActiveModel {
    stock_movement::ActiveModel {
        lot_id: Set(l.id),
        product_id: Set(l.product_id),
        kind: Set(MovementKind::Intake.as_str().to_owned()),
        quantity: Set(l.received),
        reason: Set(None),
        note: Set(None),
        order_line_id: Set(None),
        actor_user_id: Set(actor.user_id),
        actor_token_id: Set(actor.token_id),
        created_at: Set(l.created_at),
        ..Default::default()
    }
}

impl App {
    async fn writable_product(&self, p: &Principal, product_id: i64) -> Result<product::Model, AppError> {
        product::Entity::find_by_id(product_id)
            .filter(scope::station_rows_writable(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("product"))
    }

    /// Receives produce from a household into a new lot, with its intake movement.
    pub async fn create_lot(
        &self,
        p: &Principal,
        actor: &Actor,
        product_id: i64,
        req: CreateLot,
    ) -> Result<Lot, AppError> {
        let prod = self.writable_product(p, product_id).await?;
        let quantity = catalog::intake_quantity(req.quantity)?;
        let floor = catalog::floor_price(req.floor_price)?;
        let received_at = check_received_at(req.received_at, "received_at")?;
        let st =
            station::Entity::find_by_id(prod.station_id).one(&self.db).await?.ok_or(AppError::NotFound("station"))?;
        let village_id = member_household(&self.db, st.cooperative_id, req.household_id).await?;
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let l = lot::ActiveModel {
            product_id: Set(prod.id),
            station_id: Set(prod.station_id),
            household_id: Set(req.household_id),
            village_id: Set(village_id),
            received: Set(quantity.thousandths()),
            remaining: Set(quantity.thousandths()),
            floor_price: Set(floor.cents()),
            received_at: Set(received_at),
            trace_code: Set(Some(hezuo_db::trace_code())),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        intake_movement(&l, actor).insert(&txn).await?;
        txn.commit().await?;
        Ok(l.into())
    }

    /// The product's lots, oldest first (the order sales draw them in).
    pub async fn list_product_lots(
        &self,
        p: &Principal,
        product_id: i64,
        page: PageRequest,
    ) -> Result<Page<Lot>, AppError> {
        product::Entity::find_by_id(product_id)
            .filter(scope::station_rows(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("product"))?;
        // FIFO order is (received_at, id); the cursor pages by id, so read all and page here.
        let all = lot::Entity::find()
            .filter(lot::Column::ProductId.eq(product_id))
            .order_by(lot::Column::ReceivedAt, Order::Asc)
            .order_by(lot::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let start = match page.after {
            None => 0,
            Some(after) => all.iter().position(|l| l.id == after).map_or(all.len(), |i| i + 1),
        };
        let items: Vec<Lot> = all.iter().skip(start).take(page.limit as usize).cloned().map(Lot::from).collect();
        let next_cursor = (start + items.len() < all.len()).then(|| items.last().map(|l| l.id.to_string())).flatten();
        Ok(Page { items, next_cursor })
    }

    /// Every lot of a station, in intake order.
    pub async fn list_station_lots(
        &self,
        p: &Principal,
        station_id: i64,
        page: PageRequest,
    ) -> Result<Page<Lot>, AppError> {
        readable_station(self.reader(), p, station_id).await?;
        let q = lot::Entity::find().filter(lot::Column::StationId.eq(station_id));
        fetch_page(self.reader(), q, Condition::all(), page, |m| m.id, Lot::from).await
    }

    pub async fn export_lots_csv(&self, p: &Principal, station_id: i64) -> Result<String, AppError> {
        readable_station(self.reader(), p, station_id).await?;
        let lots = lot::Entity::find()
            .filter(lot::Column::StationId.eq(station_id))
            .order_by(lot::Column::Id, Order::Asc)
            .all(self.reader())
            .await?;
        let tz = self.config.timezone;
        to_csv(lots.into_iter().map(|l| LotCsv {
            id: l.id,
            product_id: l.product_id,
            household_id: l.household_id,
            village_id: l.village_id,
            received: Quantity::from_thousandths(l.received),
            remaining: Quantity::from_thousandths(l.remaining),
            floor_price: Money::from_cents(l.floor_price),
            received_at: l.received_at.with_timezone(&tz).to_rfc3339(),
        }))
    }

    /// Traceability (溯源): the lot with its household, village, floor price, movements and the
    /// order lines that drew from it.
    pub async fn trace_lot(&self, p: &Principal, lot_id: i64) -> Result<LotTrace, AppError> {
        let l = lot::Entity::find_by_id(lot_id)
            .filter(scope::station_rows(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("lot"))?;
        let missing = |what: &str| AppError::Internal(format!("lot {lot_id}: its {what} is missing"));
        let prod = product::Entity::find_by_id(l.product_id).one(&self.db).await?.ok_or_else(|| missing("product"))?;
        let h =
            household::Entity::find_by_id(l.household_id).one(&self.db).await?.ok_or_else(|| missing("household"))?;
        let v = village::Entity::find_by_id(l.village_id).one(&self.db).await?.ok_or_else(|| missing("village"))?;
        let st = station::Entity::find_by_id(l.station_id).one(&self.db).await?.ok_or_else(|| missing("station"))?;
        let movements: Vec<Movement> = stock_movement::Entity::find()
            .filter(stock_movement::Column::LotId.eq(lot_id))
            .order_by(stock_movement::Column::Id, Order::Asc)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Movement::try_from)
            .collect::<Result<_, _>>()?;
        let order_lines = movements
            .iter()
            .filter(|m| m.kind == MovementKind::Sale)
            .filter_map(|m| {
                m.order_line_id.map(|id| LotDraw {
                    order_line_id: id,
                    quantity: Quantity::from_thousandths(-m.quantity.thousandths()),
                    at: m.created_at,
                })
            })
            .collect();
        Ok(LotTrace {
            lot: l.into(),
            product: NamedRef { id: prod.id, name: prod.name },
            unit: prod.unit,
            household: NamedRef { id: h.id, name: h.name },
            village: NamedRef { id: v.id, name: v.name },
            village_code: v.code,
            station: NamedRef { id: st.id, name: st.name },
            movements,
            order_lines,
        })
    }

    /// Adjusts a lot by hand. The remaining never goes below zero: the check and the change are
    /// one conditional UPDATE, so concurrent adjustments and sales cannot overdraw it.
    pub async fn adjust_lot(
        &self,
        p: &Principal,
        actor: &Actor,
        lot_id: i64,
        req: CreateAdjustment,
    ) -> Result<Adjustment, AppError> {
        let cond = scope::station_rows_writable(p)?;
        let q = req.quantity.thousandths();
        if q == 0 {
            return Err(AppError::invalid("quantity", "must not be 0"));
        }
        if q.unsigned_abs() > catalog::MAX_QUANTITY.thousandths().unsigned_abs() {
            return Err(AppError::invalid("quantity", format!("must be at most {} either way", catalog::MAX_QUANTITY)));
        }
        let note = catalog::optional_text("note", req.note.as_deref(), 500)?;
        // Write first: on SQLite a transaction that starts by writing takes the write lock at
        // once, instead of failing to upgrade a read snapshot under concurrency.
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let updated = lot::Entity::update_many()
            .col_expr(lot::Column::Remaining, Expr::col(lot::Column::Remaining).add(q))
            .filter(lot::Column::Id.eq(lot_id))
            .filter(cond.clone())
            .filter(Expr::col(lot::Column::Remaining).add(q).gte(0))
            .exec(&txn)
            .await?;
        let l = lot::Entity::find_by_id(lot_id).filter(cond).one(&txn).await?.ok_or(AppError::NotFound("lot"))?;
        if updated.rows_affected == 0 {
            return Err(AppError::Invalid {
                code: "insufficient_stock",
                field: Some("quantity".into()),
                message: format!(
                    "the lot has {} remaining; it cannot go below 0",
                    Quantity::from_thousandths(l.remaining)
                ),
            });
        }
        let movement = stock_movement::ActiveModel {
            lot_id: Set(lot_id),
            product_id: Set(l.product_id),
            kind: Set(MovementKind::Adjustment.as_str().to_owned()),
            quantity: Set(q),
            reason: Set(Some(req.reason.as_str().to_owned())),
            note: Set(note),
            order_line_id: Set(None),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(Adjustment { movement: movement.try_into()?, lot: l.into() })
    }
}
