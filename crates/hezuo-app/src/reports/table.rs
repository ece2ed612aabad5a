//! Reports as tables for spreadsheets: CSV (UTF-8 with a BOM, so that Excel on Chinese Windows
//! reads it as UTF-8; Chinese headers; formula-like cells quoted) and xlsx (money as numbers
//! with two decimals, quantities with three, ids and codes as text).

use crate::AppError;
use hezuo_core::{Money, Quantity};
use rust_decimal::Decimal;

/// One cell of a report table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// Text as it is: names, notes, kinds.
    Text(String),
    /// An id or a code: text in a spreadsheet too, so it keeps every digit.
    Code(String),
    Int(i64),
    Money(Money),
    Quantity(Quantity),
    /// A ratio to four decimals (growth).
    Ratio(Decimal),
    /// 是 / 否.
    Flag(bool),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn code(s: impl ToString) -> Cell {
        Cell::Code(s.to_string())
    }

    pub fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map_or(Cell::Empty, f)
    }

    /// The cell as CSV text (exact decimals).
    fn csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Code(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(m) => m.to_string(),
            Cell::Quantity(q) => q.to_string(),
            Cell::Ratio(r) => r.to_string(),
            Cell::Flag(b) => if *b { "是" } else { "否" }.to_owned(),
        }
    }
}

/// A table of a report: one worksheet of the xlsx, one section of the CSV.
#[derive(Debug, Clone)]
pub struct Table {
    /// The worksheet's name (at most 31 characters).
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// The tables as CSV: a BOM, then each table's headers and rows; tables after the first follow
/// an empty line and a line with their title. Every cell goes through the formula guard.
pub fn to_csv(tables: &[Table]) -> Result<Vec<u8>, AppError> {
    let e = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec());
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            w.write_record([""]).map_err(e)?;
            w.write_record([t.title]).map_err(e)?;
        }
        w.write_record(&t.headers).map_err(e)?;
        for row in &t.rows {
            w.write_record(row.iter().map(|c| crate::catalog::spreadsheet_safe(&c.csv()).into_owned())).map_err(e)?;
        }
    }
    w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// The tables as an xlsx workbook, one worksheet each.
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let quantity = Format::new().set_num_format("0.000");
    let ratio = Format::new().set_num_format("0.0000");
    // An xlsx number is an IEEE double: the exact decimal text is read as the nearest one, for
    // display only (no arithmetic on it; the exact figures are in the CSV and the API).
    #[rustfmt::skip]
    let num = |exact: String| exact.parse::<f64>().map_err(|_| AppError::Internal(format!("xlsx: {exact} is not a number"))); // not money: the cell's display value for Excel, written from the exact text; nothing is computed with it
    for t in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(t.title).map_err(x)?;
        for (c, h) in t.headers.iter().enumerate() {
            sheet.write_with_format(0, column(c)?, *h, &bold).map_err(x)?;
        }
        for (r, cells) in t.rows.iter().enumerate() {
            let row = u32::try_from(r + 1).map_err(|_| AppError::Internal("too many rows for xlsx".into()))?;
            for (c, cell) in cells.iter().enumerate() {
                let col = column(c)?;
                match cell {
                    Cell::Empty => {}
                    Cell::Text(s) | Cell::Code(s) => {
                        sheet.write_string(row, col, s).map_err(x)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(row, col, num(n.to_string())?).map_err(x)?;
                    }
                    Cell::Money(m) => {
                        sheet.write_number_with_format(row, col, num(m.to_string())?, &money).map_err(x)?;
                    }
                    Cell::Quantity(q) => {
                        sheet.write_number_with_format(row, col, num(q.to_string())?, &quantity).map_err(x)?;
                    }
                    Cell::Ratio(d) => {
                        sheet.write_number_with_format(row, col, num(d.to_string())?, &ratio).map_err(x)?;
                    }
                    Cell::Flag(b) => {
                        sheet.write_string(row, col, if *b { "是" } else { "否" }).map_err(x)?;
                    }
                }
            }
        }
    }
    book.save_to_buffer().map_err(x)
}

fn column(c: usize) -> Result<u16, AppError> {
    u16::try_from(c).map_err(|_| AppError::Internal("too many columns for xlsx".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_chinese_headers_and_quoted_formulas() {
        let t = Table {
            title: "明细",
            headers: vec!["名称", "金额"],
            rows: vec![
                vec![Cell::text("=HYPERLINK(\"x\")"), Cell::Money(Money::from_cents(-1230))],
                vec![Cell::text("水蜜桃"), Cell::Money(Money::from_cents(5))],
            ],
        };
        let second = Table { title: "合计", headers: vec!["合计"], rows: vec![vec![Cell::Flag(true)]] };
        let out = String::from_utf8(to_csv(&[t, second]).unwrap()).unwrap();
        assert_eq!(out, "\u{feff}名称,金额\n\"'=HYPERLINK(\"\"x\"\")\",-12.30\n水蜜桃,0.05\n\"\"\n合计\n合计\n是\n");
    }
}
