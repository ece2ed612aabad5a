use crate::decimal::{deserialize_text, format_scaled, from_scaled, parse_decimal, to_scaled};
use crate::{Overflow, ParseError};
use rust_decimal::Decimal;
use std::fmt;

/// A quantity of a product's unit in thousandths (kg to the gram, 斤, boxes, pieces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    const SCALE: u32 = 3;

    pub const fn from_thousandths(units: i64) -> Quantity {
        Quantity(units)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    /// Exact parse of `"2.500"`; more than three decimals is an error, never a rounding.
    pub fn parse(text: &str) -> Result<Quantity, ParseError> {
        Quantity::from_decimal(parse_decimal(text)?)
    }

    pub fn from_decimal(value: Decimal) -> Result<Quantity, ParseError> {
        to_scaled(value, Self::SCALE).map(Quantity)
    }

    pub fn to_decimal(self) -> Decimal {
        from_scaled(self.0, Self::SCALE)
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, Overflow> {
        self.0.checked_add(other.0).map(Quantity).ok_or(Overflow)
    }

    pub fn checked_sub(self, other: Quantity) -> Result<Quantity, Overflow> {
        self.0.checked_sub(other.0).map(Quantity).ok_or(Overflow)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_scaled(self.0, Self::SCALE, f)
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        let text = deserialize_text(d)?;
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_thousandths_exactly() {
        assert_eq!(Quantity::parse("0.001").unwrap().thousandths(), 1);
        assert_eq!(Quantity::parse("2.5").unwrap().to_string(), "2.500");
        assert_eq!(Quantity::parse("0.0001"), Err(ParseError::TooManyDecimals(3)));
        let q: Quantity = serde_json::from_str("95").unwrap();
        assert_eq!(q.thousandths(), 95_000);
    }
}
