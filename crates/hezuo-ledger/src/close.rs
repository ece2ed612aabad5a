//! SPEC §6: closing a cooperative's period (二次返利) — reserve, rebates to households by basis,
//! dividends to members by capital.

use crate::RuleSet;
use hezuo_core::{Money, Overflow, split};

/// What a close distributes. `rebates` and `dividends` are aligned with the bases and capitals
/// the close was given (zero where nothing is paid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// `B`: the pool's balance up to the end of the period (negative: a deficit carried on).
    pub pool: Money,
    /// `R = round(reserve_rate × B)` (zero when `B <= 0`).
    pub reserve_share: Money,
    /// Everything credited to the reserve: `R`, plus `T` when nobody has a positive basis, plus
    /// `D − T` when there is no capital to divide it by.
    pub reserve: Money,
    /// `D = B − R`.
    pub distributable: Money,
    /// `T = ceil(rebate_rate × D)`, paid to households (zero when nobody has a positive basis).
    pub rebate_total: Money,
    /// `D − T` paid to members (zero when there is no capital).
    pub dividend_total: Money,
    pub rebates: Vec<Money>,
    pub dividends: Vec<Money>,
}

impl Distribution {
    /// Nothing distributed: the pool keeps its (non-positive) balance.
    fn nothing(pool: Money, households: usize, members: usize) -> Distribution {
        Distribution {
            pool,
            reserve_share: Money::ZERO,
            reserve: Money::ZERO,
            distributable: Money::ZERO,
            rebate_total: Money::ZERO,
            dividend_total: Money::ZERO,
            rebates: vec![Money::ZERO; households],
            dividends: vec![Money::ZERO; members],
        }
    }

    /// What leaves the pool: `B` after a positive close, nothing otherwise.
    pub fn paid_out(&self) -> Money {
        if self.pool.cents() > 0 { self.pool } else { Money::ZERO }
    }
}

