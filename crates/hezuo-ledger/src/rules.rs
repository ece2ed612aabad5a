//! SPEC §3: a cooperative's distribution rules (分配方案).

use hezuo_core::Rate;
use serde::{Deserialize, Serialize};

/// The five rates of a rule version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleSet {
    pub household_share: Rate,
    pub station_fee_rate: Rate,
    pub collective_rate: Rate,
    pub reserve_rate: Rate,
    pub rebate_rate: Rate,
}

/// A rule set outside docs/domain.md "Distribution rules"'s ranges, naming the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: &'static str,
    pub message: String,
}

/// 农民专业合作社法 art. 44: at least 60 % of distributable surplus returns by transactions.
const REBATE_FLOOR: i64 = 600_000;

impl RuleSet {
    /// Checks docs/domain.md "Distribution rules": every rate in 0..1 (the `Rate` type already guarantees it),
    /// `rebate_rate >= 0.60`, and the three sale shares summing to at most 1.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.rebate_rate.millionths() < REBATE_FLOOR {
            return Err(RuleError {
                field: "rebate_rate",
                message: "must be at least 0.60 (农民专业合作社法 art. 44)".into(),
            });
        }
        let shares =
            self.household_share.millionths() + self.station_fee_rate.millionths() + self.collective_rate.millionths();
        if shares > Rate::ONE.millionths() {
            return Err(RuleError {
                field: "household_share",
                message: "household_share + station_fee_rate + collective_rate must not exceed 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn r(s: &str) -> Rate {
        Rate::parse(s).unwrap()
    }

    /// The rules of docs/domain.md "Worked example"'s worked example.
    pub(crate) fn spec_rules() -> RuleSet {
        RuleSet {
            household_share: r("0.70"),
            station_fee_rate: r("0.05"),
            collective_rate: r("0.05"),
            reserve_rate: r("0.10"),
            rebate_rate: r("0.60"),
        }
    }

    #[test]
    fn spec_example_rules_are_valid() {
        assert_eq!(spec_rules().validate(), Ok(()));
        let full = RuleSet { household_share: r("0.90"), ..spec_rules() };
        assert_eq!(full.validate(), Ok(()));
    }

    #[test]
    fn rebate_floor_and_share_sum_are_enforced() {
        let low = RuleSet { rebate_rate: r("0.599999"), ..spec_rules() };
        assert_eq!(low.validate().unwrap_err().field, "rebate_rate");
        let over = RuleSet { household_share: r("0.900001"), ..spec_rules() };
        assert_eq!(over.validate().unwrap_err().field, "household_share");
    }
}
