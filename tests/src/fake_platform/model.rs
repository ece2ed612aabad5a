//! The fake's platform-neutral data — orders, lines, refunds — and what hezuo should read back
//! from each platform's rendering of them.

use super::Kind;
use chrono::{DateTime, Utc};
use hezuo_core::Money;
use hezuo_platforms::{OrderState, PlatformLine, PlatformOrder, PlatformRefund, douyin, pdd, taobao};
use std::collections::BTreeMap;

/// Where an order stands, written as each platform's raw status by [`FakeStatus::raw`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FakeStatus {
    /// Created, not paid: Taobao `WAIT_BUYER_PAY`, Douyin `1`. Pinduoduo never lists unpaid
    /// orders; the fake sends `0` (a value outside Pinduoduo's table) so the order is still
    /// there for the test to see skipped.
    Unpaid,
    /// Paid, awaiting shipment: Taobao `WAIT_SELLER_SEND_GOODS`, Pinduoduo `1`, Douyin `105`.
    Paid,
    /// Shipped: Taobao `WAIT_BUYER_CONFIRM_GOODS`, Pinduoduo `2`, Douyin `3`.
    Shipped,
    /// Received / finished: Taobao `TRADE_FINISHED`, Pinduoduo `3`, Douyin `5`.
    Completed,
    /// Closed before payment: Taobao `TRADE_CLOSED_BY_TAOBAO`, Douyin `4` with `pay_time` 0,
    /// Pinduoduo `0` (see [`FakeStatus::Unpaid`]).
    ClosedBeforePayment,
    /// Closed after payment (every line refunded): Taobao `TRADE_CLOSED`, Douyin `4` with a
    /// `pay_time`. Pinduoduo has no such status (its whole-order refund comes as a refund): the
    /// fake sends `order_status` 1 with `refund_status` 4 (refunded).
    ClosedAfterPayment,
    /// Exactly this raw value on every platform (Pinduoduo and Douyin send it as a JSON number
    /// when it is an integer).
    Raw(String),
}

impl FakeStatus {
    /// The platform's raw status value for this state.
    pub fn raw(&self, kind: Kind) -> String {
        use FakeStatus::*;
        let raw = match (kind, self) {
            (_, Raw(raw)) => return raw.clone(),
            (Kind::Taobao, Unpaid) => "WAIT_BUYER_PAY",
            (Kind::Taobao, Paid) => "WAIT_SELLER_SEND_GOODS",
            (Kind::Taobao, Shipped) => "WAIT_BUYER_CONFIRM_GOODS",
            (Kind::Taobao, Completed) => "TRADE_FINISHED",
            (Kind::Taobao, ClosedBeforePayment) => "TRADE_CLOSED_BY_TAOBAO",
            (Kind::Taobao, ClosedAfterPayment) => "TRADE_CLOSED",
            (Kind::Pdd, Unpaid | ClosedBeforePayment) => "0",
            (Kind::Pdd, Paid | ClosedAfterPayment) => "1",
            (Kind::Pdd, Shipped) => "2",
            (Kind::Pdd, Completed) => "3",
            (Kind::Douyin, Unpaid) => "1",
            (Kind::Douyin, Paid) => "105",
            (Kind::Douyin, Shipped) => "3",
            (Kind::Douyin, Completed) => "5",
            (Kind::Douyin, ClosedBeforePayment | ClosedAfterPayment) => "4",
        };
        raw.to_owned()
    }

    /// Whether the buyer paid (so [`FakeOrder::new`] sets a pay time).
    fn was_paid(&self) -> bool {
        !matches!(self, FakeStatus::Unpaid | FakeStatus::ClosedBeforePayment)
    }
}

/// One line of a fake order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLine {
    /// Taobao `oid`, Douyin `sku_order_id`, Pinduoduo `sku_id` (empty: Pinduoduo sends no
    /// `sku_id` and hezuo names the line by its position from `"1"`).
    pub line_id: String,
    /// The merchant code (Taobao `outer_sku_id`, Pinduoduo `outer_id`, Douyin `out_sku_id`);
    /// `None` leaves the field out.
    pub sku: Option<String>,
    /// Pieces bought.
    pub quantity: u32,
    /// The line's gross: what the buyer paid for it after discounts (Taobao `payment`, Douyin
    /// `pay_amount`). Pinduoduo has no per-line amount: see [`FakeLine::unit_price`].
    pub amount: Money,
    /// Pinduoduo's `goods_price` (per piece, before discounts). `None`: `amount / quantity`,
    /// rounded up to the cent. What hezuo books per line on Pinduoduo is then
    /// `pdd::line_gross` of these prices and the order's `pay_amount − postage`, which
    /// [`FakeOrder::expected`] computes.
    pub unit_price: Option<Money>,
}