/// Distributes pool balance `pool` (docs/domain.md "Period close" step 3). `bases` are the households' bases in the
/// period and `capitals` the members' capital contributions, each in join order (ties of the
/// largest-remainder split go to the earlier one). Non-positive bases get no rebate; negative
/// capitals are treated as none.
pub fn distribute(pool: Money, rules: &RuleSet, bases: &[Money], capitals: &[Money]) -> Result<Distribution, Overflow> {
    if pool.cents() <= 0 {
        return Ok(Distribution::nothing(pool, bases.len(), capitals.len()));
    }
    let reserve_share = Money::round(rules.reserve_rate.to_decimal() * pool.to_decimal())?;
    let distributable = pool.checked_sub(reserve_share)?;
    let mut reserve = reserve_share;

    let weights: Vec<i64> = bases.iter().map(|b| b.cents().max(0)).collect();
    let t = Money::ceil(rules.rebate_rate.to_decimal() * distributable.to_decimal())?;
    let (rebate_total, rebates) = match split(t, &weights) {
        Ok(parts) => (t, parts),
        // Nobody with a positive basis: T goes to the reserve.
        Err(_) => {
            reserve = reserve.checked_add(t)?;
            (Money::ZERO, vec![Money::ZERO; bases.len()])
        }
    };

    let rest = distributable.checked_sub(t)?;
    let weights: Vec<i64> = capitals.iter().map(|c| c.cents().max(0)).collect();
    let (dividend_total, dividends) = match split(rest, &weights) {
        Ok(parts) => (rest, parts),
        // No members, or no capital: D − T goes to the reserve.
        Err(_) => {
            reserve = reserve.checked_add(rest)?;
            (Money::ZERO, vec![Money::ZERO; capitals.len()])
        }
    };
    Ok(Distribution { pool, reserve_share, reserve, distributable, rebate_total, dividend_total, rebates, dividends })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::tests::{r, spec_rules};
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn worked_example() {
        // SPEC §7 step 4: bases of H1 and H2; members village A, H1, H2.
        let d =
            distribute(m("176.60"), &spec_rules(), &[m("1528.00"), m("76.00")], &[m("60000"), m("30000"), m("10000")])
                .unwrap();
        assert_eq!(d.reserve_share, m("17.66"));
        assert_eq!(d.reserve, m("17.66"));
        assert_eq!(d.distributable, m("158.94"));
        assert_eq!(d.rebate_total, m("95.37"));
        assert_eq!(d.rebates, vec![m("90.85"), m("4.52")]);
        assert_eq!(d.dividend_total, m("63.57"));
        assert_eq!(d.dividends, vec![m("38.14"), m("19.07"), m("6.36")]);
        assert_eq!(d.paid_out(), m("176.60"));
    }

    #[test]
    fn deficit_is_carried() {
        let d = distribute(m("-12.34"), &spec_rules(), &[m("10")], &[m("1")]).unwrap();
        assert_eq!(d, Distribution::nothing(m("-12.34"), 1, 1));
        assert_eq!(d.paid_out(), Money::ZERO);
        let d = distribute(Money::ZERO, &spec_rules(), &[], &[]).unwrap();
        assert_eq!(d.reserve, Money::ZERO);
    }

    #[test]
    fn no_basis_and_no_members_go_to_the_reserve() {
        // B 100.00: R 10.00, D 90.00, T 54.00, D − T 36.00.
        let d = distribute(m("100.00"), &spec_rules(), &[Money::ZERO, m("-5")], &[m("10")]).unwrap();
        assert_eq!((d.reserve, d.rebate_total, d.dividend_total), (m("64.00"), Money::ZERO, m("36.00")));
        assert_eq!(d.rebates, vec![Money::ZERO, Money::ZERO]);
        assert_eq!(d.dividends, vec![m("36.00")]);
        let d = distribute(m("100.00"), &spec_rules(), &[m("3")], &[]).unwrap();
        assert_eq!((d.reserve, d.rebate_total, d.dividend_total), (m("46.00"), m("54.00"), Money::ZERO));
        let d = distribute(m("100.00"), &spec_rules(), &[], &[Money::ZERO]).unwrap();
        assert_eq!(d.reserve, m("100.00"));
    }

    #[test]
    fn rebate_rounds_up() {
        // D = 0.01 × … : T = ceil(0.60 × 0.09) = ceil(0.054) = 0.06.
        let rules = RuleSet { reserve_rate: r("0"), ..spec_rules() };
        let d = distribute(m("0.09"), &rules, &[m("1"), m("1")], &[m("1")]).unwrap();
        assert_eq!(d.rebate_total, m("0.06"));
        assert_eq!(d.rebates, vec![m("0.03"), m("0.03")]);
        assert_eq!(d.dividends, vec![m("0.03")]);
    }

    fn money(max: i64) -> impl Strategy<Value = Money> {
        (0..=max).prop_map(Money::from_cents)
    }

    proptest! {
        #[test]
        fn conserves_and_honours_the_floor(
            pool in -1_000_000i64..100_000_000,
            reserve in 0i64..=1_000_000,
            rebate in 600_000i64..=1_000_000,
            bases in prop::collection::vec((-50_000i64..1_000_000).prop_map(Money::from_cents), 0..8),
            capitals in prop::collection::vec(money(10_000_000), 0..6),
        ) {
            let rules = RuleSet {
                reserve_rate: hezuo_core::Rate::from_millionths(reserve).unwrap(),
                rebate_rate: hezuo_core::Rate::from_millionths(rebate).unwrap(),
                ..spec_rules()
            };
            let pool = Money::from_cents(pool);
            let d = distribute(pool, &rules, &bases, &capitals).unwrap();
            let sum = |v: &[Money]| v.iter().map(|x| x.cents()).sum::<i64>();
            prop_assert_eq!(sum(&d.rebates), d.rebate_total.cents());
            prop_assert_eq!(sum(&d.dividends), d.dividend_total.cents());
            if pool.cents() <= 0 {
                prop_assert_eq!(d.paid_out(), Money::ZERO);
                prop_assert_eq!(d.reserve, Money::ZERO);
            } else {
                // R + rebates + dividends = B (SPEC §8.5): the pool ends at zero.
                prop_assert_eq!(d.reserve.cents() + d.rebate_total.cents() + d.dividend_total.cents(), pool.cents());
                prop_assert_eq!(d.reserve_share.cents() + d.distributable.cents(), pool.cents());
                if bases.iter().any(|b| b.cents() > 0) {
                    // The legal floor: households get at least rebate_rate × D.
                    let floor = rules.rebate_rate.to_decimal() * d.distributable.to_decimal();
                    prop_assert!(d.rebate_total.to_decimal() >= floor);
                    prop_assert!(d.rebate_total.to_decimal() - floor < rust_decimal::Decimal::new(1, 2));
                }
            }
            for (b, x) in bases.iter().zip(&d.rebates) {
                if b.cents() <= 0 {
                    prop_assert_eq!(*x, Money::ZERO);
                }
                prop_assert!(x.cents() >= 0);
            }
        }
    }

    /// One month's sales and refunds: (household, quantity, floor, price, fee rate, refund %).
    type Month = Vec<(usize, i64, i64, i64, i64, i64)>;

    proptest! {
        /// Months of random sales and refunds through docs/domain.md "A sale", each closed through docs/domain.md "Period close":
        /// every account together always sums to zero, a positive close empties the pool, a
        /// deficit is carried and covered first, T = ceil(rebate_rate × D), and nobody whose
        /// basis is not positive gets a rebate.
        #[test]
        fn months_then_close(
            rules in crate::sale::tests::arb_rules(),
            capitals in prop::collection::vec(0i64..5_000_000, 0..5),
            months in prop::collection::vec(
                prop::collection::vec((0usize..4, 1i64..20_000, 0i64..3_000, 0i64..5_000, 0i64..200_000, 0i64..=100), 0..6),
                1..4,
            ),
        ) {
            use crate::sale::{Amounts, Draw, PartState, attribute_line, refund_line};
            use hezuo_core::{Quantity, Rate};
            let mut households = [0i64; 4];
            let mut members = vec![0i64; capitals.len()];
            let (mut pool, mut reserve, mut others) = (0i64, 0i64, 0i64);
            let capital: Vec<Money> = capitals.iter().map(|c| Money::from_cents(*c)).collect();
            let months: Vec<Month> = months;
            for month in &months {
                let mut basis = [0i64; 4];
                for &(h, qty, floor, price, fee, refund_pct) in month {
                    let q = Quantity::from_thousandths(qty);
                    let draw = Draw { quantity: q, floor_price: Money::from_cents(floor) };
                    let parts = attribute_line(q, Money::from_cents(price), Rate::from_millionths(fee).unwrap(), &rules, &[draw]).unwrap();
                    let p = parts[0];
                    let mut book = |a: &Amounts, sign: i64| {
                        households[h] += sign * a.household.cents();
                        pool += sign * a.pool.cents();
                        others += sign * (a.station.cents() + a.collective.cents() + a.fee.cents() - a.gross.cents());
                        basis[h] += sign * (a.gross.cents() - a.fee.cents());
                    };
                    book(&p, 1);
                    let a = p.gross.cents() * refund_pct / 100;
                    if a > 0 {
                        let back = refund_line(&[PartState { booked: p, refunded: Amounts::default() }], Money::from_cents(a)).unwrap();
                        book(&back[0], -1);
                    }
                }
                let before = pool;
                let bases: Vec<Money> = basis.iter().map(|b| Money::from_cents(*b)).collect();
                let d = distribute(Money::from_cents(pool), &rules, &bases, &capital).unwrap();
                pool -= d.paid_out().cents();
                reserve += d.reserve.cents();
                for (i, r) in d.rebates.iter().enumerate() {
                    households[i] += r.cents();
                    if basis[i] <= 0 {
                        prop_assert_eq!(r.cents(), 0);
                    }
                }
                for (i, x) in d.dividends.iter().enumerate() {
                    members[i] += x.cents();
                }
                let total = households.iter().sum::<i64>() + members.iter().sum::<i64>() + pool + reserve + others;
                prop_assert_eq!(total, 0, "money conserved");
                if before > 0 {
                    prop_assert_eq!(pool, 0);
                    if basis.iter().any(|b| *b > 0) {
                        let t = Money::ceil(rules.rebate_rate.to_decimal() * d.distributable.to_decimal()).unwrap();
                        prop_assert_eq!(d.rebate_total, t);
                    }
                } else {
                    // The deficit stays, to be covered by the next month's pool first.
                    prop_assert_eq!(pool, before);
                }
            }
        }
    }
}
