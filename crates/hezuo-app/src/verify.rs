//! `hezuo verify`: re-checks on a live database the rules the code and the schema already
//! enforce, so that damage from outside (manual SQL, a bad restore) is found. Grows with
//! every invariant of SPEC §8.

use crate::auth::Role;
use crate::{App, AppError};
use hezuo_db::entities::{cooperative_member, lot, rule_version, stock_movement, token, user, village};
use hezuo_db::sea_orm::EntityTrait;
use hezuo_ledger::RuleSet;

/// One named check and what it found wrong.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.problems.is_empty())
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in &self.checks {
            if c.problems.is_empty() {
                writeln!(f, "ok    {}", c.name)?;
            } else {
                writeln!(f, "FAIL  {} ({} problems)", c.name, c.problems.len())?;
                for p in c.problems.iter().take(20) {
                    writeln!(f, "      - {p}")?;
                }
                if c.problems.len() > 20 {
                    writeln!(f, "      … and {} more", c.problems.len() - 20)?;
                }
            }
        }
        Ok(())
    }
}

fn scope_problem(kind: &str, id: i64, role: &str, a: Option<i64>, s: Option<i64>, v: Option<i64>) -> Option<String> {
    let ok = match Role::parse(role) {
        Some(Role::Admin) => a.is_none() && s.is_none() && v.is_none(),
        Some(Role::Alliance) => a.is_some() && s.is_none() && v.is_none(),
        Some(Role::Staff) => a.is_none() && s.is_some() && v.is_none(),
        Some(Role::Village) => a.is_none() && s.is_none() && v.is_some(),
        None => false,
    };
    (!ok).then(|| format!("{kind} {id}: role {role:?} with scope alliance={a:?} station={s:?} village={v:?}"))
}

pub async fn run(app: &App) -> Result<Report, AppError> {
    let mut checks = Vec::new();

    let pending = !hezuo_db::migrations_current(&app.db).await?;
    checks.push(Check {
        name: "schema: every migration applied",
        problems: if pending { vec!["migrations are pending: run `hezuo migrate`".into()] } else { vec![] },
    });

    let mut problems = Vec::new();
    for rv in rule_version::Entity::find().all(&app.db).await? {
        let rates = [rv.household_share, rv.station_fee_rate, rv.collective_rate, rv.reserve_rate, rv.rebate_rate]
            .map(hezuo_core::Rate::from_millionths);
        match rates {
            [Ok(household_share), Ok(station_fee_rate), Ok(collective_rate), Ok(reserve_rate), Ok(rebate_rate)] => {
                let set = RuleSet { household_share, station_fee_rate, collective_rate, reserve_rate, rebate_rate };
                if let Err(e) = set.validate() {
                    problems.push(format!("rule version {} of cooperative {}: {e}", rv.id, rv.cooperative_id));
                }
            }
            _ => problems.push(format!("rule version {}: a rate outside 0..1", rv.id)),
        }
    }
    checks.push(Check { name: "rules: every rule version within the distribution rules (docs/domain.md)", problems });

    let mut problems = Vec::new();
    for m in cooperative_member::Entity::find().all(&app.db).await? {
        if m.capital < 0 {
            problems.push(format!("member {}: negative capital", m.id));
        }
        if m.household_id.is_some() == m.village_id.is_some() {
            problems.push(format!("member {}: must be a household or a village, not both or neither", m.id));
        }
    }
    checks.push(Check { name: "members: capital >= 0, one kind each", problems });

    let mut problems = Vec::new();
    for v in village::Entity::find().all(&app.db).await? {
        if v.code.len() != 12 || !v.code.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("village {}: code {:?} is not 12 digits", v.id, v.code));
        }
        if v.income_target.is_some_and(|t| t < 0) {
            problems.push(format!("village {}: negative income target", v.id));
        }
    }
    checks.push(Check { name: "villages: 12-digit codes, targets >= 0", problems });

    let mut problems = Vec::new();
    for u in user::Entity::find().all(&app.db).await? {
        problems.extend(scope_problem("user", u.id, &u.role, u.alliance_id, u.station_id, u.village_id));
        if !u.password_hash.starts_with("$argon2") {
            problems.push(format!("user {}: password not stored as an argon2 hash", u.id));
        }
    }
    for t in token::Entity::find().all(&app.db).await? {
        problems.extend(scope_problem("token", t.id, &t.role, t.alliance_id, t.station_id, t.village_id));
        if t.token_hash.len() != 64 {
            problems.push(format!("token {}: not stored as a SHA-256 hash", t.id));
        }
    }
    checks.push(Check { name: "access: users and tokens scoped as their role needs", problems });

    checks.push(Check {
        name: "stock: every lot's remaining equals its journal recount, >= 0 (docs/domain.md, invariant 2)",
        problems: lot_balances(app).await?,
    });
    checks.push(Check {
        name: "ledger: every transaction's postings sum to zero (docs/domain.md, invariant 1)",
        problems: unbalanced(app).await?,
    });
    checks.push(Check {
        name: "ledger: every order line's channel postings equal −(G − refunded) (docs/domain.md, invariant 3)",
        problems: line_channels(app).await?,
    });
    checks.push(Check { name: "ledger: per-day account sums equal their postings", problems: day_sums(app).await? });
    checks.push(Check {
        name: "periods: nothing booked into a closed period after its close (docs/domain.md, invariant 4)",
        problems: closed_untouched(app).await?,
    });
    checks.push(Check {
        name: "periods: every close paid R + rebates + dividends = B and at least rebate_rate × D (docs/domain.md, invariant 5)",
        problems: closes_add_up(app).await?,
    });
    checks
        .push(Check { name: "periods: households' per-day bases equal their lot parts", problems: bases(app).await? });
    checks.push(Check {
        name: "reports: village month and year sums equal the collectives' postings, income entries their months",
        problems: village_sums(app).await?,
    });
    checks.push(Check {
        name: "reports: station sales sums equal the orders, refunds and fee postings",
        problems: sales_sums(app).await?,
    });
    checks.push(Check {
        name: "reports: every lot part carries its order's booking date",
        problems: part_dates(app).await?,
    });

    Ok(Report { checks })
}

