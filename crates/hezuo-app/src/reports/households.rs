//! A household's member account (成员账户, 农民专业合作社法 art. 43): its transactions with the
//! cooperative and everything it was credited in a date range, opening and closing on the
//! ledger balance of `household:{id}`.

use super::villages::VillageRef;
use super::{Cell, Table, month_text, range};
use crate::page::find_scoped;
use crate::setup::RuleVersion;
use crate::{App, AppError, Principal, scope};
use chrono::NaiveDate;
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{basis_day, cooperative_member, household, rule_version, village};
use hezuo_db::sea_orm::sea_query::Expr;
use hezuo_db::sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdRef {
    pub id: i64,
    pub name: String,
    pub village: VillageRef,
    /// People in the household.
    pub members: i32,
}

/// One line of the member account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    /// Booking date.
    pub date: NaiveDate,
    /// `sale`, `refund`, `rebate` (二次返利) or `dividend` (按出资额分红).
    pub kind: String,
    pub order_id: Option<i64>,
    pub external_id: Option<String>,
    /// Channel code of the order.
    pub channel: Option<String>,
    pub product_id: Option<i64>,
    pub product: Option<String>,
    /// A sale part's quantity.
    pub quantity: Option<Quantity>,
    /// A sale part's gross.
    pub gross: Option<Money>,
    /// What the rule gives the household (`round(household_share × N)` for a sale part, before
    /// the floor); the amount itself for the other kinds.
    pub share: Money,
    /// The guaranteed minimum (保底) raised the household's amount above its share.
    pub floor_applied: bool,
    /// A rebate's basis: the household's transactions in the period.
    pub basis: Option<Money>,
    /// A dividend's capital contribution.
    pub capital: Option<Money>,
    /// The period (`YYYY-MM`) of a rebate or dividend.
    pub period: Option<String>,
    /// What was credited (negative for a refund reversal).
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberAccount {
    pub household: HouseholdRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ledger balance of `household:{id}` before `from`.
    pub opening: Money,
    pub lines: Vec<StatementLine>,
    /// Ledger balance of `household:{id}` at the end of `to`.
    pub closing: Money,
    /// Σ amount = closing − opening.
    pub total: Money,
    /// round(total ÷ members).
    pub per_member: Money,
    /// The household's capital contributions (出资额).
    pub capital: Money,
    /// 与本社交易额: Σ basis in the range (net of sales less refunds).
    pub transactions_amount: Money,
}

#[derive(Debug, FromQueryResult)]
struct SaleRow {
    part_id: i64,
    order_id: i64,
    external_id: String,
    booking_date: NaiveDate,
    cooperative_id: i64,
    channel: String,
    product_id: i64,
    product: String,
    quantity: i64,
    gross: i64,
    fee: i64,
    household: i64,
}

#[derive(Debug, FromQueryResult)]
struct RefundRow {
    posting_id: i64,
    booking_date: NaiveDate,
    amount: i64,
    order_id: i64,
    external_id: String,
    channel: String,
    product_id: i64,
    product: String,
}

#[derive(Debug, FromQueryResult)]
struct CloseRow {
    line_id: i64,
    kind: String,
    weight: i64,
    amount: i64,
    last_day: NaiveDate,
    first_day: NaiveDate,
}

#[derive(Debug, FromQueryResult)]
struct Balances {
    opening: i64,
    closing: i64,
}

/// The product is read through the part's lot (the same as its line's): one index probe fewer per part.
const SALES: &str = "SELECT p.id AS part_id, o.id AS order_id, o.external_id AS external_id, p.booking_date AS booking_date, \
     o.cooperative_id AS cooperative_id, c.code AS channel, lt.product_id AS product_id, pr.name AS product, \
     p.quantity AS quantity, p.gross AS gross, p.fee AS fee, p.household AS household \
     FROM order_parts p JOIN orders o ON o.id = p.order_id JOIN lots lt ON lt.id = p.lot_id \
     JOIN products pr ON pr.id = lt.product_id JOIN channels c ON c.id = o.channel_id \
     WHERE p.household_id = ? AND p.booking_date >= ? AND p.booking_date <= ?";

/// A refund reversal is found from the household's parts that were refunded (their running
/// totals), through the orders' ledger transactions, not by reading every posting of the
/// account: a household's sales far outnumber its refunds.
const REFUNDS: &str = "SELECT ps.id AS posting_id, ps.booking_date AS booking_date, ps.amount AS amount, \
     o.id AS order_id, o.external_id AS external_id, c.code AS channel, l.product_id AS product_id, pr.name AS product \
     FROM ledger_transactions t JOIN postings ps ON ps.transaction_id = t.id JOIN refunds r ON r.id = t.refund_id \
     JOIN order_lines l ON l.id = r.line_id JOIN orders o ON o.id = r.order_id JOIN products pr ON pr.id = l.product_id \
     JOIN channels c ON c.id = o.channel_id \
     WHERE t.order_id IN (SELECT q.order_id FROM order_parts q WHERE q.household_id = ? \
                          AND (q.refunded_gross <> 0 OR q.refunded_household <> 0)) \
       AND t.kind = 'refund' AND ps.account = ? AND ps.booking_date >= ? AND ps.booking_date <= ?";

