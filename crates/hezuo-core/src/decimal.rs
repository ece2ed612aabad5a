//! Exact parsing of decimal text into fixed-point integers, shared by money, quantities and rates.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Why a text or JSON value is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a decimal number")]
    NotANumber,
    #[error("at most {0} decimal places are allowed")]
    TooManyDecimals(u32),
    #[error("value is too large")]
    TooLarge,
    #[error("must not be negative")]
    Negative,
    #[error("must be between 0 and 1")]
    OutOfUnitRange,
}

/// Parses plain decimal text (`"12.30"`, `"-1"`, `"0.001"`) exactly. Exponents, signs in odd
/// places, spaces and thousands separators are rejected rather than guessed at.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, ParseError> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let well_formed = !body.is_empty()
        && body.split('.').count() <= 2
        && body.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(ParseError::NotANumber);
    }
    Decimal::from_str(text).map_err(|_| ParseError::TooLarge)
}

/// `value × 10^scale` as an integer, refusing digits beyond `scale` instead of rounding them.
pub(crate) fn to_scaled(value: Decimal, scale: u32) -> Result<i64, ParseError> {
    let normalized = value.normalize();
    if normalized.scale() > scale {
        return Err(ParseError::TooManyDecimals(scale));
    }
    let mut m = normalized.mantissa();
    for _ in normalized.scale()..scale {
        m = m.checked_mul(10).ok_or(ParseError::TooLarge)?;
    }
    i64::try_from(m).map_err(|_| ParseError::TooLarge)
}

pub(crate) fn from_scaled(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

/// Deserializes a JSON string or number into exact decimal text. Numbers arrive as their
/// original text (serde_json's `arbitrary_precision`), so `0.1` is never seen as a float.
pub(crate) fn deserialize_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal number as a string or a JSON number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
            use serde::Deserialize;
            let n = serde_json::Number::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            Ok(n.to_string())
        }
    }
    d.deserialize_any(V)
}

/// Formats `units / 10^scale` with exactly `scale` decimals.
pub(crate) fn format_scaled(units: i64, scale: u32, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let d = from_scaled(units, scale);
    write!(f, "{d:.prec$}", prec = scale as usize)
}