impl FakeLine {
    /// A line of `quantity` pieces of `sku` for which the buyer paid `amount`.
    pub fn new(line_id: impl Into<String>, sku: impl Into<String>, quantity: u32, amount: Money) -> FakeLine {
        FakeLine { line_id: line_id.into(), sku: Some(sku.into()), quantity, amount, unit_price: None }
    }

    /// Sets Pinduoduo's `goods_price`.
    pub fn unit_price(mut self, price: Money) -> FakeLine {
        self.unit_price = Some(price);
        self
    }

    /// Leaves the merchant code out.
    pub fn without_sku(mut self) -> FakeLine {
        self.sku = None;
        self
    }

    /// The `goods_price` the fake sends on Pinduoduo.
    pub fn pdd_unit_price(&self) -> Money {
        self.unit_price.unwrap_or_else(|| {
            let q = i64::from(self.quantity.max(1));
            Money::from_cents(self.amount.cents().div_euclid(q) + i64::from(self.amount.cents().rem_euclid(q) != 0))
        })
    }
}

/// A platform order as the fake keeps it. Times are kept to the whole second (the platforms'
/// formats have no fractions): the fake truncates them when the order is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeOrder {
    /// The platform's order id (Taobao `tid`, Pinduoduo `order_sn`, Douyin `order_id`).
    pub id: String,
    /// Its status.
    pub status: FakeStatus,
    /// When it was created (Taobao `created`, Douyin `create_time`).
    pub created: DateTime<Utc>,
    /// When the platform last modified it: what the list APIs filter and sort on.
    pub modified: DateTime<Utc>,
    /// When the buyer paid (Taobao `pay_time`, Pinduoduo `confirm_time`, Douyin `pay_time`;
    /// `None`: left out, `""` on Pinduoduo, `0` on Douyin).
    pub paid_at: Option<DateTime<Utc>>,
    /// The lines.
    pub lines: Vec<FakeLine>,
    /// Shipping (Pinduoduo `postage`; part of the order total on every platform).
    pub postage: Money,
    /// The order total (Taobao trade `payment`, Pinduoduo `pay_amount`, Douyin order
    /// `pay_amount`). `None`: the lines' amounts plus postage.
    pub pay_amount: Option<Money>,
}

impl FakeOrder {
    /// An order without lines, created and modified at `modified`, paid then when `status` is
    /// a paid one.
    pub fn new(id: impl Into<String>, status: FakeStatus, modified: DateTime<Utc>) -> FakeOrder {
        let paid_at = status.was_paid().then_some(modified);
        FakeOrder {
            id: id.into(),
            status,
            created: modified,
            modified,
            paid_at,
            lines: Vec::new(),
            postage: Money::ZERO,
            pay_amount: None,
        }
    }

    /// Adds a line.
    pub fn line(mut self, line: FakeLine) -> FakeOrder {
        self.lines.push(line);
        self
    }

    /// Sets the postage.
    pub fn postage(mut self, postage: Money) -> FakeOrder {
        self.postage = postage;
        self
    }

    /// Sets the order total (Pinduoduo `pay_amount`).
    pub fn pay_amount(mut self, total: Money) -> FakeOrder {
        self.pay_amount = Some(total);
        self
    }

    /// Sets the pay time.
    pub fn paid_at(mut self, paid_at: Option<DateTime<Utc>>) -> FakeOrder {
        self.paid_at = paid_at;
        self
    }

    /// Sets the creation time.
    pub fn created(mut self, created: DateTime<Utc>) -> FakeOrder {
        self.created = created;
        self
    }

    /// The order total the fake sends: [`FakeOrder::pay_amount`], or the lines plus postage.
    pub fn total(&self) -> Money {
        self.pay_amount.unwrap_or_else(|| {
            Money::from_cents(self.lines.iter().map(|l| l.amount.cents()).sum::<i64>() + self.postage.cents())
        })
    }

