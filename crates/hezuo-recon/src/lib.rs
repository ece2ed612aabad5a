//! Platform settlement statements (对账单, SPEC §9): the `generic`, `wechat` and `alipay`
//! formats (docs/statements/README.md), read as a stream of typed rows, and the statement's own
//! control totals checked at the end. Pure: bytes in through `std::io::Read`, rows out.
//!
//! Architecture invariant: nothing here holds the whole file; memory does not grow with the
//! number of rows.

mod reader;
mod text;
mod values;

#[cfg(test)]
mod tests;

use hezuo_core::{Money, Overflow};

pub use reader::StatementReader;

/// The layout of a statement file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Our own CSV: `external_id,kind,amount,fee,settled_at`.
    Generic,
    /// A WeChat Pay 交易账单 with its summary rows.
    Wechat,
    /// An Alipay 账务明细 with its `#` preamble and footer totals.
    Alipay,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Generic, Format::Wechat, Format::Alipay];

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Generic => "generic",
            Format::Wechat => "wechat",
            Format::Alipay => "alipay",
        }
    }
}

/// What a statement row is (docs/domain.md "Reconciliation").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Sale,
    Refund,
    Fee,
    Adjustment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sale => "sale",
            Kind::Refund => "refund",
            Kind::Fee => "fee",
            Kind::Adjustment => "adjustment",
        }
    }
}

/// One data record of a statement, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based physical line of the file where the record starts.
    pub line: u64,
    /// The merchant's order id (our `orders.external_id`), trimmed, 1..=128 characters.
    pub external_id: String,
    pub kind: Kind,
    /// ≥ 0, except for adjustments (signed).
    pub amount: Money,
    /// ≥ 0; 0 when the format has no fee column or the kind carries none.
    pub fee: Money,
    pub settled_at: chrono::DateTime<chrono::Utc>,
}

impl Row {
    /// What the row adds to the merchant's settlement (docs/domain.md "Reconciliation").
    pub fn net(&self) -> Result<Money, Overflow> {
        match self.kind {
            Kind::Sale => self.amount.checked_sub(self.fee),
            Kind::Refund => self.amount.checked_sub(self.fee)?.checked_neg(),
            Kind::Fee => self.amount.checked_neg(),
            Kind::Adjustment => Ok(self.amount),
        }
    }
}

/// A data record that could not be turned into a [`Row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line of the file where the record starts.
    pub line: u64,
    /// Plain English, naming the column.
    pub reason: String,
}

/// The whole file is unusable: nothing of it may be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is neither UTF-8 nor GBK text")]
    NotText,
    #[error("the file is empty: no header line")]
    Empty,
    #[error("the header lacks the column(s) {}", missing.join(", "))]
    MissingColumns { missing: Vec<String> },
    #[error("the header has more than one column for {column}")]
    DuplicateColumn { column: String },
    #[error("the file has no {0}: it is truncated")]
    MissingSummary(String),
    #[error("line {line}: {reason}")]
    BadSummary { line: u64, reason: String },
    #[error("the statement says {what} is {stated} but its records give {found}: the file is truncated or corrupt")]
    ControlTotal { what: String, stated: String, found: String },
    #[error("could not read the file: {0}")]
    Io(String),
}
