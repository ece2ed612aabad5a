//! SPEC §2 `split(total, weights)`: largest-remainder apportionment in cents.

use crate::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("nothing to split among")]
    NoParts,
    #[error("weights must not be negative")]
    NegativeWeight,
    #[error("weights sum to zero")]
    ZeroTotalWeight,
}

/// Apportions `total` over `weights` (any non-negative integers in one unit: thousandths,
/// cents). Each part gets the floor of its exact share; the cents left go one each to the
/// largest remainders, ties to the larger weight, then to the earlier item. A negative total is
/// split as the mirror image of its absolute value. The parts always sum to `total`.
pub fn split(total: Money, weights: &[i64]) -> Result<Vec<Money>, SplitError> {
    if weights.is_empty() {
        return Err(SplitError::NoParts);
    }
    if weights.iter().any(|w| *w < 0) {
        return Err(SplitError::NegativeWeight);
    }
    let weight_sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if weight_sum == 0 {
        return Err(SplitError::ZeroTotalWeight);
    }
    let sign: i128 = if total.cents() < 0 { -1 } else { 1 };
    let amount = i128::from(total.cents()).abs();

    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, i64, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = amount * i128::from(*w);
        parts.push(exact / weight_sum);
        remainders.push((exact % weight_sum, *w, i));
    }
    let given: i128 = parts.iter().sum();
    let left = usize::try_from(amount - given).unwrap_or(0);
    // Largest remainder first; then larger weight; then earlier item.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    for (_, _, i) in remainders.iter().take(left) {
        parts[*i] += 1;
    }
    let result: Vec<Money> = parts
        .into_iter()
        // Each part is at most |total|, so it fits in i64.
        .map(|p| Money::from_cents((sign * p) as i64))
        .collect();
    debug_assert_eq!(result.iter().map(|m| i128::from(m.cents())).sum::<i128>(), i128::from(total.cents()));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cents(v: &[Money]) -> Vec<i64> {
        v.iter().map(|m| m.cents()).collect()
    }

    #[test]
    fn worked_example_splits() {
        // SPEC §7 order 2: G 1520.00 over 90 kg and 5 kg.
        let g = split(Money::from_cents(152_000), &[90_000, 5_000]).unwrap();
        assert_eq!(cents(&g), vec![144_000, 8_000]);
        // Rebate 95.37 by basis 1528.00 / 76.00.
        let t = split(Money::from_cents(9537), &[152_800, 7_600]).unwrap();
        assert_eq!(cents(&t), vec![9085, 452]);
        // Dividends 63.57 by capital 60000 / 30000 / 10000.
        let d = split(Money::from_cents(6357), &[6_000_000, 3_000_000, 1_000_000]).unwrap();
        assert_eq!(cents(&d), vec![3814, 1907, 636]);
    }

    #[test]
    fn ties_go_to_larger_weight_then_earlier_item() {
        assert_eq!(cents(&split(Money::from_cents(1), &[1, 1]).unwrap()), vec![1, 0]);
        assert_eq!(cents(&split(Money::from_cents(2), &[1, 1, 1]).unwrap()), vec![1, 1, 0]);
        // 10 over 1:2 gives 3.33 / 6.66: remainders 1 and 2 of 3, so the larger weight wins.
        assert_eq!(cents(&split(Money::from_cents(10), &[1, 2]).unwrap()), vec![3, 7]);
        // Equal remainders (0.5 each), unequal weights: 5 over 1:3 → 1.25/3.75 → remainders .25/.75.
        assert_eq!(cents(&split(Money::from_cents(5), &[1, 3]).unwrap()), vec![1, 4]);
        // 3 over 1:1:2 → 0.75/0.75/1.5: the two .75s win, the earlier first.
        assert_eq!(cents(&split(Money::from_cents(3), &[1, 1, 2]).unwrap()), vec![1, 1, 1]);
        assert_eq!(cents(&split(Money::from_cents(-3), &[1, 1, 2]).unwrap()), vec![-1, -1, -1]);
    }

    #[test]
    fn rejects_degenerate_weights() {
        assert_eq!(split(Money::from_cents(1), &[]), Err(SplitError::NoParts));
        assert_eq!(split(Money::from_cents(1), &[0, 0]), Err(SplitError::ZeroTotalWeight));
        assert_eq!(split(Money::from_cents(1), &[-1, 2]), Err(SplitError::NegativeWeight));
    }

    proptest! {
        #[test]
        fn parts_sum_to_total_and_stay_within_a_cent_of_exact(
            total in -10_000_000_000i64..10_000_000_000,
            weights in prop::collection::vec(0i64..1_000_000_000, 1..20),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let parts = split(Money::from_cents(total), &weights).unwrap();
            prop_assert_eq!(parts.iter().map(|m| m.cents()).sum::<i64>(), total);
            let wsum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            for (p, w) in parts.iter().zip(&weights) {
                let exact_floor = i128::from(total).abs() * i128::from(*w) / wsum;
                let got = i128::from(p.cents()).abs();
                prop_assert!(got == exact_floor || got == exact_floor + 1);
                if *w == 0 { prop_assert_eq!(p.cents(), 0); }
            }
        }
    }
}