const CLOSES: &str = "SELECT cl.id AS line_id, cl.kind AS kind, cl.weight AS weight, cl.amount AS amount, \
     pc.last_day AS last_day, pc.first_day AS first_day \
     FROM period_close_lines cl JOIN period_closes pc ON pc.id = cl.close_id \
     WHERE cl.household_id = ? AND pc.last_day >= ? AND pc.last_day <= ?";

/// Sort key of a line: by date, then sales, refunds, rebates, dividends, each in booking order.
fn rank(kind: &str) -> u8 {
    match kind {
        "sale" => 0,
        "refund" => 1,
        "rebate" => 2,
        _ => 3,
    }
}

impl App {
    /// `GET /reports/households/{id}/statement?from=&to=`.
    pub async fn member_account(
        &self,
        p: &Principal,
        household_id: i64,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<MemberAccount, AppError> {
        let (from, to) = range(self, from, to)?;
        let h =
            find_scoped::<household::Entity>(self.reader(), household_id, scope::households(p)?, "household").await?;
        let v =
            village::Entity::find_by_id(h.village_id).one(self.reader()).await?.ok_or(AppError::NotFound("village"))?;
        let account = format!("household:{}", h.id);
        let backend = self.db.get_database_backend();
        let bind = |sql: &str, first: hezuo_db::sea_orm::Value| {
            crate::statement(backend, sql, vec![first, from.into(), to.into()])
        };

        // The reads are independent: they run at once, each on a connection of its own.
        let refunds_stmt =
            crate::statement(backend, REFUNDS, vec![h.id.into(), account.clone().into(), from.into(), to.into()]);
        let (sales, refunds, closes, balances, basis, capital) = tokio::try_join!(
            SaleRow::find_by_statement(bind(SALES, h.id.into())).all(self.reader()),
            RefundRow::find_by_statement(refunds_stmt).all(self.reader()),
            CloseRow::find_by_statement(bind(CLOSES, h.id.into())).all(self.reader()),
            Balances::find_by_statement(crate::statement(
                backend,
                "SELECT CAST(COALESCE(SUM(CASE WHEN day < ? THEN amount ELSE 0 END), 0) AS BIGINT) AS opening, \
                        CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS closing \
                 FROM account_days WHERE account = ? AND day <= ?",
                vec![from.into(), account.clone().into(), to.into()],
            ))
            .one(self.reader()),
            basis_day::Entity::find()
                .select_only()
                .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "basis")
                .filter(basis_day::Column::HouseholdId.eq(h.id))
                .filter(basis_day::Column::Day.between(from, to))
                .into_tuple::<i64>()
                .one(self.reader()),
            cooperative_member::Entity::find()
                .select_only()
                .column_as(Expr::cust("CAST(COALESCE(SUM(capital), 0) AS BIGINT)"), "capital")
                .filter(cooperative_member::Column::HouseholdId.eq(h.id))
                .into_tuple::<i64>()
                .one(self.reader()),
        )?;

        // The rule versions of the cooperatives sold through, for each part's share before the floor.
        let mut coops: Vec<i64> = sales.iter().map(|s| s.cooperative_id).collect();
        coops.sort_unstable();
        coops.dedup();
        let mut versions: HashMap<i64, Vec<RuleVersion>> = HashMap::new();
        for m in rule_version::Entity::find()
            .filter(rule_version::Column::CooperativeId.is_in(coops))
            .all(self.reader())
            .await?
        {
            let r = RuleVersion::try_from(m)?;
            versions.entry(r.cooperative_id).or_default().push(r);
        }
        for list in versions.values_mut() {
            list.sort_by_key(|r| r.effective_from);
        }

        let mut lines: Vec<(NaiveDate, u8, i64, StatementLine)> =
            Vec::with_capacity(sales.len() + refunds.len() + closes.len());
        for s in sales {
            let rules = versions
                .get(&s.cooperative_id)
                .and_then(|l| l.iter().rev().find(|r| r.effective_from <= s.booking_date))
                .ok_or_else(|| AppError::Internal(format!("no rules for part {}", s.part_id)))?
                .rules();
            let net = Money::from_cents(s.gross).checked_sub(Money::from_cents(s.fee))?;
            let share = hezuo_ledger::rule_share(&rules, net)?;
            let amount = Money::from_cents(s.household);
            lines.push((
                s.booking_date,
                rank("sale"),
                s.part_id,
                StatementLine {
                    date: s.booking_date,
                    kind: "sale".into(),
                    order_id: Some(s.order_id),
                    external_id: Some(s.external_id),
                    channel: Some(s.channel),
                    product_id: Some(s.product_id),
                    product: Some(s.product),
                    quantity: Some(Quantity::from_thousandths(s.quantity)),
                    gross: Some(Money::from_cents(s.gross)),
                    share,
                    floor_applied: amount > share,
                    basis: None,
                    capital: None,
                    period: None,
                    amount,
                },
            ));
        }
        for r in refunds {
            let amount = Money::from_cents(r.amount);
            lines.push((
                r.booking_date,
                rank("refund"),
                r.posting_id,
                StatementLine {
                    date: r.booking_date,
                    kind: "refund".into(),
                    order_id: Some(r.order_id),
                    external_id: Some(r.external_id),
                    channel: Some(r.channel),
                    product_id: Some(r.product_id),
                    product: Some(r.product),
                    quantity: None,
                    gross: None,
                    share: amount,
                    floor_applied: false,
                    basis: None,
                    capital: None,
                    period: None,
                    amount,
                },
            ));
        }
        for c in closes {
            let amount = Money::from_cents(c.amount);
            let weight = Some(Money::from_cents(c.weight));
            let rebate = c.kind == "rebate";
            lines.push((
                c.last_day,
                rank(&c.kind),
                c.line_id,
                StatementLine {
                    date: c.last_day,
                    kind: c.kind.clone(),
                    order_id: None,
                    external_id: None,
                    channel: None,
                    product_id: None,
                    product: None,
                    quantity: None,
                    gross: None,
                    share: amount,
                    floor_applied: false,
                    basis: if rebate { weight } else { None },
                    capital: if rebate { None } else { weight },
                    period: Some(month_text(c.first_day)),
                    amount,
                },
            ));
        }
        lines.sort_by_key(|l| (l.0, l.1, l.2));
        let lines: Vec<StatementLine> = lines.into_iter().map(|l| l.3).collect();

        let balances = balances.unwrap_or(Balances { opening: 0, closing: 0 });
        let (opening, closing) = (Money::from_cents(balances.opening), Money::from_cents(balances.closing));
        let mut total = Money::ZERO;
        for l in &lines {
            total = total.checked_add(l.amount)?;
        }
        if closing.checked_sub(opening)? != total {
            return Err(AppError::Internal(format!(
                "member account of household {} does not add up: lines {total}, ledger {}",
                h.id,
                closing.checked_sub(opening)?
            )));
        }
        let per_member = Money::round(total.to_decimal() / Decimal::from(h.members.max(1)))?;
        Ok(MemberAccount {
            household: HouseholdRef {
                id: h.id,
                name: h.name,
                village: VillageRef { id: v.id, name: v.name, code: v.code },
                members: h.members,
            },
            from,
            to,
            opening,
            lines,
            closing,
            total,
            per_member,
            capital: Money::from_cents(capital.unwrap_or(0)),
            transactions_amount: Money::from_cents(basis.unwrap_or(0)),
        })
    }
}