/// docs/domain.md "Invariants", lot by lot, reading the journal in one pass ordered by lot.
async fn lot_balances(app: &App) -> Result<Vec<String>, AppError> {
    use hezuo_catalog::{MovementKind, lot_balance_problem};
    use hezuo_core::Quantity;
    use hezuo_db::sea_orm::{QueryOrder, QuerySelect};
    use std::collections::HashMap;

    let mut journal: HashMap<i64, Vec<(MovementKind, Quantity)>> = HashMap::new();
    let mut problems = Vec::new();
    let rows: Vec<(i64, String, i64)> = stock_movement::Entity::find()
        .select_only()
        .column(stock_movement::Column::LotId)
        .column(stock_movement::Column::Kind)
        .column(stock_movement::Column::Quantity)
        .order_by_asc(stock_movement::Column::Id)
        .into_tuple()
        .all(&app.db)
        .await?;
    for (lot_id, kind, q) in rows {
        match MovementKind::parse(&kind) {
            Some(k) => journal.entry(lot_id).or_default().push((k, Quantity::from_thousandths(q))),
            None => problems.push(format!("lot {lot_id}: movement of unknown kind {kind:?}")),
        }
    }
    let lots: Vec<(i64, i64, i64)> = lot::Entity::find()
        .select_only()
        .column(lot::Column::Id)
        .column(lot::Column::Received)
        .column(lot::Column::Remaining)
        .into_tuple()
        .all(&app.db)
        .await?;
    for (id, received, remaining) in lots {
        let moves = journal.remove(&id).unwrap_or_default();
        if let Some(p) =
            lot_balance_problem(Quantity::from_thousandths(received), Quantity::from_thousandths(remaining), &moves)
        {
            problems.push(format!("lot {id}: {p}"));
        }
    }
    for lot_id in journal.keys() {
        problems.push(format!("movements for lot {lot_id}, which does not exist"));
    }
    Ok(problems)
}

async fn rows(app: &App, sql: &str) -> Result<Vec<hezuo_db::sea_orm::QueryResult>, AppError> {
    use hezuo_db::sea_orm::{ConnectionTrait, Statement};
    Ok(app.db.query_all_raw(Statement::from_string(app.db.get_database_backend(), sql.to_owned())).await?)
}

fn get_i64(r: &hezuo_db::sea_orm::QueryResult, col: &str) -> Result<i64, AppError> {
    r.try_get::<i64>("", col).map_err(AppError::from)
}

/// Member accounts select a household's parts by the date on the part.
async fn part_dates(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT p.id AS id, p.order_id AS order_id FROM order_parts p JOIN orders o ON o.id = p.order_id \
         WHERE p.booking_date <> o.booking_date",
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(format!(
                "order part {} has another booking date than order {}",
                get_i64(r, "id")?,
                get_i64(r, "order_id")?
            ))
        })
        .collect()
}