    /// What hezuo-platforms' `parse_orders` must read from this order as `kind` renders it.
    ///
    /// # Panics
    /// On Pinduoduo, when the amounts cannot be spread (postage above the total).
    pub fn expected(&self, kind: Kind) -> PlatformOrder {
        let status = self.status.raw(kind);
        let int_status = status.parse::<i64>().ok();
        let paid_at = self.paid_at.map(whole_second);
        let (state, lines) = match kind {
            Kind::Taobao => (taobao::state(&status), self.plain_lines()),
            Kind::Douyin => {
                let pay_time = Some(paid_at.map_or(0, |t| t.timestamp()));
                (int_status.map_or(OrderState::Unrecognized, |s| douyin::state(s, pay_time)), self.plain_lines())
            }
            Kind::Pdd => {
                let starts: Vec<Money> = self
                    .lines
                    .iter()
                    .map(|l| Money::from_cents(l.pdd_unit_price().cents() * i64::from(l.quantity)))
                    .collect();
                let counts: Vec<u32> = self.lines.iter().map(|l| l.quantity).collect();
                let net = Money::from_cents(self.total().cents() - self.postage.cents());
                let gross = pdd::line_gross(&starts, &counts, net).expect("Pinduoduo amounts that can be spread");
                let lines = self
                    .lines
                    .iter()
                    .zip(gross)
                    .enumerate()
                    .map(|(j, (l, amount))| PlatformLine {
                        line_id: if l.line_id.is_empty() { (j + 1).to_string() } else { l.line_id.clone() },
                        sku: non_empty(&l.sku),
                        quantity: l.quantity,
                        amount,
                    })
                    .collect();
                (int_status.map_or(OrderState::Unrecognized, pdd::state), lines)
            }
        };
        PlatformOrder { id: self.id.clone(), state, status, modified: whole_second(self.modified), paid_at, lines }
    }

    fn plain_lines(&self) -> Vec<PlatformLine> {
        self.lines
            .iter()
            .map(|l| PlatformLine {
                line_id: l.line_id.clone(),
                sku: non_empty(&l.sku),
                quantity: l.quantity,
                amount: l.amount,
            })
            .collect()
    }

    fn normalize(&mut self) {
        self.created = whole_second(self.created);
        self.modified = whole_second(self.modified);
        self.paid_at = self.paid_at.map(whole_second);
    }
}

/// A refund (after-sale) as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRefund {
    /// The platform's refund id (Taobao `refund_id`, Pinduoduo `id`, Douyin `aftersale_id`).
    pub refund_id: String,
    /// The order it belongs to.
    pub order_id: String,
    /// The lines it names. Taobao and Pinduoduo name one line (`oid`, `sku_id`): only the first
    /// is sent; none leaves the field out. Douyin sends them all in `related_order_info`.
    pub line_ids: Vec<String>,
    /// The amount refunded.
    pub amount: Money,
    /// Pieces returned, for a return and refund (Taobao `has_good_return` + `num`, Pinduoduo
    /// `after_sales_type` 3 + `goods_number`, Douyin `aftersale_type` 0 + the lines'
    /// `item_num`, which the fake spreads over the lines, so a Douyin return needs a line);
    /// `None` for a refund only.
    pub quantity_returned: Option<u32>,
    /// Whether it succeeded (Taobao `SUCCESS`, Pinduoduo `after_sales_status` 10, Douyin
    /// `aftersale_status` 12; otherwise `WAIT_SELLER_AGREE`, 2 and 6).
    pub succeeded: bool,
    /// When the platform last modified it.
    pub modified: DateTime<Utc>,
}

impl FakeRefund {
    /// A successful refund only (no goods back) of `amount` on the whole order.
    pub fn new(
        refund_id: impl Into<String>,
        order_id: impl Into<String>,
        amount: Money,
        modified: DateTime<Utc>,
    ) -> FakeRefund {
        FakeRefund {
            refund_id: refund_id.into(),
            order_id: order_id.into(),
            line_ids: Vec::new(),
            amount,
            quantity_returned: None,
            succeeded: true,
            modified,
        }
    }

    /// Names a line.
    pub fn line(mut self, line_id: impl Into<String>) -> FakeRefund {
        self.line_ids.push(line_id.into());
        self
    }

