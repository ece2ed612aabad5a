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

/// OpenAPI schemas: amounts travel as strings so that no client parses them as floats.
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
            decimal_string(
                "CNY amount, exact, 2 decimals; input also accepts a JSON number",
                r"^-?\d+(\.\d{1,2})?$",
                "12.30",
            )
        }
    }
    impl utoipa::ToSchema for crate::Money {}

    impl utoipa::PartialSchema for crate::Quantity {
        fn schema() -> RefOr<Schema> {
            decimal_string(
                "quantity in the product's unit, exact, 3 decimals; input also accepts a JSON number",
                r"^-?\d+(\.\d{1,3})?$",
                "2.500",
            )
        }
    }
    impl utoipa::ToSchema for crate::Quantity {}

    impl utoipa::PartialSchema for crate::Rate {
        fn schema() -> RefOr<Schema> {
            decimal_string(
                "rate from 0 to 1, exact to 6 decimals; input also accepts a JSON number",
                r"^(0(\.\d{1,6})?|1(\.0{1,6})?)$",
                "0.05",
            )
        }
    }
    impl utoipa::ToSchema for crate::Rate {}
}