/// docs/domain.md "Invariants".
async fn unbalanced(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(app, "SELECT transaction_id, CAST(SUM(amount) AS BIGINT) AS s FROM postings GROUP BY transaction_id HAVING SUM(amount) <> 0").await?;
    found
        .iter()
        .map(|r| Ok(format!("transaction {} sums to {} cents", get_i64(r, "transaction_id")?, get_i64(r, "s")?)))
        .collect()
}

/// docs/domain.md "Invariants".
async fn line_channels(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT l.id AS id, l.gross - l.refunded AS expected, \
         CAST(COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.line_id = l.id AND p.account LIKE 'channel:%'), 0) AS BIGINT) AS booked \
         FROM order_lines l",
    )
    .await?;
    let mut problems = Vec::new();
    for r in found {
        let (id, expected, booked) = (get_i64(&r, "id")?, get_i64(&r, "expected")?, get_i64(&r, "booked")?);
        if booked != -expected {
            problems.push(format!("order line {id}: channel postings {booked} cents, expected {}", -expected));
        }
    }
    Ok(problems)
}

/// The per-day sums that balances are read from agree with the postings.
async fn day_sums(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT d.alliance_id AS alliance_id, d.account AS account, d.amount AS amount, \
         CAST(COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.alliance_id = d.alliance_id AND p.account = d.account \
                        AND p.booking_date = d.day), 0) AS BIGINT) AS posted \
         FROM (SELECT alliance_id, account, day, CAST(SUM(amount) AS BIGINT) AS amount FROM account_days \
               GROUP BY alliance_id, account, day) d",
    )
    .await?;
    let mut problems = Vec::new();
    for r in found {
        let (amount, posted) = (get_i64(&r, "amount")?, get_i64(&r, "posted")?);
        if amount != posted {
            let account: String = r.try_get("", "account").map_err(AppError::from)?;
            problems.push(format!(
                "{account} (alliance {}): day sum {amount} ≠ postings {posted}",
                get_i64(&r, "alliance_id")?
            ));
        }
    }
    let missing = rows(
        app,
        "SELECT COUNT(*) AS n FROM (SELECT DISTINCT alliance_id, account, booking_date FROM postings) p \
         WHERE NOT EXISTS (SELECT 1 FROM account_days d WHERE d.alliance_id = p.alliance_id AND d.account = p.account AND d.day = p.booking_date)",
    )
    .await?;
    if let Some(r) = missing.first() {
        let n = get_i64(r, "n")?;
        if n > 0 {
            problems.push(format!("{n} account-days with postings have no sum"));
        }
    }
    Ok(problems)
}

/// docs/domain.md "Invariants", and each cooperative's last closed day is that of its latest close.
async fn closed_untouched(app: &App) -> Result<Vec<String>, AppError> {
    let mut problems = Vec::new();
    for r in rows(
        app,
        "SELECT c.cooperative_id AS cooperative_id, c.period AS period, COUNT(t.id) AS n FROM period_closes c \
         JOIN ledger_transactions t ON t.cooperative_id = c.cooperative_id AND t.booking_date <= c.last_day \
         AND t.id > c.transaction_id GROUP BY c.cooperative_id, c.period",
    )
    .await?
    {
        let period: String = r.try_get("", "period").map_err(AppError::from)?;
        problems.push(format!(
            "cooperative {} period {period}: {} transactions booked into it after its close",
            get_i64(&r, "cooperative_id")?,
            get_i64(&r, "n")?
        ));
    }
    for r in rows(
        app,
        "SELECT co.id AS id FROM cooperatives co WHERE co.closed_through IS DISTINCT FROM \
         (SELECT MAX(c.last_day) FROM period_closes c WHERE c.cooperative_id = co.id)",
    )
    .await?
    {
        problems.push(format!("cooperative {}: closed_through differs from its latest close", get_i64(&r, "id")?));
    }
    Ok(problems)
}

