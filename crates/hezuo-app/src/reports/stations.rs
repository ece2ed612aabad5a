//! A station's sales by product, by channel and by day, from the per-day sales sums: every
//! breakdown is a regrouping of the same rows, so each adds up to the totals to the cent.

use super::{Cell, Table, range};
use crate::page::find_scoped;
use crate::{App, AppError, Principal, scope};
use chrono::NaiveDate;
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{channel, product, sales_day, station};
use hezuo_db::sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StationRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductSales {
    pub product_id: i64,
    pub name: String,
    /// Sold (booked in the range).
    pub quantity: Quantity,
    pub gross: Money,
    /// Refunds booked in the range.
    pub refunded: Money,
    /// gross − refunded.
    pub net: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelSales {
    /// The channel's code.
    pub channel: String,
    pub orders: i64,
    pub gross: Money,
    /// Platform fees of the sales less the fees refunds returned.
    pub fee: Money,
    pub refunded: Money,
    pub net: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaySales {
    pub date: NaiveDate,
    pub orders: i64,
    pub gross: Money,
    pub refunded: Money,
    pub net: Money,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SalesTotals {
    pub orders: i64,
    pub quantity: Quantity,
    pub gross: Money,
    pub fee: Money,
    pub refunded: Money,
    pub net: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StationSales {
    pub station: StationRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_product: Vec<ProductSales>,
    pub by_channel: Vec<ChannelSales>,
    /// Days with sales or refunds, in date order.
    pub by_day: Vec<DaySales>,
    pub totals: SalesTotals,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    day: NaiveDate,
    product_id: i64,
    channel_id: i64,
    orders: i64,
    quantity: i64,
    gross: i64,
    fee: i64,
    refunded: i64,
}

/// Running sums of one breakdown key, in cents and thousandths.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    orders: i64,
    quantity: i64,
    gross: i64,
    fee: i64,
    refunded: i64,
}

impl Sums {
    fn add(&mut self, r: &Row) -> Result<(), hezuo_core::Overflow> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or(hezuo_core::Overflow);
        self.orders = add(self.orders, r.orders)?;
        self.quantity = add(self.quantity, r.quantity)?;
        self.gross = add(self.gross, r.gross)?;
        self.fee = add(self.fee, r.fee)?;
        self.refunded = add(self.refunded, r.refunded)?;
        Ok(())
    }

    fn net(&self) -> Result<Money, hezuo_core::Overflow> {
        Money::from_cents(self.gross).checked_sub(Money::from_cents(self.refunded))
    }
}

impl App {
    /// `GET /reports/stations/{id}/sales?from=&to=`: staff their station, an alliance its
    /// stations, admins any; village users 403.
    pub async fn station_sales(
        &self,
        p: &Principal,
        station_id: i64,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<StationSales, AppError> {
        let s = find_scoped::<station::Entity>(self.reader(), station_id, scope::stations(p)?, "station").await?;
        let (from, to) = range(self, from, to)?;
        let rows: Vec<Row> = sales_day::Entity::find()
            .select_only()
            .column(sales_day::Column::Day)
            .column(sales_day::Column::ProductId)
            .column(sales_day::Column::ChannelId)
            .column(sales_day::Column::Orders)
            .column(sales_day::Column::Quantity)
            .column(sales_day::Column::Gross)
            .column(sales_day::Column::Fee)
            .column(sales_day::Column::Refunded)
            .filter(sales_day::Column::StationId.eq(s.id))
            .filter(sales_day::Column::Day.between(from, to))
            .into_model()
            .all(self.reader())
            .await?;
        let (mut by_product, mut by_channel, mut by_day) =
            (BTreeMap::<i64, Sums>::new(), BTreeMap::<i64, Sums>::new(), BTreeMap::<NaiveDate, Sums>::new());
        let mut totals = Sums::default();
        for r in &rows {
            by_product.entry(r.product_id).or_default().add(r)?;
            by_channel.entry(r.channel_id).or_default().add(r)?;
            by_day.entry(r.day).or_default().add(r)?;
            totals.add(r)?;
        }
        let names: HashMap<i64, String> = product::Entity::find()
            .select_only()
            .column(product::Column::Id)
            .column(product::Column::Name)
            .filter(product::Column::StationId.eq(s.id))
            .filter(product::Column::Id.is_in(by_product.keys().copied().collect::<Vec<_>>()))
            .into_tuple::<(i64, String)>()
            .all(self.reader())
            .await?
            .into_iter()
            .collect();
        let codes: HashMap<i64, String> = channel::Entity::find()
            .select_only()
            .column(channel::Column::Id)
            .column(channel::Column::Code)
            .filter(channel::Column::Id.is_in(by_channel.keys().copied().collect::<Vec<_>>()))
            .into_tuple::<(i64, String)>()
            .all(self.reader())
            .await?
            .into_iter()
            .collect();
        let m = Money::from_cents;
        Ok(StationSales {
            station: StationRef { id: s.id, name: s.name },
            from,
            to,
            by_product: by_product
                .into_iter()
                .map(|(id, x)| {
                    Ok(ProductSales {
                        product_id: id,
                        name: names.get(&id).cloned().unwrap_or_default(),
                        quantity: Quantity::from_thousandths(x.quantity),
                        gross: m(x.gross),
                        refunded: m(x.refunded),
                        net: x.net()?,
                    })
                })
                .collect::<Result<_, hezuo_core::Overflow>>()?,
            by_channel: by_channel
                .into_iter()
                .map(|(id, x)| {
                    Ok(ChannelSales {
                        channel: codes.get(&id).cloned().unwrap_or_default(),
                        orders: x.orders,
                        gross: m(x.gross),
                        fee: m(x.fee),
                        refunded: m(x.refunded),
                        net: x.net()?,
                    })
                })
                .collect::<Result<_, hezuo_core::Overflow>>()?,
            by_day: by_day
                .into_iter()
                .map(|(date, x)| {
                    Ok(DaySales { date, orders: x.orders, gross: m(x.gross), refunded: m(x.refunded), net: x.net()? })
                })
                .collect::<Result<_, hezuo_core::Overflow>>()?,
            totals: SalesTotals {
                orders: totals.orders,
                quantity: Quantity::from_thousandths(totals.quantity),
                gross: m(totals.gross),
                fee: m(totals.fee),
                refunded: m(totals.refunded),
                net: totals.net()?,
            },
        })
    }
}

impl StationSales {
    /// 服务站销售: by product, by channel, by day, and the totals.
    pub fn tables(&self) -> Vec<Table> {
        let t = &self.totals;
        vec![
            Table {
                title: "按商品",
                headers: vec!["商品ID", "商品", "数量", "销售额", "退款", "净销售额"],
                rows: self
                    .by_product
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::code(r.product_id),
                            Cell::text(&r.name),
                            Cell::Quantity(r.quantity),
                            Cell::Money(r.gross),
                            Cell::Money(r.refunded),
                            Cell::Money(r.net),
                        ]
                    })
                    .collect(),
            },
            Table {
                title: "按渠道",
                headers: vec!["渠道", "订单数", "销售额", "平台佣金", "退款", "净销售额"],
                rows: self
                    .by_channel
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::code(&r.channel),
                            Cell::Int(r.orders),
                            Cell::Money(r.gross),
                            Cell::Money(r.fee),
                            Cell::Money(r.refunded),
                            Cell::Money(r.net),
                        ]
                    })
                    .collect(),
            },
            Table {
                title: "按日",
                headers: vec!["日期", "订单数", "销售额", "退款", "净销售额"],
                rows: self
                    .by_day
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::code(r.date),
                            Cell::Int(r.orders),
                            Cell::Money(r.gross),
                            Cell::Money(r.refunded),
                            Cell::Money(r.net),
                        ]
                    })
                    .collect(),
            },
            Table {
                title: "合计",
                headers: vec![
                    "服务站ID",
                    "服务站",
                    "起始日期",
                    "截止日期",
                    "订单数",
                    "数量",
                    "销售额",
                    "平台佣金",
                    "退款",
                    "净销售额",
                ],
                rows: vec![vec![
                    Cell::code(self.station.id),
                    Cell::text(&self.station.name),
                    Cell::code(self.from),
                    Cell::code(self.to),
                    Cell::Int(t.orders),
                    Cell::Quantity(t.quantity),
                    Cell::Money(t.gross),
                    Cell::Money(t.fee),
                    Cell::Money(t.refunded),
                    Cell::Money(t.net),
                ]],
            },
        ]
    }
}
