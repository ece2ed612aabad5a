//! The ledger as a plain-text journal that beancount (`bean-check`) and hledger
//! (`hledger check --strict`) accept: every account opened and the CNY commodity declared, one
//! transaction per ledger transaction in booking order with its ids as metadata, amounts with
//! two decimals, and after each period close a balance assertion for every account.

use crate::ledger::COOPERATIVE_WIDE;
use crate::{App, AppError, Principal};
use chrono::{Days, NaiveDate};
use hezuo_core::Money;
use hezuo_db::entities::{ledger_transaction as ltx, posting};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, Query};
use hezuo_db::sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use std::io::Write;

/// The journal dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Beancount,
    Hledger,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, AppError> {
        match s {
            "beancount" => Ok(Format::Beancount),
            "hledger" => Ok(Format::Hledger),
            _ => Err(AppError::invalid("format", "must be beancount or hledger")),
        }
    }
}

/// The journal name of a docs/domain.md "A sale" account. Components start with a capital letter; channel codes
/// (lowercase letters, digits, `-`, `_`) keep their letters and write `_` as `X`, so the mapping
/// is one to one:
///
/// | ledger account | journal account |
/// | --- | --- |
/// | `channel:{code}` | `Income:Channel:C{code}` |
/// | `fees:channel:{code}` | `Expenses:Fees:C{code}` |
/// | `household:{id}` | `Liabilities:Household:H{id}` |
/// | `station:{id}` | `Liabilities:Station:S{id}` |
/// | `village:{id}` | `Liabilities:Village:V{id}` |
/// | `coop:{id}:pool` / `coop:{id}:reserve` | `Equity:Coop:C{id}:Pool` / `Equity:Coop:C{id}:Reserve` |
pub fn journal_account(name: &str) -> Option<String> {
    let code = |c: &str| format!("C{}", c.replace('_', "X"));
    if let Some(c) = name.strip_prefix("fees:channel:") {
        return Some(format!("Expenses:Fees:{}", code(c)));
    }
    if let Some(c) = name.strip_prefix("channel:") {
        return Some(format!("Income:Channel:{}", code(c)));
    }
    if let Some(rest) = name.strip_prefix("coop:") {
        let (id, which) = rest.split_once(':')?;
        let which = match which {
            "pool" => "Pool",
            "reserve" => "Reserve",
            _ => return None,
        };
        return Some(format!("Equity:Coop:C{id}:{which}"));
    }
    let (kind, id) = name.split_once(':')?;
    let (group, letter) = match kind {
        "household" => ("Household", 'H'),
        "station" => ("Station", 'S'),
        "village" => ("Village", 'V'),
        _ => return None,
    };
    Some(format!("Liabilities:{group}:{letter}{id}"))
}

/// The ledger account of a journal account name (the inverse of [`journal_account`]).
pub fn ledger_account(journal: &str) -> Option<String> {
    let code = |c: &str| c.strip_prefix('C').map(|c| c.replace('X', "_"));
    let name = if let Some(c) = journal.strip_prefix("Income:Channel:") {
        format!("channel:{}", code(c)?)
    } else if let Some(c) = journal.strip_prefix("Expenses:Fees:") {
        format!("fees:channel:{}", code(c)?)
    } else if let Some(rest) = journal.strip_prefix("Equity:Coop:C") {
        let (id, which) = rest.split_once(':')?;
        format!("coop:{id}:{}", which.to_ascii_lowercase())
    } else {
        let rest = journal.strip_prefix("Liabilities:")?;
        let (group, id) = rest.split_once(':')?;
        let kind = match group {
            "Household" => "household",
            "Station" => "station",
            "Village" => "village",
            _ => return None,
        };
        format!("{kind}:{}", id.get(1..)?)
    };
    (journal_account(&name).as_deref() == Some(journal)).then_some(name)
}

/// Transactions per batch: the export reads the ledger in bounded slices.
const BATCH: u64 = 2_000;

