use crate::ParseError;
use crate::decimal::{deserialize_text, parse_decimal, to_scaled};
use rust_decimal::Decimal;
use std::fmt;

/// A rate between 0 and 1 inclusive (fee rates, rule shares), exact to six decimals (a
/// millionth, 0.0001 %). Stored as an integer count of millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(i64);

impl Rate {
    pub const ZERO: Rate = Rate(0);
    pub const ONE: Rate = Rate(1_000_000);
    const SCALE: u32 = 6;

    pub fn from_millionths(units: i64) -> Result<Rate, ParseError> {
        if (0..=Self::ONE.0).contains(&units) { Ok(Rate(units)) } else { Err(ParseError::OutOfUnitRange) }
    }

    pub const fn millionths(self) -> i64 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Rate, ParseError> {
        Rate::from_decimal(parse_decimal(text)?)
    }

    pub fn from_decimal(value: Decimal) -> Result<Rate, ParseError> {
        if value.is_sign_negative() && !value.is_zero() || value > Decimal::ONE {
            return Err(ParseError::OutOfUnitRange);
        }
        Rate::from_millionths(to_scaled(value, Self::SCALE)?)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, Self::SCALE)
    }
}

impl fmt::Display for Rate {
    /// Shortest exact form with at least two decimals: `0.05`, `0.60`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.to_decimal().normalize();
        let prec = d.scale().max(2) as usize;
        write!(f, "{d:.prec$}")
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let text = deserialize_text(d)?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_unit_range_only() {
        assert_eq!(Rate::parse("0.05").unwrap().millionths(), 50_000);
        assert_eq!(Rate::parse("1").unwrap(), Rate::ONE);
        assert_eq!(Rate::parse("0").unwrap(), Rate::ZERO);
        assert_eq!(Rate::parse("-0.01"), Err(ParseError::OutOfUnitRange));
        assert_eq!(Rate::parse("1.000001"), Err(ParseError::OutOfUnitRange));
        assert_eq!(Rate::parse("0.0000001"), Err(ParseError::TooManyDecimals(6)));
        assert_eq!(Rate::parse("0.6").unwrap().to_string(), "0.60");
        assert_eq!(Rate::parse("0.125").unwrap().to_string(), "0.125");
        assert_eq!(Rate::ZERO.to_string(), "0.00");
    }
}