impl MemberAccount {
    /// 成员账户: the lines, and the summary.
    pub fn tables(&self) -> Vec<Table> {
        let money = |m: Option<Money>| Cell::opt(m, Cell::Money);
        let rows = self
            .lines
            .iter()
            .map(|l| {
                vec![
                    Cell::code(l.date),
                    Cell::text(kind_zh(&l.kind)),
                    Cell::opt(l.order_id, Cell::code),
                    Cell::opt(l.external_id.as_deref(), Cell::code),
                    Cell::opt(l.channel.as_deref(), Cell::code),
                    Cell::opt(l.product.as_deref(), Cell::text),
                    Cell::opt(l.quantity, Cell::Quantity),
                    money(l.gross),
                    Cell::Money(l.share),
                    Cell::Flag(l.floor_applied),
                    money(l.basis),
                    money(l.capital),
                    Cell::opt(l.period.as_deref(), Cell::code),
                    Cell::Money(l.amount),
                ]
            })
            .collect();
        let lines = Table {
            title: "成员账户明细",
            headers: vec![
                "日期",
                "类型",
                "订单ID",
                "外部订单号",
                "渠道",
                "商品",
                "数量",
                "销售额",
                "按比例应得",
                "保底",
                "交易额基数",
                "出资额",
                "结算期",
                "金额",
            ],
            rows,
        };
        let h = &self.household;
        let summary = Table {
            title: "汇总",
            headers: vec![
                "农户ID",
                "农户",
                "村",
                "家庭人口",
                "起始日期",
                "截止日期",
                "期初余额",
                "本期合计",
                "期末余额",
                "人均",
                "出资额",
                "与本社交易额",
            ],
            rows: vec![vec![
                Cell::code(h.id),
                Cell::text(&h.name),
                Cell::text(&h.village.name),
                Cell::Int(i64::from(h.members)),
                Cell::code(self.from),
                Cell::code(self.to),
                Cell::Money(self.opening),
                Cell::Money(self.total),
                Cell::Money(self.closing),
                Cell::Money(self.per_member),
                Cell::Money(self.capital),
                Cell::Money(self.transactions_amount),
            ]],
        };
        vec![lines, summary]
    }
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "sale" => "销售",
        "refund" => "退款",
        "rebate" => "二次返利",
        _ => "分红",
    }
}