impl App {
    /// The transactions an export covers: all for admins; for an alliance its own and the closes
    /// of the cooperatives its stations serve (each transaction whole, so the journal balances).
    fn export_scope(p: &Principal) -> Result<Condition, AppError> {
        match *p {
            Principal::Admin => Ok(Condition::all()),
            Principal::Alliance { alliance_id } => {
                Ok(Condition::any().add(Expr::col((ltx::Entity, ltx::Column::AllianceId)).eq(alliance_id)).add(
                    Expr::col((ltx::Entity, ltx::Column::AllianceId)).is_null().and(
                        Expr::col((ltx::Entity, ltx::Column::CooperativeId)).in_subquery(
                            Query::select()
                                .column("cooperative_id")
                                .from("stations")
                                .and_where(Expr::col("alliance_id").eq(alliance_id))
                                .to_owned(),
                        ),
                    ),
                ))
            }
            _ => Err(AppError::Forbidden),
        }
    }

    /// Writes the caller's ledger as a journal to `out`.
    pub async fn export_ledger(&self, p: &Principal, format: Format, out: &mut impl Write) -> Result<(), AppError> {
        let scope = Self::export_scope(p)?;
        let io = |e: std::io::Error| AppError::Internal(format!("writing the journal: {e}"));
        // Accounts and the day each is first used.
        let in_scope = Query::select().column(ltx::Column::Id).from(ltx::Entity).cond_where(scope.clone()).to_owned();
        let opened: Vec<(String, NaiveDate)> = posting::Entity::find()
            .select_only()
            .column(posting::Column::Account)
            .column_as(posting::Column::BookingDate.min(), "first")
            .filter(posting::Column::TransactionId.in_subquery(in_scope))
            .group_by(posting::Column::Account)
            .order_by(posting::Column::Account, Order::Asc)
            .into_tuple()
            .all(self.reader())
            .await?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (a, _) in &opened {
            let j = journal_account(a).ok_or_else(|| AppError::Internal(format!("unknown account {a}")))?;
            names.insert(a.clone(), j);
        }
        let first_day = opened.iter().map(|(_, d)| *d).min();

        match format {
            Format::Beancount => {
                writeln!(out, "; hezuo ledger (beancount)").map_err(io)?;
                writeln!(out, "option \"title\" \"hezuo ledger\"").map_err(io)?;
                writeln!(out, "option \"operating_currency\" \"CNY\"").map_err(io)?;
                writeln!(out, "option \"tolerance_multiplier\" \"0\"").map_err(io)?;
                if let Some(d) = first_day {
                    writeln!(out, "\n{d} commodity CNY").map_err(io)?;
                }
                for (a, d) in &opened {
                    writeln!(out, "{d} open {} CNY\n  name: \"{a}\"", names[a]).map_err(io)?;
                }
            }
            Format::Hledger => {
                writeln!(out, "; hezuo ledger (hledger)").map_err(io)?;
                writeln!(out, "commodity 1000.00 CNY").map_err(io)?;
                for (a, _) in &opened {
                    writeln!(out, "account {}  ; name: {a}", names[a]).map_err(io)?;
                }
            }
        }

        let mut balances: BTreeMap<&str, i64> = BTreeMap::new();
        let mut after: Option<(NaiveDate, i64)> = None;
        loop {
            let mut q = ltx::Entity::find().filter(scope.clone());
            if let Some((d, id)) = after {
                q = q.filter(
                    Condition::any()
                        .add(ltx::Column::BookingDate.gt(d))
                        .add(Condition::all().add(ltx::Column::BookingDate.eq(d)).add(ltx::Column::Id.gt(id))),
                );
            }
            let txs = q
                .order_by(ltx::Column::BookingDate, Order::Asc)
                .order_by(ltx::Column::Id, Order::Asc)
                .limit(BATCH)
                .all(self.reader())
                .await?;
            let Some(last) = txs.last() else { break };
            after = Some((last.booking_date, last.id));
            let ids: Vec<i64> = txs.iter().map(|t| t.id).collect();
            let mut postings: BTreeMap<i64, Vec<posting::Model>> = BTreeMap::new();
            for row in posting::Entity::find()
                .filter(posting::Column::TransactionId.is_in(ids))
                .order_by(posting::Column::Id, Order::Asc)
                .all(self.reader())
                .await?
            {
                postings.entry(row.transaction_id).or_default().push(row);
            }
            for t in &txs {
                let rows = postings.remove(&t.id).unwrap_or_default();
                write_transaction(out, format, t, &rows, &names).map_err(io)?;
                for r in &rows {
                    let (key, _) = names.get_key_value(&r.account).ok_or(AppError::Internal("account".into()))?;
                    let b = balances.entry(key.as_str()).or_default();
                    *b = b.checked_add(r.amount).ok_or(hezuo_core::Overflow)?;
                }
                if t.kind == "close" {
                    write_assertions(out, format, t.booking_date + Days::new(1), &balances, &names).map_err(io)?;
                }
            }
        }
        Ok(())
    }
}

