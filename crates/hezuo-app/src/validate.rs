//! Field rules shared by the use cases.

use crate::AppError;
use hezuo_core::Money;

pub const MAX_NAME_CHARS: usize = 100;

/// A display name: trimmed, non-empty, at most 100 characters (Chinese counts per character).
pub fn name(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(field, format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    if let Some(problem) = hezuo_catalog::text_problem(v, false) {
        return Err(AppError::invalid(field, problem));
    }
    Ok(v.to_owned())
}

/// 12-digit administrative division code (统计用区划代码) of a village.
pub fn village_code(value: &str) -> Result<String, AppError> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid("code", "must be the 12-digit administrative division code"))
    }
}

/// Largest capital or income target: 1,000,000,000,000 元, far beyond any village's, so that
/// sums of them stay exact.
pub const MAX_AMOUNT: Money = Money::from_cents(100_000_000_000_000);

/// An amount from 0 to `MAX_AMOUNT`.
pub fn non_negative(field: &str, value: Money) -> Result<Money, AppError> {
    if value.is_negative() {
        Err(AppError::invalid(field, "must not be negative"))
    } else if value > MAX_AMOUNT {
        Err(AppError::invalid(field, format!("must be at most {MAX_AMOUNT}")))
    } else {
        Ok(value)
    }
}

/// A phone number as people write it: an optional leading `+` or `(`, then a digit, digits
/// with spaces, `-` or parentheses, and a digit last; 5 to 31 characters. Empty is none.
pub fn phone(value: &str) -> Result<Option<String>, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let body = v.strip_prefix(['+', '(']).unwrap_or(v).as_bytes();
    let ok = (5..=30).contains(&body.len())
        && body.first().is_some_and(u8::is_ascii_digit)
        && body.last().is_some_and(u8::is_ascii_digit)
        && body.iter().all(|b| b.is_ascii_digit() || b"-() ".contains(b));
    if ok {
        Ok(Some(v.to_owned()))
    } else {
        Err(AppError::invalid(
            "phone",
            "must be a phone number: digits with spaces, '-' or parentheses, 5 to 31 characters",
        ))
    }
}

pub fn channel_code(value: &str) -> Result<String, AppError> {
    let ok = (1..=32).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::invalid("code", "must be 1 to 32 characters of a-z, 0-9, '_' or '-'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  桃源村 ").unwrap(), "桃源村");
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"桃".repeat(100)).is_ok());
        assert!(name("name", &"桃".repeat(101)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn phones_are_digits_with_separators() {
        assert_eq!(phone(" 0510-83591234 ").unwrap().as_deref(), Some("0510-83591234"));
        assert_eq!(phone("+86 138 0000 0000").unwrap().as_deref(), Some("+86 138 0000 0000"));
        assert_eq!(phone("").unwrap(), None);
        assert!(phone("1234").is_err());
        assert!(phone("+-1234").is_err());
        assert!(phone("12345-").is_err());
        assert!(phone("电话 0510").is_err());
        assert!(phone(&"1".repeat(30)).is_ok());
        assert!(phone(&"1".repeat(31)).is_err());
        assert!(phone(&format!("+{}", "1".repeat(30))).is_ok());
    }

    #[test]
    fn village_codes_are_twelve_digits() {
        assert!(village_code("320206103201").is_ok());
        assert!(village_code("32020610320").is_err());
        assert!(village_code("3202061032011").is_err());
        assert!(village_code("32020610320a").is_err());
        assert!(village_code("３２０２０６１０３２０１").is_err());
    }
}