    /// Makes it a return and refund of `pieces`.
    pub fn returned(mut self, pieces: u32) -> FakeRefund {
        self.quantity_returned = Some(pieces);
        self
    }

    /// Sets whether it succeeded.
    pub fn succeeded(mut self, succeeded: bool) -> FakeRefund {
        self.succeeded = succeeded;
        self
    }

    /// What hezuo-platforms' `parse_refunds` must read from this refund as `kind` renders it.
    pub fn expected(&self, kind: Kind) -> PlatformRefund {
        let line_ids = match kind {
            Kind::Taobao | Kind::Pdd => self.line_ids.iter().take(1).cloned().collect(),
            Kind::Douyin => self.line_ids.clone(),
        };
        PlatformRefund {
            refund_id: self.refund_id.clone(),
            order_id: self.order_id.clone(),
            line_ids,
            amount: self.amount,
            quantity_returned: self.quantity_returned,
            succeeded: self.succeeded,
            modified: whole_second(self.modified),
        }
    }

    /// Douyin's `item_num` of each line: the returned pieces spread over the lines (earlier
    /// lines get the remainder), or 1 per line for a refund only.
    pub(crate) fn douyin_pieces(&self) -> Vec<u32> {
        let n = u32::try_from(self.line_ids.len()).unwrap_or(u32::MAX);
        match self.quantity_returned {
            None => vec![1; self.line_ids.len()],
            Some(q) => (0..n).map(|i| q / n + u32::from(i < q % n)).collect(),
        }
    }

    fn normalize(&mut self) {
        self.modified = whole_second(self.modified);
    }
}

/// The orders and refunds the fake serves, keyed by their ids. A test reaches it through
/// [`super::FakePlatform`], and a page hook ([`super::FakePlatform::on_page`]) gets it
/// directly.
#[derive(Debug, Clone, Default)]
pub struct FakeData {
    orders: BTreeMap<String, FakeOrder>,
    refunds: BTreeMap<String, FakeRefund>,
}

impl FakeData {
    /// Stores `order`, replacing the order with the same id (times truncated to the second).
    pub fn put_order(&mut self, mut order: FakeOrder) {
        order.normalize();
        self.orders.insert(order.id.clone(), order);
    }

    /// Changes the order `id` in place; false when there is none.
    pub fn update_order(&mut self, id: &str, change: impl FnOnce(&mut FakeOrder)) -> bool {
        let Some(order) = self.orders.get_mut(id) else { return false };
        change(order);
        order.normalize();
        if order.id != id {
            let order = self.orders.remove(id).expect("just changed");
            self.orders.insert(order.id.clone(), order);
        }
        true
    }

    /// Removes the order `id`.
    pub fn remove_order(&mut self, id: &str) -> Option<FakeOrder> {
        self.orders.remove(id)
    }

    /// The order `id`.
    pub fn order(&self, id: &str) -> Option<&FakeOrder> {
        self.orders.get(id)
    }

    /// Every order, by id.
    pub fn orders(&self) -> impl Iterator<Item = &FakeOrder> {
        self.orders.values()
    }

    /// Stores `refund`, replacing the refund with the same id.
    pub fn put_refund(&mut self, mut refund: FakeRefund) {
        refund.normalize();
        self.refunds.insert(refund.refund_id.clone(), refund);
    }

    /// Changes the refund `id` in place; false when there is none.
    pub fn update_refund(&mut self, id: &str, change: impl FnOnce(&mut FakeRefund)) -> bool {
        let Some(refund) = self.refunds.get_mut(id) else { return false };
        change(refund);
        refund.normalize();
        if refund.refund_id != id {
            let refund = self.refunds.remove(id).expect("just changed");
            self.refunds.insert(refund.refund_id.clone(), refund);
        }
        true
    }

    /// The refund `id`.
    pub fn refund(&self, id: &str) -> Option<&FakeRefund> {
        self.refunds.get(id)
    }

    /// Every refund, by id.
    pub fn refunds(&self) -> impl Iterator<Item = &FakeRefund> {
        self.refunds.values()
    }
}

/// `t` without its fraction of a second.
pub(crate) fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn non_empty(sku: &Option<String>) -> Option<String> {
    sku.clone().filter(|s| !s.is_empty())
}
