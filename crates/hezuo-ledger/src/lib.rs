//! The cooperative's rules (SPEC §3) and, as they come, the attribution of sales and the period
//! close (SPEC §4–6). Pure: no I/O.

mod close;
mod rules;
mod sale;

pub use close::{Distribution, distribute};
pub use rules::{RuleError, RuleSet};
pub use sale::*;
