use hezuo_core::{Money, Quantity};
use serde::{Deserialize, Serialize};

/// A field that breaks a rule, with the rule in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    Listed,
    Delisted,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Listed => "listed",
            ProductStatus::Delisted => "delisted",
        }
    }

    pub fn parse(s: &str) -> Option<ProductStatus> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "listed" => Some(ProductStatus::Listed),
            "delisted" => Some(ProductStatus::Delisted),
            _ => None,
        }
    }
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_UNIT_CHARS: usize = 16;
pub const MAX_CATEGORY_CHARS: usize = 50;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_SKU_CHARS: usize = 64;
pub const MAX_IMAGES: usize = 10;
pub const MAX_URL_CHARS: usize = 500;
/// 10,000,000.00 元 a unit: beyond any produce, and keeps every gross far inside i64 cents.
pub const MAX_PRICE: Money = Money::from_cents(1_000_000_000);
/// 10,000,000 units in one lot or one movement.
pub const MAX_QUANTITY: Quantity = Quantity::from_thousandths(10_000_000_000);

/// Characters that change the direction of the text around them: in a name they can make it
/// read as something else ("Trojan source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: spaces, zero-width characters, fillers.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// What is wrong with a piece of text a person will read (a name, a reason, an id), if
/// anything: control characters (but newlines and tabs where `multiline`), bidirectional
/// controls, or an invisible first or last character (such as a zero-width space; a value
/// that is nothing but such characters shows nothing at all). The OpenAPI document states the
/// same rule as a pattern (`hezuo-app` openapi.rs).
pub fn text_problem(value: &str, multiline: bool) -> Option<&'static str> {
    if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t'))) {
        return Some("must not contain control characters");
    }
    if value.chars().any(is_bidi_control) {
        return Some("must not contain bidirectional control characters");
    }
    let ends = [value.chars().next(), value.chars().next_back()];
    if ends.iter().any(|c| c.is_none_or(is_invisible)) {
        return Some("must start and end with a visible character");
    }
    None
}

/// Trimmed text of 1..=`max` characters without control characters, with something visible.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(err(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(err(field, format!("must be at most {max} characters")));
    }
    if let Some(problem) = text_problem(v, true) {
        return Err(err(field, problem));
    }
    Ok(v.to_owned())
}

pub fn name(value: &str) -> Result<String, FieldError> {
    text("name", value, MAX_NAME_CHARS)
        .and_then(|v| if v.contains('\n') { Err(err("name", "must be one line")) } else { Ok(v) })
}

/// The unit a product is sold in: kg, 斤, box, piece, or any the station names.
pub fn unit(value: &str) -> Result<String, FieldError> {
    text("unit", value, MAX_UNIT_CHARS)
        .and_then(|v| if v.chars().any(is_invisible) { Err(err("unit", "must be one word")) } else { Ok(v) })
}

/// A merchant code (商家编码) as the station's platform shops name the product: one word of up
/// to 64 characters; blank means none.
pub fn sku(value: Option<&str>) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text("sku", v, MAX_SKU_CHARS)
            .and_then(|v| if v.chars().any(is_invisible) { Err(err("sku", "must be one word")) } else { Ok(Some(v)) }),
    }
}

/// A list price: more than 0, at most `MAX_PRICE`.
pub fn price(value: Money) -> Result<Money, FieldError> {
    if value.cents() <= 0 {
        return Err(err("price", "must be more than 0"));
    }
    if value > MAX_PRICE {
        return Err(err("price", format!("must be at most {MAX_PRICE}")));
    }
    Ok(value)
}

/// An optional free-text field: blank means none.
pub fn optional_text(field: &'static str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

pub fn image_urls(urls: &[String]) -> Result<Vec<String>, FieldError> {
    if urls.len() > MAX_IMAGES {
        return Err(err("image_urls", format!("at most {MAX_IMAGES} images")));
    }
    urls.iter()
        .map(|u| {
            let u = u.trim();
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() > "https://".len()
                && u.chars().count() <= MAX_URL_CHARS
                && !u.chars().any(|c| is_invisible(c) || c.is_control());
            if ok {
                Ok(u.to_owned())
            } else {
                Err(err("image_urls", format!("not an http(s) URL of at most {MAX_URL_CHARS} characters: {u:?}")))
            }
        })
        .collect()
}

pub fn low_stock_threshold(value: Quantity) -> Result<Quantity, FieldError> {
    if value.thousandths() < 0 {
        return Err(err("low_stock_threshold", "must not be negative"));
    }
    if value > MAX_QUANTITY {
        return Err(err("low_stock_threshold", format!("must be at most {MAX_QUANTITY}")));
    }
    Ok(value)
}

/// A quantity received into a lot: more than 0, at most `MAX_QUANTITY`.
pub fn intake_quantity(value: Quantity) -> Result<Quantity, FieldError> {
    if value.thousandths() <= 0 {
        return Err(err("quantity", "must be more than 0"));
    }
    if value > MAX_QUANTITY {
        return Err(err("quantity", format!("must be at most {MAX_QUANTITY}")));
    }
    Ok(value)
}

/// A guaranteed floor price (保底价) per unit: 0 or more, at most `MAX_PRICE`.
pub fn floor_price(value: Money) -> Result<Money, FieldError> {
    if value.is_negative() {
        return Err(err("floor_price", "must not be negative"));
    }
    if value > MAX_PRICE {
        return Err(err("floor_price", format!("must be at most {MAX_PRICE}")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_bidi_text_is_refused() {
        for bad in ["\u{200B}", "\u{200B}\u{200C}\u{FEFF}", "\u{3164}", "a\u{202E}b", "\u{2066}x\u{2069}", "\u{00AD}"] {
            assert!(text("name", bad, 100).is_err(), "{bad:?}");
        }
        assert!(text("name", "\u{200B}桃", 100).is_err());
        for good in ["水蜜桃", "a\u{200D}b", "五月\u{3000}桃", "桃\u{2764}\u{FE0F}"] {
            assert!(text("name", good, 100).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn field_rules() {
        assert_eq!(name(" 阳山水蜜桃 ").unwrap(), "阳山水蜜桃");
        assert!(name("").is_err());
        assert!(name(&"桃".repeat(101)).is_err());
        assert_eq!(unit("斤").unwrap(), "斤");
        assert!(unit("a box").is_err());
        assert_eq!(sku(Some(" TAO-001 ")).unwrap().as_deref(), Some("TAO-001"));
        assert_eq!(sku(Some("  ")).unwrap(), None);
        assert!(sku(Some("TAO 001")).is_err());
        assert!(sku(Some(&"A".repeat(65))).is_err());
        assert!(price(Money::ZERO).is_err());
        assert!(price(Money::from_cents(1)).is_ok());
        assert!(price(Money::from_cents(1_000_000_001)).is_err());
        assert!(intake_quantity(Quantity::ZERO).is_err());
        assert!(intake_quantity(Quantity::from_thousandths(1)).is_ok());
        assert!(floor_price(Money::ZERO).is_ok());
        assert!(floor_price(Money::from_cents(-1)).is_err());
        assert!(image_urls(&["https://img.example/1.jpg".into()]).is_ok());
        assert!(image_urls(&["ftp://x".into()]).is_err());
        assert!(image_urls(&vec!["https://a.b/c".to_owned(); 11]).is_err());
        assert_eq!(optional_text("category", Some("  "), 50).unwrap(), None);
    }
}
