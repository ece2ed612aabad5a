//! Stock: the movement journal's kinds and adjustment reasons, and the lot balance rule of
//! SPEC §8.2 (`remaining = received + adjustments − drawn + restocked >= 0`).

use hezuo_core::Quantity;
use serde::{Deserialize, Serialize};

/// What changed a lot's remaining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Received from a household (positive).
    Intake,
    /// Drawn by an order line (negative).
    Sale,
    /// Returned to the lot by a refund with restock (positive).
    Restock,
    /// Spoilage, loss or a count correction (signed).
    Adjustment,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Intake => "intake",
            MovementKind::Sale => "sale",
            MovementKind::Restock => "restock",
            MovementKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<MovementKind> {
        match s {
            "intake" => Some(MovementKind::Intake),
            "sale" => Some(MovementKind::Sale),
            "restock" => Some(MovementKind::Restock),
            "adjustment" => Some(MovementKind::Adjustment),
            _ => None,
        }
    }
}

/// Why stock was adjusted by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// 损耗: produce that went bad.
    Spoilage,
    /// 丢失.
    Loss,
    /// 盘点更正: the count found more or less than the books.
    CountCorrection,
}

impl AdjustmentReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentReason::Spoilage => "spoilage",
            AdjustmentReason::Loss => "loss",
            AdjustmentReason::CountCorrection => "count_correction",
        }
    }
}

/// Recounts a lot from its journal: the sum of every movement's signed quantity.
pub fn recount(movements: impl IntoIterator<Item = Quantity>) -> Option<Quantity> {
    movements.into_iter().try_fold(Quantity::ZERO, |acc, q| acc.checked_add(q).ok())
}

/// Why a lot does not balance, if it does not.
pub fn lot_balance_problem(
    received: Quantity,
    remaining: Quantity,
    journal: &[(MovementKind, Quantity)],
) -> Option<String> {
    let intake: Vec<Quantity> = journal.iter().filter(|(k, _)| *k == MovementKind::Intake).map(|(_, q)| *q).collect();
    if intake != [received] {
        return Some(format!("intake movements {intake:?} do not equal received {received}"));
    }
    match recount(journal.iter().map(|(_, q)| *q)) {
        None => Some("journal overflows".into()),
        Some(sum) if sum != remaining => Some(format!("journal recount {sum} differs from remaining {remaining}")),
        Some(_) if remaining.thousandths() < 0 => Some(format!("remaining {remaining} is negative")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(t: i64) -> Quantity {
        Quantity::from_thousandths(t)
    }

    #[test]
    fn balanced_and_unbalanced_lots() {
        let journal =
            [(MovementKind::Intake, q(100_000)), (MovementKind::Sale, q(-30_000)), (MovementKind::Adjustment, q(-500))];
        assert_eq!(lot_balance_problem(q(100_000), q(69_500), &journal), None);
        assert!(lot_balance_problem(q(100_000), q(70_000), &journal).is_some());
        assert!(lot_balance_problem(q(90_000), q(59_500), &journal).is_some());
    }
}

/// The most lots one order line may draw on: an order of a line over more lots is refused
/// (422 `too_many_lots`), so that no single order holds the database for long.
pub const MAX_LOT_PARTS_PER_LINE: usize = 1_000;

/// docs/domain.md "A sale" draw: takes `need` from lots given in FIFO order with what each has left, oldest
/// first. `Err(available)` when the lots cannot fill it whole; the draw then changes nothing.
pub fn fifo_draw(lots: &[(i64, Quantity)], need: Quantity) -> Result<Vec<(i64, Quantity)>, Quantity> {
    let mut left = need.thousandths();
    let mut draws = Vec::new();
    for (id, have) in lots {
        if left == 0 {
            break;
        }
        let take = std::cmp::min(have.thousandths().max(0), left);
        if take > 0 {
            draws.push((*id, Quantity::from_thousandths(take)));
            left -= take;
        }
    }
    if left > 0 {
        let available = lots.iter().map(|(_, q)| q.thousandths().max(0)).sum();
        return Err(Quantity::from_thousandths(available));
    }
    Ok(draws)
}

#[cfg(test)]
mod draw_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn draws_oldest_first() {
        let q = Quantity::from_thousandths;
        assert_eq!(fifo_draw(&[(1, q(100_000)), (2, q(50_000))], q(95_000)), Ok(vec![(1, q(95_000))]));
        assert_eq!(fifo_draw(&[(1, q(10_000)), (2, q(50_000))], q(15_000)), Ok(vec![(1, q(10_000)), (2, q(5_000))]));
        assert_eq!(fifo_draw(&[(1, q(10_000))], q(10_001)), Err(q(10_000)));
    }

    proptest! {
        #[test]
        fn never_takes_more_than_a_lot_has_and_fills_exactly(
            lots in prop::collection::vec(0i64..100_000, 0..8),
            need in 1i64..400_000,
        ) {
            let lots: Vec<(i64, Quantity)> = lots.iter().enumerate().map(|(i, q)| (i as i64, Quantity::from_thousandths(*q))).collect();
            let total: i64 = lots.iter().map(|l| l.1.thousandths()).sum();
            match fifo_draw(&lots, Quantity::from_thousandths(need)) {
                Ok(draws) => {
                    prop_assert_eq!(draws.iter().map(|d| d.1.thousandths()).sum::<i64>(), need);
                    for (id, take) in &draws {
                        prop_assert!(take.thousandths() > 0 && *take <= lots[*id as usize].1);
                    }
                    // Only the last lot drawn may keep anything: FIFO.
                    for (id, take) in draws.iter().take(draws.len().saturating_sub(1)) {
                        prop_assert_eq!(*take, lots[*id as usize].1);
                    }
                }
                Err(available) => {
                    prop_assert!(total < need);
                    prop_assert_eq!(available.thousandths(), total);
                }
            }
        }
    }
}
