use crate::decimal::{deserialize_text, format_scaled, from_scaled, parse_decimal, to_scaled};
use crate::{Overflow, ParseError};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt;

/// An amount of CNY in cents. Signed: ledger postings and balances go both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);
    const SCALE: u32 = 2;

    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Exact parse of `"12.30"`; more than two decimals is an error, never a rounding.
    pub fn parse(text: &str) -> Result<Money, ParseError> {
        Money::from_decimal(parse_decimal(text)?)
    }

    pub fn from_decimal(value: Decimal) -> Result<Money, ParseError> {
        to_scaled(value, Self::SCALE).map(Money)
    }

    pub fn to_decimal(self) -> Decimal {
        from_scaled(self.0, Self::SCALE)
    }

    /// docs/domain.md "Amounts" `round(x)`: to the cent, half away from zero (四舍五入).
    pub fn round(value: Decimal) -> Result<Money, Overflow> {
        let r = value.round_dp_with_strategy(Self::SCALE, RoundingStrategy::MidpointAwayFromZero);
        Money::from_decimal(r).map_err(|_| Overflow)
    }

    /// Rounds up to the cent (towards +∞), as docs/domain.md "Period close" does for the rebate total.
    pub fn ceil(value: Decimal) -> Result<Money, Overflow> {
        let r = value.round_dp_with_strategy(Self::SCALE, RoundingStrategy::ToPositiveInfinity);
        Money::from_decimal(r).map_err(|_| Overflow)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, Overflow> {
        self.0.checked_add(other.0).map(Money).ok_or(Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, Overflow> {
        self.0.checked_sub(other.0).map(Money).ok_or(Overflow)
    }

    pub fn checked_neg(self) -> Result<Money, Overflow> {
        self.0.checked_neg().map(Money).ok_or(Overflow)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_scaled(self.0, Self::SCALE, f)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let text = deserialize_text(d)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_and_refuses_extra_digits() {
        assert_eq!(Money::parse("12.30").unwrap().cents(), 1230);
        assert_eq!(Money::parse("0.10").unwrap().cents(), 10);
        assert_eq!(Money::parse("99999999.99").unwrap().cents(), 9_999_999_999);
        assert_eq!(Money::parse("-0.01").unwrap().cents(), -1);
        assert_eq!(Money::parse("7").unwrap().cents(), 700);
        assert_eq!(Money::parse("1.230").unwrap().cents(), 123);
        assert_eq!(Money::parse("0.001"), Err(ParseError::TooManyDecimals(2)));
        for bad in ["", "-", "1e3", "1,000", " 1", "1.", ".5", "abc", "1.2.3", "+1", "NaN"] {
            assert_eq!(Money::parse(bad), Err(ParseError::NotANumber), "{bad:?}");
        }
        assert_eq!(Money::parse("92233720368547758.08"), Err(ParseError::TooLarge));
        assert_eq!(Money::parse("1000000000000000000000000000000"), Err(ParseError::TooLarge));
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_cents(1230).to_string(), "12.30");
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(Money::ZERO.to_string(), "0.00");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(Money::round(d("957.6")).unwrap().cents(), 95760);
        assert_eq!(Money::round(d("0.005")).unwrap().cents(), 1);
        assert_eq!(Money::round(d("-0.005")).unwrap().cents(), -1);
        assert_eq!(Money::round(d("0.0049")).unwrap().cents(), 0);
        assert_eq!(Money::ceil(d("95.364")).unwrap().cents(), 9537);
        assert_eq!(Money::ceil(d("95.36")).unwrap().cents(), 9536);
    }

    #[test]
    fn json_strings_and_numbers_parse_exactly() {
        let m: Money = serde_json::from_str("\"0.10\"").unwrap();
        assert_eq!(m.cents(), 10);
        let m: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(m.cents(), 10);
        let m: Money = serde_json::from_str("99999999.99").unwrap();
        assert_eq!(m.cents(), 9_999_999_999);
        assert!(serde_json::from_str::<Money>("1.0000000000000001").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert_eq!(serde_json::to_string(&Money::from_cents(1230)).unwrap(), "\"12.30\"");
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(Money::from_cents(i64::MAX).checked_add(Money::from_cents(1)), Err(Overflow));
        assert_eq!(Money::from_cents(i64::MIN).checked_neg(), Err(Overflow));
    }
}
