//! SPEC §4 (a sale, per order line) and §5 (refunds): how every cent of a line is attributed
//! to the lots' households, the station, the village collectives, the platform fee and the
//! cooperative pool, and how a refund reverses it.

use crate::RuleSet;
use hezuo_core::{Money, Overflow, Quantity, Rate, split};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaleError {
    #[error("a line must draw on at least one lot")]
    NoLots,
    #[error("amount out of range")]
    Overflow,
    #[error("a line's gross must not be negative")]
    NegativeGross,
    #[error("refund amount must be more than 0 and at most {left} (what is left unrefunded)")]
    RefundAmount { left: Money },
}

impl From<Overflow> for SaleError {
    fn from(_: Overflow) -> Self {
        SaleError::Overflow
    }
}

impl From<hezuo_core::SplitError> for SaleError {
    fn from(_: hezuo_core::SplitError) -> Self {
        SaleError::NoLots
    }
}

/// What a line takes from one lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub quantity: Quantity,
    pub floor_price: Money,
}

/// The six amounts of a lot part (docs/domain.md "A sale"), or of its reversal (docs/domain.md "Refunds and cancellation").
/// `gross = fee + household + station + collective + pool` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Amounts {
    pub gross: Money,
    pub fee: Money,
    pub household: Money,
    pub station: Money,
    pub collective: Money,
    pub pool: Money,
}

impl Amounts {
    pub fn net(&self) -> Result<Money, Overflow> {
        self.gross.checked_sub(self.fee)
    }

    fn checked_sub(&self, o: &Amounts) -> Result<Amounts, Overflow> {
        Ok(Amounts {
            gross: self.gross.checked_sub(o.gross)?,
            fee: self.fee.checked_sub(o.fee)?,
            household: self.household.checked_sub(o.household)?,
            station: self.station.checked_sub(o.station)?,
            collective: self.collective.checked_sub(o.collective)?,
            pool: self.pool.checked_sub(o.pool)?,
        })
    }

    pub fn checked_add(&self, o: &Amounts) -> Result<Amounts, Overflow> {
        Ok(Amounts {
            gross: self.gross.checked_add(o.gross)?,
            fee: self.fee.checked_add(o.fee)?,
            household: self.household.checked_add(o.household)?,
            station: self.station.checked_add(o.station)?,
            collective: self.collective.checked_add(o.collective)?,
            pool: self.pool.checked_add(o.pool)?,
        })
    }

    /// `gross = fee + household + station + collective + pool`: the sale transaction balances.
    pub fn balanced(&self) -> bool {
        let parts = [self.fee, self.household, self.station, self.collective, self.pool];
        parts.iter().map(|m| i128::from(m.cents())).sum::<i128>() == i128::from(self.gross.cents())
    }
}

fn times(rate: Rate, amount: Money) -> Result<Money, Overflow> {
    Money::round(rate.to_decimal() * amount.to_decimal())
}

/// `G = round(qty × unit_price)`.
/// The household's share of a part's net by the rule, before the floor: `round(household_share × N)`.
/// The household was credited more exactly when the floor applied.
pub fn rule_share(rules: &RuleSet, net: Money) -> Result<Money, Overflow> {
    times(rules.household_share, net)
}

pub fn gross(quantity: Quantity, unit_price: Money) -> Result<Money, Overflow> {
    Money::round(quantity.to_decimal() * unit_price.to_decimal())
}

/// Attributes one order line over the lots it draws on (FIFO order), docs/domain.md "A sale".
pub fn attribute_line(
    quantity: Quantity,
    unit_price: Money,
    fee_rate: Rate,
    rules: &RuleSet,
    draws: &[Draw],
) -> Result<Vec<Amounts>, SaleError> {
    attribute_gross(gross(quantity, unit_price)?, fee_rate, rules, draws)
}

/// Attributes a line whose gross `g` is given as paid (a platform's line amount after
/// discounts) instead of computed from a unit price; everything after `G` is the same rule.
pub fn attribute_gross(g: Money, fee_rate: Rate, rules: &RuleSet, draws: &[Draw]) -> Result<Vec<Amounts>, SaleError> {
    if draws.is_empty() {
        return Err(SaleError::NoLots);
    }
    if g.is_negative() {
        return Err(SaleError::NegativeGross);
    }
    let f = times(fee_rate, g)?;
    let weights: Vec<i64> = draws.iter().map(|d| d.quantity.thousandths()).collect();
    let (gs, fs) = if draws.len() == 1 { (vec![g], vec![f]) } else { (split(g, &weights)?, split(f, &weights)?) };
    draws
        .iter()
        .zip(gs.into_iter().zip(fs))
        .map(|(d, (gi, fi))| {
            let n = gi.checked_sub(fi)?;
            let share = times(rules.household_share, n)?;
            let floor = Money::round(d.floor_price.to_decimal() * d.quantity.to_decimal())?;
            let h = share.max(floor);
            let s = times(rules.station_fee_rate, n)?;
            let k = times(rules.collective_rate, n)?;
            let c = n.checked_sub(h)?.checked_sub(s)?.checked_sub(k)?;
            Ok(Amounts { gross: gi, fee: fi, household: h, station: s, collective: k, pool: c })
        })
        .collect()
}

