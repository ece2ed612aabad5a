//! The catalog and stock rules of a station (SPEC §1 products and lots, §8.2): product fields,
//! lot intake, adjustments, the movement journal's kinds, and the CSV formats of bulk import.
//! Pure: text in, typed rows or exact errors out.

mod fields;
pub mod import;
mod stock;

pub use fields::*;
pub use stock::*;