/// docs/domain.md "Invariants": the kept close adds up, its lines sum to its totals, its postings take exactly `B`
/// out of the pool, and households got at least `rebate_rate × D` when anyone had a basis.
async fn closes_add_up(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT c.id AS id, c.cooperative_id AS coop, c.pool AS pool, c.reserve AS reserve, \
         c.distributable AS d, c.rebate_total AS t, c.dividend_total AS dt, r.rebate_rate AS rate, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM period_close_lines l WHERE l.close_id = c.id AND l.kind = 'rebate'), 0) AS BIGINT) AS rebates, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM period_close_lines l WHERE l.close_id = c.id AND l.kind = 'dividend'), 0) AS BIGINT) AS dividends, \
         (SELECT COUNT(*) FROM period_close_lines l WHERE l.close_id = c.id AND l.kind = 'rebate' AND l.weight > 0) AS based, \
         CAST(COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.transaction_id = c.transaction_id \
             AND p.account = 'coop:' || CAST(c.cooperative_id AS TEXT) || ':pool'), 0) AS BIGINT) AS taken \
         FROM period_closes c JOIN rule_versions r ON r.id = c.rule_version_id",
    )
    .await?;
    let mut problems = Vec::new();
    for r in found {
        let id = get_i64(&r, "id")?;
        let (pool, reserve, d, t, dt) =
            (get_i64(&r, "pool")?, get_i64(&r, "reserve")?, get_i64(&r, "d")?, get_i64(&r, "t")?, get_i64(&r, "dt")?);
        let (rebates, dividends, based, taken) =
            (get_i64(&r, "rebates")?, get_i64(&r, "dividends")?, get_i64(&r, "based")?, get_i64(&r, "taken")?);
        let paid = if pool > 0 { pool } else { 0 };
        if i128::from(reserve) + i128::from(t) + i128::from(dt) != i128::from(paid) {
            problems.push(format!("close {id}: R {reserve} + rebates {t} + dividends {dt} ≠ B {paid} (cents)"));
        }
        if rebates != t || dividends != dt {
            problems.push(format!("close {id}: lines pay {rebates}/{dividends} cents, totals say {t}/{dt}"));
        }
        if taken != -paid {
            problems.push(format!("close {id}: took {} cents from the pool, B is {paid}", -taken));
        }
        if based > 0 && i128::from(t) * 1_000_000 < i128::from(get_i64(&r, "rate")?) * i128::from(d) {
            problems.push(format!("close {id}: rebates {t} cents are below rebate_rate × D"));
        }
    }
    Ok(problems)
}

/// Σ of a household's per-day bases = Σ of its parts' net less what refunds took back.
async fn bases(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT coop, household, CAST(SUM(kept) AS BIGINT) AS kept, CAST(SUM(parts) AS BIGINT) AS parts FROM ( \
           SELECT cooperative_id AS coop, household_id AS household, amount AS kept, 0 AS parts FROM basis_days \
           UNION ALL \
           SELECT o.cooperative_id, p.household_id, 0, p.gross - p.fee - p.refunded_gross + p.refunded_fee \
           FROM order_parts p JOIN orders o ON o.id = p.order_id \
         ) b GROUP BY coop, household HAVING SUM(kept) <> SUM(parts)",
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(format!(
                "cooperative {} household {}: bases {} cents, parts {} cents",
                get_i64(r, "coop")?,
                get_i64(r, "household")?,
                get_i64(r, "kept")?,
                get_i64(r, "parts")?
            ))
        })
        .collect()
}

