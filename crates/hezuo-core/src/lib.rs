//! The exact arithmetic of hezuo: money in cents, quantities in thousandths, rates, rounding
//! and largest-remainder `split` (SPEC §2). No I/O, no floating point.

mod decimal;
mod money;
mod quantity;
mod rate;
mod split;

pub use decimal::ParseError;
pub use money::Money;
pub use quantity::Quantity;
pub use rate::Rate;
pub use rust_decimal::Decimal;
pub use split::{SplitError, split};

/// Arithmetic that would leave the range the database can store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("amount out of range")]
pub struct Overflow;

/// OpenAPI schemas of amounts as the API writes them: strings with every decimal place, so
/// that no client parses them as floats. Requests also take JSON numbers; their fields name
/// input schemas of their own.
mod schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    fn decimal_string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .pattern(Some(pattern))
            .examples([example])
            .into()
    }

    impl utoipa::PartialSchema for crate::Money {
        fn schema() -> RefOr<Schema> {
            decimal_string("CNY amount, exact, always 2 decimals", r"^-?[0-9]+\.[0-9]{2}$", "12.30")
        }
    }
    impl utoipa::ToSchema for crate::Money {}

    impl utoipa::PartialSchema for crate::Quantity {
        fn schema() -> RefOr<Schema> {
            decimal_string("quantity in the product's unit, exact, always 3 decimals", r"^-?[0-9]+\.[0-9]{3}$", "2.500")
        }
    }
    impl utoipa::ToSchema for crate::Quantity {}

    impl utoipa::PartialSchema for crate::Rate {
        fn schema() -> RefOr<Schema> {
            decimal_string("rate from 0 to 1, exact, 2 to 6 decimals", r"^(?:0\.[0-9]{2,6}|1\.00)$", "0.05")
        }
    }
    impl utoipa::ToSchema for crate::Rate {}
}