fn write_transaction(
    out: &mut impl Write,
    format: Format,
    t: &ltx::Model,
    rows: &[posting::Model],
    names: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    // Descriptions are built from ids only: no client text reaches the journal's syntax.
    let about = match (t.kind.as_str(), t.order_id, t.refund_id) {
        ("sale", Some(o), _) => format!("sale of order {o}"),
        ("refund", Some(o), Some(r)) => format!("refund {r} of order {o}"),
        ("close", _, _) => format!("close of cooperative {} through {}", t.cooperative_id, t.booking_date),
        (k, _, _) => k.to_owned(),
    };
    let mut meta: Vec<(&str, String)> = vec![
        ("transaction_id", t.id.to_string()),
        ("kind", t.kind.clone()),
        ("cooperative_id", t.cooperative_id.to_string()),
    ];
    if let Some(a) = t.alliance_id.filter(|a| *a != COOPERATIVE_WIDE) {
        meta.push(("alliance_id", a.to_string()));
    }
    if let Some(o) = t.order_id {
        meta.push(("order_id", o.to_string()));
    }
    if let Some(r) = t.refund_id {
        meta.push(("refund_id", r.to_string()));
    }
    match format {
        Format::Beancount => {
            writeln!(out, "\n{} * \"{about}\"", t.booking_date)?;
            for (k, v) in &meta {
                writeln!(out, "  {k}: \"{v}\"")?;
            }
        }
        Format::Hledger => {
            let tags: Vec<String> = meta.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            writeln!(out, "\n{} * {about}  ; {}", t.booking_date, tags.join(", "))?;
        }
    }
    for r in rows {
        let account = names.get(&r.account).map_or("", String::as_str);
        writeln!(out, "  {account}  {} CNY", Money::from_cents(r.amount))?;
    }
    Ok(())
}

/// Every account's balance as it stands after a close, checked at the start of the next day
/// (beancount checks `balance` before that day's transactions; hledger checks a posting's
/// assertion in date order, and nothing is booked into a closed period afterwards).
fn write_assertions(
    out: &mut impl Write,
    format: Format,
    day: NaiveDate,
    balances: &BTreeMap<&str, i64>,
    names: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    if format == Format::Hledger {
        writeln!(out, "\n{day} balances after the close")?;
    }
    for (account, cents) in balances {
        let name = names.get(*account).map_or("", String::as_str);
        let amount = Money::from_cents(*cents);
        match format {
            Format::Beancount => writeln!(out, "{day} balance {name}  {amount} CNY")?,
            Format::Hledger => writeln!(out, "  {name}  0 CNY = {amount} CNY")?,
        }
    }
    if format == Format::Beancount {
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{journal_account, ledger_account};

    #[test]
    fn account_names() {
        let j = |a: &str| journal_account(a).unwrap();
        assert_eq!(j("channel:taobao"), "Income:Channel:Ctaobao");
        assert_eq!(j("channel:own_shop-2"), "Income:Channel:CownXshop-2");
        assert_eq!(j("fees:channel:pdd"), "Expenses:Fees:Cpdd");
        assert_eq!(j("household:12"), "Liabilities:Household:H12");
        assert_eq!(j("station:3"), "Liabilities:Station:S3");
        assert_eq!(j("village:7"), "Liabilities:Village:V7");
        assert_eq!(j("coop:4:pool"), "Equity:Coop:C4:Pool");
        assert_eq!(j("coop:4:reserve"), "Equity:Coop:C4:Reserve");
        assert_eq!(journal_account("coop:4:bank"), None);
        assert_eq!(journal_account("bank:1"), None);
        assert_ne!(j("channel:a_b"), j("channel:a-b"));
        for a in [
            "channel:own_shop-2",
            "fees:channel:a_b",
            "household:12",
            "station:3",
            "village:7",
            "coop:4:pool",
            "coop:4:reserve",
        ] {
            assert_eq!(ledger_account(&j(a)).as_deref(), Some(a));
        }
        for bad in [
            "Income:Channel:own",
            "Liabilities:Household:12",
            "Equity:Coop:C4:Bank",
            "Assets:Cash",
            "Liabilities:Farm:F1",
        ] {
            assert_eq!(ledger_account(bad), None, "{bad}");
        }
    }
}