/// `village_sums` (months and years) against the postings on `village:{id}` (closes apart), and every income
/// entry's months against its amount.
async fn village_sums(app: &App) -> Result<Vec<String>, AppError> {
    use std::collections::BTreeMap;
    let mut want: BTreeMap<(i64, chrono::NaiveDate), (i64, i64)> = BTreeMap::new();
    for r in rows(
        app,
        "SELECT account, booking_date, CAST(SUM(CASE WHEN alliance_id <> 0 THEN amount ELSE 0 END) AS BIGINT) AS sales, \
         CAST(SUM(CASE WHEN alliance_id = 0 THEN amount ELSE 0 END) AS BIGINT) AS dividends \
         FROM postings WHERE account LIKE 'village:%' GROUP BY account, booking_date",
    )
    .await?
    {
        let account: String = r.try_get("", "account").map_err(AppError::from)?;
        let day: chrono::NaiveDate = r.try_get("", "booking_date").map_err(AppError::from)?;
        let village = crate::ledger::village_of(&account).ok_or(AppError::Internal(format!("account {account}")))?;
        let w = want.entry((village, crate::periods::Period::of(day).first_day())).or_default();
        w.0 += get_i64(&r, "sales")?;
        w.1 += get_i64(&r, "dividends")?;
    }
    let mut kept: BTreeMap<(i64, chrono::NaiveDate), (i64, i64)> = BTreeMap::new();
    let mut years: BTreeMap<(i64, i32), (i64, i64)> = BTreeMap::new();
    for r in rows(
        app,
        "SELECT village_id, span, period_start, CAST(SUM(sales) AS BIGINT) AS sales, CAST(SUM(dividends) AS BIGINT) AS dividends \
         FROM village_sums GROUP BY village_id, span, period_start",
    )
    .await?
    {
        let start: chrono::NaiveDate = r.try_get("", "period_start").map_err(AppError::from)?;
        let span: String = r.try_get("", "span").map_err(AppError::from)?;
        let v = (get_i64(&r, "sales")?, get_i64(&r, "dividends")?);
        if span == crate::ledger::SPAN_YEAR {
            years.insert((get_i64(&r, "village_id")?, chrono::Datelike::year(&start)), v);
        } else {
            kept.insert((get_i64(&r, "village_id")?, start), v);
        }
    }
    // The year rows are the sums of their months.
    let mut want_years: BTreeMap<(i64, i32), (i64, i64)> = BTreeMap::new();
    for ((village, month), (s, d)) in &want {
        let y = want_years.entry((*village, chrono::Datelike::year(month))).or_default();
        y.0 += s;
        y.1 += d;
    }
    want_years.retain(|_, v| *v != (0, 0));
    years.retain(|_, v| *v != (0, 0));
    let mut problems = Vec::new();
    for (key, w) in &want {
        let k = kept.get(key).copied().unwrap_or_default();
        if k != *w {
            problems.push(format!("village {} month {}: kept {k:?} (sales, dividends), postings {w:?}", key.0, key.1));
        }
    }
    for key in kept.keys().filter(|k| !want.contains_key(k)) {
        problems.push(format!("village {} month {}: a sum without postings", key.0, key.1));
    }
    if years != want_years {
        problems.push(format!("village year sums {years:?} differ from their postings {want_years:?}"));
    }
    for r in rows(
        app,
        "SELECT e.id AS id, e.amount AS amount, CAST(COALESCE(SUM(m.amount), 0) AS BIGINT) AS spread \
         FROM village_income e LEFT JOIN village_income_months m ON m.entry_id = e.id GROUP BY e.id, e.amount",
    )
    .await?
    {
        let (amount, spread) = (get_i64(&r, "amount")?, get_i64(&r, "spread")?);
        if amount != spread {
            problems.push(format!("income entry {}: amount {amount}, months {spread}", get_i64(&r, "id")?));
        }
    }
    Ok(problems)
}

/// `sales_days` per station against its order lines, refunds and fee postings.
async fn sales_sums(app: &App) -> Result<Vec<String>, AppError> {
    let found = rows(
        app,
        "SELECT s.id AS station_id, \
           CAST(COALESCE((SELECT SUM(d.orders) FROM sales_days d WHERE d.station_id = s.id), 0) AS BIGINT) AS kept_orders, \
           CAST(COALESCE((SELECT SUM(d.gross) FROM sales_days d WHERE d.station_id = s.id), 0) AS BIGINT) AS kept_gross, \
           CAST(COALESCE((SELECT SUM(d.quantity) FROM sales_days d WHERE d.station_id = s.id), 0) AS BIGINT) AS kept_quantity, \
           CAST(COALESCE((SELECT SUM(d.fee) FROM sales_days d WHERE d.station_id = s.id), 0) AS BIGINT) AS kept_fee, \
           CAST(COALESCE((SELECT SUM(d.refunded) FROM sales_days d WHERE d.station_id = s.id), 0) AS BIGINT) AS kept_refunded, \
           CAST((SELECT COUNT(*) FROM orders o WHERE o.station_id = s.id) AS BIGINT) AS orders, \
           CAST(COALESCE((SELECT SUM(o.gross) FROM orders o WHERE o.station_id = s.id), 0) AS BIGINT) AS gross, \
           CAST(COALESCE((SELECT SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.station_id = s.id), 0) AS BIGINT) AS quantity, \
           CAST(COALESCE((SELECT SUM(p.amount) FROM postings p JOIN ledger_transactions t ON t.id = p.transaction_id \
                JOIN orders o ON o.id = t.order_id WHERE o.station_id = s.id AND p.account LIKE 'fees:channel:%'), 0) AS BIGINT) AS fee, \
           CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.station_id = s.id), 0) AS BIGINT) AS refunded \
         FROM stations s",
    )
    .await?;
    let mut problems = Vec::new();
    for r in found {
        for what in ["orders", "gross", "quantity", "fee", "refunded"] {
            let (kept, want) = (get_i64(&r, &format!("kept_{what}"))?, get_i64(&r, what)?);
            if kept != want {
                problems.push(format!("station {}: {what} kept {kept}, booked {want}", get_i64(&r, "station_id")?));
            }
        }
    }
    Ok(problems)
}