/// A lot part as booked, with what refunds have reversed of it so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartState {
    pub booked: Amounts,
    pub refunded: Amounts,
}

/// docs/domain.md "Refunds and cancellation": the reversal of each part for a refund of `amount` on a line. `amount` is split
/// over the parts by their unrefunded gross; a refund that brings a part's refunded gross to
/// its gross reverses exactly what is left of each component.
pub fn refund_line(parts: &[PartState], amount: Money) -> Result<Vec<Amounts>, SaleError> {
    let left: Vec<i64> = parts
        .iter()
        .map(|p| p.booked.gross.checked_sub(p.refunded.gross).map(Money::cents))
        .collect::<Result<_, _>>()?;
    let left_total = Money::from_cents(left.iter().sum());
    if amount.cents() <= 0 || amount > left_total {
        return Err(SaleError::RefundAmount { left: left_total });
    }
    let shares = split(amount, &left)?;
    parts
        .iter()
        .zip(shares)
        .map(|(p, a)| {
            if a == Money::ZERO {
                return Ok(Amounts::default());
            }
            if p.refunded.gross.checked_add(a)? == p.booked.gross {
                return Ok(p.booked.checked_sub(&p.refunded)?);
            }
            let g = p.booked.gross.to_decimal();
            let ratio = |x: Money| -> Result<Money, Overflow> { Money::round(x.to_decimal() * a.to_decimal() / g) };
            let f = ratio(p.booked.fee)?;
            let h = ratio(p.booked.household)?;
            let s = ratio(p.booked.station)?;
            let k = ratio(p.booked.collective)?;
            let c = a.checked_sub(f)?.checked_sub(h)?.checked_sub(s)?.checked_sub(k)?;
            Ok(Amounts { gross: a, fee: f, household: h, station: s, collective: k, pool: c })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rules::tests::{r, spec_rules};
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }
    fn amounts(g: &str, f: &str, h: &str, s: &str, k: &str, c: &str) -> Amounts {
        Amounts { gross: m(g), fee: m(f), household: m(h), station: m(s), collective: m(k), pool: m(c) }
    }

    #[test]
    fn a_line_paid_as_an_amount_is_attributed_from_that_gross() {
        let rules = spec_rules();
        let draws =
            [Draw { quantity: q("2"), floor_price: m("12.00") }, Draw { quantity: q("1"), floor_price: m("0") }];
        // 3 kg paid 47.41 after a discount (no unit price gives it): G split 2:1, F = round(5 % × G).
        let got = attribute_gross(m("47.41"), r("0.05"), &rules, &draws).unwrap();
        assert_eq!(
            got,
            vec![
                amounts("31.61", "1.58", "24.00", "1.50", "1.50", "3.03"),
                amounts("15.80", "0.79", "10.51", "0.75", "0.75", "3.00"),
            ]
        );
        assert!(got.iter().all(Amounts::balanced));
        assert_eq!(
            attribute_gross(gross(q("3"), m("15.80")).unwrap(), r("0.05"), &rules, &draws).unwrap(),
            attribute_line(q("3"), m("15.80"), r("0.05"), &rules, &draws).unwrap()
        );
        assert_eq!(attribute_gross(m("-0.01"), Rate::ZERO, &rules, &draws), Err(SaleError::NegativeGross));
    }

    #[test]
    fn worked_example_orders_and_refund() {
        let rules = spec_rules();
        // Order 1, own: 10 kg at 20.00 from L1 (floor 12.00).
        let o1 = attribute_line(
            q("10"),
            m("20.00"),
            Rate::ZERO,
            &rules,
            &[Draw { quantity: q("10"), floor_price: m("12.00") }],
        )
        .unwrap();
        assert_eq!(o1, vec![amounts("200.00", "0.00", "140.00", "10.00", "10.00", "40.00")]);
        // Order 2, taobao 5 %: 95 kg at 16.00, 90 kg from L1, 5 kg from L2 (floor 15.00).
        let o2 = attribute_line(
            q("95"),
            m("16.00"),
            r("0.05"),
            &rules,
            &[Draw { quantity: q("90"), floor_price: m("12.00") }, Draw { quantity: q("5"), floor_price: m("15.00") }],
        )
        .unwrap();
        assert_eq!(
            o2,
            vec![
                amounts("1440.00", "72.00", "1080.00", "68.40", "68.40", "151.20"),
                amounts("80.00", "4.00", "75.00", "3.80", "3.80", "-6.60")
            ]
        );
        // Refund on order 1: 40.00.
        let back = refund_line(&[PartState { booked: o1[0], refunded: Amounts::default() }], m("40.00")).unwrap();
        assert_eq!(back, vec![amounts("40.00", "0.00", "28.00", "2.00", "2.00", "8.00")]);
    }

    #[test]
    fn refunds_beyond_what_is_left_are_refused() {
        let o = attribute_line(
            q("1"),
            m("10"),
            Rate::ZERO,
            &spec_rules(),
            &[Draw { quantity: q("1"), floor_price: Money::ZERO }],
        )
        .unwrap();
        let state = [PartState { booked: o[0], refunded: Amounts::default() }];
        assert_eq!(refund_line(&state, m("10.01")), Err(SaleError::RefundAmount { left: m("10.00") }));
        assert_eq!(refund_line(&state, Money::ZERO), Err(SaleError::RefundAmount { left: m("10.00") }));
    }

    pub(crate) fn arb_rules() -> impl Strategy<Value = RuleSet> {
        (0i64..=1_000_000, 0i64..=1_000_000, 0i64..=1_000_000, 0i64..=1_000_000, 600_000i64..=1_000_000).prop_map(
            |(h, s, k, res, reb)| {
                // Scale the three shares into a sum of at most 1.
                let total = (h + s + k).max(1_000_000);
                let scale = |x: i64| Rate::from_millionths(x * 1_000_000 / total).unwrap();
                RuleSet {
                    household_share: scale(h),
                    station_fee_rate: scale(s),
                    collective_rate: scale(k),
                    reserve_rate: Rate::from_millionths(res).unwrap(),
                    rebate_rate: Rate::from_millionths(reb).unwrap(),
                }
            },
        )
    }

    proptest! {
        #[test]
        fn sales_balance_floors_hold_and_full_refunds_net_to_zero(
            rules in arb_rules(),
            fee in 0i64..=300_000,
            price in 0i64..=100_000,
            lots in prop::collection::vec((1i64..=50_000, 0i64..=20_000), 1..5),
            refunds in prop::collection::vec(1i64..=100, 0..6),
        ) {
            let draws: Vec<Draw> = lots.iter().map(|(qty, floor)| Draw { quantity: Quantity::from_thousandths(*qty), floor_price: Money::from_cents(*floor) }).collect();
            let total_q = Quantity::from_thousandths(lots.iter().map(|l| l.0).sum());
            let fee_rate = Rate::from_millionths(fee).unwrap();
            let parts = attribute_line(total_q, Money::from_cents(price), fee_rate, &rules, &draws).unwrap();
            let g = gross(total_q, Money::from_cents(price)).unwrap();
            prop_assert_eq!(parts.iter().map(|p| p.gross.cents()).sum::<i64>(), g.cents());
            let f = Money::round(fee_rate.to_decimal() * g.to_decimal()).unwrap();
            prop_assert_eq!(parts.iter().map(|p| p.fee.cents()).sum::<i64>(), f.cents());
            for (p, d) in parts.iter().zip(&draws) {
                prop_assert!(p.balanced());
                let floor = Money::round(d.floor_price.to_decimal() * d.quantity.to_decimal()).unwrap();
                prop_assert!(p.household >= floor, "floor honoured");
            }
            // A sequence of partial refunds, then the rest: every part nets to zero.
            let mut state: Vec<PartState> = parts.iter().map(|p| PartState { booked: *p, refunded: Amounts::default() }).collect();
            let left = |s: &[PartState]| s.iter().map(|p| p.booked.gross.cents() - p.refunded.gross.cents()).sum::<i64>();
            for pct in refunds.iter().chain(std::iter::once(&100)) {
                let l = left(&state);
                if l == 0 { break; }
                let a = Money::from_cents((l * pct / 100).max(1));
                let back = refund_line(&state, a).unwrap();
                prop_assert_eq!(back.iter().map(|b| b.gross.cents()).sum::<i64>(), a.cents());
                for (s, b) in state.iter_mut().zip(&back) {
                    prop_assert!(b.balanced());
                    s.refunded = s.refunded.checked_add(b).unwrap();
                }
            }
            for s in &state {
                prop_assert_eq!(s.refunded, s.booked, "a fully refunded part nets to zero on every account");
            }
        }
    }
}
