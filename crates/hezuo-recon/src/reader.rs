//! The streaming reader: header, data records, and the summary or footer of each format.

use crate::text::{Text, sniff};
use crate::values::{TIME_FORMATS, format_cents, parse_time};
use crate::{FileError, Format, Kind, Row, RowError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use csv::ByteRecord;
use hezuo_core::Money;
use std::borrow::Cow;
use std::io::{Chain, Cursor, Read};

/// Longest accepted external id, in characters (the `orders.external_id` column).
const MAX_EXTERNAL_ID_CHARS: usize = 128;

/// How a header cell is recognised.
enum Match {
    /// Equal to one of these, ignoring ASCII case.
    Alias(&'static [&'static str]),
    /// Contains this (Alipay headers carry units in full-width brackets).
    Contains(&'static str),
}

struct Column {
    name: &'static str,
    matches: Match,
}

impl Column {
    fn matches(&self, cell: &str) -> bool {
        match self.matches {
            Match::Alias(aliases) => aliases.iter().any(|a| a.eq_ignore_ascii_case(cell)),
            Match::Contains(part) => cell.contains(part),
        }
    }
}

const fn alias(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column { name, matches: Match::Alias(aliases) }
}

const fn contains(name: &'static str) -> Column {
    Column { name, matches: Match::Contains(name) }
}

// Positions in each format's column list.
const G_ID: usize = 0;
const G_KIND: usize = 1;
const G_AMOUNT: usize = 2;
const G_FEE: usize = 3;
const G_TIME: usize = 4;
const GENERIC: &[Column] = &[
    alias("external_id", &["external_id", "商户订单号"]),
    alias("kind", &["kind", "类型"]),
    alias("amount", &["amount", "金额"]),
    alias("fee", &["fee", "手续费"]),
    alias("settled_at", &["settled_at", "结算时间"]),
];

const W_TIME: usize = 0;
const W_ID: usize = 1;
const W_STATUS: usize = 2;
const W_SETTLED: usize = 3;
const W_REFUND: usize = 4;
const W_FEE: usize = 5;
const WECHAT: &[Column] = &[
    alias("交易时间", &["交易时间"]),
    alias("商户订单号", &["商户订单号"]),
    alias("交易状态", &["交易状态"]),
    alias("应结订单金额", &["应结订单金额"]),
    alias("退款金额", &["退款金额"]),
    alias("手续费", &["手续费"]),
];
/// First cell of the WeChat summary header.
const W_SUMMARY: &str = "总交易单数";
const W_SUMMARY_COLUMNS: [&str; 4] = [W_SUMMARY, "应结订单总金额", "退款总金额", "手续费总金额"];

const A_ID: usize = 0;
const A_TIME: usize = 1;
const A_IN: usize = 2;
const A_OUT: usize = 3;
const A_TYPE: usize = 4;
const ALIPAY: &[Column] =
    &[contains("商户订单号"), contains("发生时间"), contains("收入金额"), contains("支出金额"), contains("业务类型")];
const A_INCOME_TOTAL: &str = "收入合计";
const A_EXPENSE_TOTAL: &str = "支出合计";

/// Where the reader is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Data,
    /// WeChat: the summary header was seen on `line`; its values come next.
    SummaryValues {
        line: u64,
    },
    /// After the summary (WeChat) or inside the `#` footer (Alipay).
    Trailer,
}

/// A count and a sum of amounts; `i128` so that no file can overflow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    count: u64,
    cents: i128,
}

impl Tally {
    fn add(&mut self, m: Money) {
        self.count += 1;
        self.cents += i128::from(m.cents());
    }
}

/// What the records add up to, as the format's control totals count them.
#[derive(Debug, Default)]
struct Found {
    records: u64,
    /// WeChat: SUCCESS 应结订单金额, REFUND 退款金额, SUCCESS 手续费 − |REFUND 手续费|.
    sales: i128,
    refunds: i128,
    fees: i128,
    /// Alipay: rows with 收入金额 > 0, rows with 支出金额 > 0.
    income: Tally,
    expense: Tally,
}

/// What the file says its records add up to.
#[derive(Debug, Default)]
struct Stated {
    wechat: Option<WechatSummary>,
    income: Option<Tally>,
    expense: Option<Tally>,
}

#[derive(Debug)]
struct WechatSummary {
    records: u64,
    sales: Money,
    refunds: Money,
    fees: Money,
}

type Input<R> = Chain<Chain<Cursor<Vec<u8>>, R>, &'static [u8]>;

/// Streaming reader over a statement. Iterating yields each data record as `Ok(Row)` or
/// `Err(RowError)`; a malformed record never stops the iteration, and header, preamble,
/// footer and summary lines are not yielded. Call [`StatementReader::finish`] at the end: it
/// reports what makes the whole file unusable (failed control totals, a missing summary, a read
/// error), and only then may the rows be imported.
pub struct StatementReader<R: Read> {
    csv: csv::Reader<Input<R>>,
    record: ByteRecord,
    text: Text,
    format: Format,
    tz: Tz,
    /// Index in the record of each of the format's columns.
    cols: Vec<usize>,
    /// Header cells, trimmed, for messages.
    header: Vec<String>,
    /// WeChat: the cells of the summary header, once seen.
    summary_header: Vec<String>,
    /// Records shorter than this are malformed (the header without trailing empty cells).
    min_fields: usize,
    stage: Stage,
    /// The line after the last record read.
    next_line: u64,
    exhausted: bool,
    found: Found,
    stated: Stated,
    /// The first error of the whole file met while iterating; `finish` returns it.
    deferred: Option<FileError>,
}

impl<R: Read> std::fmt::Debug for StatementReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementReader")
            .field("format", &self.format)
            .field("tz", &self.tz)
            .field("header", &self.header)
            .field("stage", &self.stage)
            .field("records", &self.found.records)
            .finish_non_exhaustive()
    }
}

impl<R: Read> StatementReader<R> {
    /// Detects the encoding (UTF-8 with or without BOM, else GBK), reads up to and including the
    /// header and checks the required columns. `tz` is the zone of times written without an
    /// offset.
    pub fn new(mut input: R, format: Format, tz: Tz) -> Result<Self, FileError> {
        let sniffed = sniff(&mut input).map_err(|e| FileError::Io(e.to_string()))?;
        let encoding = sniffed.encoding.ok_or(FileError::NotText)?;
        let mut prefix = Cursor::new(sniffed.prefix);
        prefix.set_position(sniffed.start as u64);
        // Only LF ends a record (a CR before it is trimmed with the last field), and the input
        // always ends with one: then every record's end is known exactly, see `read_record`.
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(prefix.chain(input).chain(&b"\n"[..]));
        let mut reader = StatementReader {
            csv,
            record: ByteRecord::new(),
            text: Text::new(encoding),
            format,
            tz,
            cols: Vec::new(),
            header: Vec::new(),
            summary_header: Vec::new(),
            min_fields: 0,
            stage: Stage::Data,
            next_line: 1,
            exhausted: false,
            found: Found::default(),
            stated: Stated::default(),
            deferred: None,
        };
        reader.read_header()?;
        Ok(reader)
    }

    fn read_header(&mut self) -> Result<(), FileError> {
        loop {
            if self.read_record().map_err(|e| FileError::Io(e.to_string()))?.is_none() {
                return Err(FileError::Empty);
            }
            if is_blank(&self.record) || (self.format == Format::Alipay && is_comment(&self.record)) {
                continue;
            }
            break;
        }
        let strip = self.format == Format::Wechat;
        self.header = self
            .record
            .iter()
            .map(|cell| self.text.decode(cell).map_or_else(String::new, |c| clean(&c, strip).to_owned()))
            .collect();
        self.min_fields = self.header.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
        let mut missing = Vec::new();
        for column in columns(self.format) {
            let mut at = self.header.iter().enumerate().filter(|(_, h)| column.matches(h)).map(|(i, _)| i);
            match (at.next(), at.next()) {
                (Some(i), None) => self.cols.push(i),
                (Some(_), Some(_)) => return Err(FileError::DuplicateColumn { column: column.name.to_owned() }),
                (None, _) => missing.push(column.name.to_owned()),
            }
        }
        if missing.is_empty() { Ok(()) } else { Err(FileError::MissingColumns { missing }) }
    }

    /// After the iterator is exhausted (any records left are read first): checks the file's
    /// own control totals against all its records. WeChat: 总交易单数 counts every data record,
    /// malformed or not; the sums take every record whose 交易状态 and amount columns are
    /// readable, even when its id or time is not. Alipay: 收入合计 / 支出合计 take every record
    /// whose 收入金额 / 支出金额 is a number above 0, whatever else is wrong with it. A record
    /// too short to have those columns adds nothing but its count, so a cut line fails the
    /// totals. `generic` has no control totals.
    pub fn finish(mut self) -> Result<(), FileError> {
        for _ in self.by_ref() {}
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        match self.format {
            Format::Generic => Ok(()),
            Format::Wechat => self.check_wechat(),
            Format::Alipay => self.check_alipay(),
        }
    }

    fn check_wechat(&self) -> Result<(), FileError> {
        let Some(s) = &self.stated.wechat else {
            return Err(FileError::MissingSummary(match self.stage {
                Stage::SummaryValues { .. } => "summary values after the 总交易单数 line".to_owned(),
                _ => "summary (the 总交易单数 lines after the records)".to_owned(),
            }));
        };
        let f = &self.found;
        compare_count("总交易单数", s.records, f.records)?;
        compare_money("应结订单总金额", s.sales, f.sales)?;
        compare_money("退款总金额", s.refunds, f.refunds)?;
        compare_money("手续费总金额", s.fees, f.fees)
    }

    fn check_alipay(&self) -> Result<(), FileError> {
        for (name, stated, found) in [
            (A_INCOME_TOTAL, self.stated.income, self.found.income),
            (A_EXPENSE_TOTAL, self.stated.expense, self.found.expense),
        ] {
            let stated = stated.ok_or_else(|| FileError::MissingSummary(format!("footer line #{name}：N笔，共X元")))?;
            compare_count(&format!("{name} (number of rows)"), stated.count, found.count)?;
            if stated.cents != found.cents {
                return Err(control_total(
                    format!("{name} (amount)"),
                    format_cents(stated.cents),
                    format_cents(found.cents),
                ));
            }
        }
        Ok(())
    }

    /// Handles one non-blank record; `Some` for a data record.
    fn process(&mut self, rec: &ByteRecord, line: u64) -> Option<Result<Row, RowError>> {
        match (self.format, self.stage) {
            (Format::Wechat, Stage::Data) if self.starts_summary(rec) => {
                self.summary_header = rec
                    .iter()
                    .map(|c| self.text.decode(c).map_or_else(String::new, |c| clean(&c, true).to_owned()))
                    .collect();
                self.stage = Stage::SummaryValues { line };
                None
            }
            (Format::Alipay, Stage::Data) if is_comment(rec) => {
                self.stage = Stage::Trailer;
                self.footer(rec, line);
                None
            }
            (_, Stage::Data) => {
                self.found.records += 1;
                let fields = Fields {
                    rec,
                    line,
                    text: &self.text,
                    cols: &self.cols,
                    columns: columns(self.format),
                    header: &self.header,
                    min_fields: self.min_fields,
                    tz: self.tz,
                    strip_backtick: self.format == Format::Wechat,
                };
                let shape = fields.check_shape();
                Some(match self.format {
                    Format::Generic => shape.and_then(|()| fields.generic()),
                    Format::Wechat => {
                        if shape.is_ok() {
                            fields.wechat_totals(&mut self.found);
                        }
                        shape.and_then(|()| fields.wechat())
                    }
                    Format::Alipay => {
                        if shape.is_ok() {
                            fields.alipay_totals(&mut self.found);
                        }
                        shape.and_then(|()| fields.alipay())
                    }
                })
            }
            (_, Stage::SummaryValues { line: header_line }) => {
                self.wechat_summary(header_line, rec, line);
                self.stage = Stage::Trailer;
                None
            }
            (Format::Alipay, Stage::Trailer) if is_comment(rec) => {
                self.footer(rec, line);
                None
            }
            (_, Stage::Trailer) => {
                let after = if self.format == Format::Wechat { "the summary" } else { "the footer" };
                self.defer(FileError::BadSummary { line, reason: format!("unexpected content after {after}") });
                None
            }
        }
    }

    /// Reads the next record into `self.record`; `Some(line where it starts)`, `None` at the end.
    ///
    /// csv's own record positions are taken before blank lines and, with CRLF, before the LF
    /// of the previous line are skipped, so they can point above the record. The position
    /// after the record is exact: every record ends with an LF, so its last line is the one
    /// before, and it starts as many lines higher as its quoted fields hold line breaks.
    fn read_record(&mut self) -> Result<Option<u64>, csv::Error> {
        if !self.csv.read_byte_record(&mut self.record)? {
            return Ok(None);
        }
        let after = self.csv.position().line();
        let inside = self.record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        // An unterminated quote at the end swallows the final LF; `max` keeps that record on
        // its own first line.
        let line = after.saturating_sub(1 + inside).max(self.next_line);
        self.next_line = after;
        Ok(Some(line))
    }

    fn defer(&mut self, e: FileError) {
        self.deferred.get_or_insert(e);
    }

    /// WeChat: the record is the summary header (`总交易单数,应结订单总金额,…`).
    fn starts_summary(&self, rec: &ByteRecord) -> bool {
        rec.get(0).and_then(|c| self.text.decode(c)).is_some_and(|c| clean(&c, true) == W_SUMMARY)
    }

    fn wechat_summary(&mut self, header_line: u64, values: &ByteRecord, line: u64) {
        match self.read_wechat_summary(header_line, values, line) {
            Ok(s) => self.stated.wechat = Some(s),
            Err(e) => self.defer(e),
        }
    }

    fn read_wechat_summary(
        &self,
        header_line: u64,
        values: &ByteRecord,
        line: u64,
    ) -> Result<WechatSummary, FileError> {
        let cell = |name: &str| -> Result<String, FileError> {
            let i = self.summary_header.iter().position(|h| h == name).ok_or_else(|| FileError::BadSummary {
                line: header_line,
                reason: format!("the summary header lacks {name}"),
            })?;
            values
                .get(i)
                .and_then(|c| self.text.decode(c))
                .map(|c| clean(&c, true).to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| FileError::BadSummary { line, reason: format!("the summary has no value for {name}") })
        };
        let money = |name: &str| -> Result<Money, FileError> {
            let v = cell(name)?;
            Money::parse(&v).map_err(|e| FileError::BadSummary { line, reason: format!("{name} {v:?}: {e}") })
        };
        let count = cell(W_SUMMARY)?;
        let records = count
            .parse::<u64>()
            .map_err(|_| FileError::BadSummary { line, reason: format!("{W_SUMMARY} {count:?} is not a count") })?;
        let [_, sales, refunds, fees] = W_SUMMARY_COLUMNS;
        Ok(WechatSummary { records, sales: money(sales)?, refunds: money(refunds)?, fees: money(fees)? })
    }

    fn footer(&mut self, rec: &ByteRecord, line: u64) {
        let cells: Vec<Cow<'_, str>> = rec.iter().map(|c| self.text.decode(c).unwrap_or(Cow::Borrowed(""))).collect();
        let text = cells.join(",");
        let body = text.trim().trim_start_matches('#').trim();
        for (name, slot) in [(A_INCOME_TOTAL, 0), (A_EXPENSE_TOTAL, 1)] {
            let Some(rest) = body.strip_prefix(name) else { continue };
            let tally = match parse_footer_total(rest) {
                Some(t) => t,
                None => {
                    self.defer(FileError::BadSummary {
                        line,
                        reason: format!("{name} is not like #{name}：3笔，共300.00元"),
                    });
                    return;
                }
            };
            let target = if slot == 0 { &mut self.stated.income } else { &mut self.stated.expense };
            if target.replace(tally).is_some() {
                self.defer(FileError::BadSummary { line, reason: format!("{name} given twice") });
            }
        }
    }
}

impl<R: Read> Iterator for StatementReader<R> {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.exhausted {
            let line = match self.read_record() {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.exhausted = true;
                    continue;
                }
                Err(e) => {
                    self.exhausted = true;
                    self.defer(FileError::Io(e.to_string()));
                    continue;
                }
            };
            if is_blank(&self.record) {
                continue;
            }
            let record = std::mem::take(&mut self.record);
            let item = self.process(&record, line);
            self.record = record;
            if item.is_some() {
                return item;
            }
        }
        None
    }
}

fn columns(format: Format) -> &'static [Column] {
    match format {
        Format::Generic => GENERIC,
        Format::Wechat => WECHAT,
        Format::Alipay => ALIPAY,
    }
}

/// One data record with what it takes to read its fields.
struct Fields<'a> {
    rec: &'a ByteRecord,
    line: u64,
    text: &'a Text,
    cols: &'a [usize],
    columns: &'static [Column],
    header: &'a [String],
    min_fields: usize,
    tz: Tz,
    strip_backtick: bool,
}

impl<'a> Fields<'a> {
    fn err(&self, reason: String) -> RowError {
        RowError { line: self.line, reason }
    }

    fn column_err(&self, c: usize, reason: impl std::fmt::Display) -> RowError {
        self.err(format!("column {}: {reason}", self.columns[c].name))
    }

    fn check_shape(&self) -> Result<(), RowError> {
        let n = self.rec.len();
        if n < self.min_fields {
            let missing = match self.cols.iter().position(|&i| i >= n) {
                Some(c) => self.columns[c].name,
                None => self.header[n..].iter().find(|h| !h.is_empty()).map_or("", String::as_str),
            };
            return Err(self.err(format!(
                "too few fields: expected {}, found {n} (column {missing} is missing)",
                self.min_fields
            )));
        }
        if self.rec.iter().skip(self.header.len()).any(|c| !c.trim_ascii().is_empty()) {
            return Err(self.err(format!(
                "too many fields: expected {}, found {n} (an unquoted comma in a value?)",
                self.header.len()
            )));
        }
        Ok(())
    }

    /// The cell of column `c`, decoded and trimmed.
    fn cell(&self, c: usize) -> Result<Cow<'a, str>, RowError> {
        let bytes = self.rec.get(self.cols[c]).unwrap_or_default();
        let strip = self.strip_backtick;
        match self.text.decode(bytes) {
            Some(Cow::Borrowed(s)) => Ok(Cow::Borrowed(clean(s, strip))),
            Some(Cow::Owned(s)) => Ok(Cow::Owned(clean(&s, strip).to_owned())),
            None => Err(self.column_err(c, "is not valid UTF-8 or GBK text")),
        }
    }

    fn money(&self, c: usize, empty_is_zero: bool, signed: bool) -> Result<Money, RowError> {
        let v = self.cell(c)?;
        if v.is_empty() {
            return if empty_is_zero { Ok(Money::ZERO) } else { Err(self.column_err(c, "is empty")) };
        }
        let m = Money::parse(&v).map_err(|e| self.column_err(c, format!("{v:?}: {e}")))?;
        if m.is_negative() && !signed {
            return Err(self.column_err(c, format!("{v:?}: must not be negative")));
        }
        Ok(m)
    }

    /// The amount as written (empty is 0), for control totals; `None` when unreadable.
    fn amount_as_written(&self, c: usize) -> Option<Money> {
        self.money(c, true, true).ok()
    }

    fn external_id(&self, c: usize) -> Result<String, RowError> {
        let v = self.cell(c)?;
        if v.is_empty() {
            return Err(self.column_err(c, "is empty"));
        }
        if v.chars().count() > MAX_EXTERNAL_ID_CHARS {
            return Err(self.column_err(c, format!("longer than {MAX_EXTERNAL_ID_CHARS} characters")));
        }
        Ok(v.into_owned())
    }

    fn time(&self, c: usize) -> Result<DateTime<Utc>, RowError> {
        let v = self.cell(c)?;
        parse_time(&v, self.tz).ok_or_else(|| self.column_err(c, format!("{v:?} is not a time like {TIME_FORMATS}")))
    }

    fn generic(&self) -> Result<Row, RowError> {
        let external_id = self.external_id(G_ID)?;
        let text = self.cell(G_KIND)?;
        let kind = generic_kind(&text).ok_or_else(|| {
            self.column_err(
                G_KIND,
                format!("{text:?} is not sale, refund, fee or adjustment (销售, 退款, 手续费, 调整)"),
            )
        })?;
        let amount = self.money(G_AMOUNT, false, kind == Kind::Adjustment)?;
        let fee = self.money(G_FEE, true, false)?;
        if fee != Money::ZERO && matches!(kind, Kind::Fee | Kind::Adjustment) {
            return Err(self.column_err(
                G_FEE,
                format!("must be empty or 0 on a {} row (its amount is the whole of it)", kind.as_str()),
            ));
        }
        let settled_at = self.time(G_TIME)?;
        Ok(Row { line: self.line, external_id, kind, amount, fee, settled_at })
    }

    fn wechat(&self) -> Result<Row, RowError> {
        let external_id = self.external_id(W_ID)?;
        let status = self.cell(W_STATUS)?;
        let (kind, amount, fee) = match wechat_status(&status) {
            Some(Kind::Sale) => (Kind::Sale, self.money(W_SETTLED, false, false)?, self.money(W_FEE, true, false)?),
            Some(_) => {
                // A refund gives the fee back: WeChat writes it negative.
                let fee = self.money(W_FEE, true, true)?;
                let fee = if fee.is_negative() {
                    fee.checked_neg().map_err(|_| self.column_err(W_FEE, "value is too large"))?
                } else {
                    fee
                };
                (Kind::Refund, self.money(W_REFUND, false, false)?, fee)
            }
            None => return Err(self.column_err(W_STATUS, format!("{status:?} is not SUCCESS or REFUND"))),
        };
        let settled_at = self.time(W_TIME)?;
        Ok(Row { line: self.line, external_id, kind, amount, fee, settled_at })
    }

    fn wechat_totals(&self, found: &mut Found) {
        let Ok(status) = self.cell(W_STATUS) else { return };
        match wechat_status(&status) {
            Some(Kind::Sale) => {
                if let Some(a) = self.amount_as_written(W_SETTLED) {
                    found.sales += i128::from(a.cents());
                }
                if let Some(f) = self.amount_as_written(W_FEE) {
                    found.fees += i128::from(f.cents());
                }
            }
            Some(_) => {
                if let Some(a) = self.amount_as_written(W_REFUND) {
                    found.refunds += i128::from(a.cents());
                }
                if let Some(f) = self.amount_as_written(W_FEE) {
                    found.fees -= i128::from(f.cents()).abs();
                }
            }
            None => {}
        }
    }

    fn alipay(&self) -> Result<Row, RowError> {
        let external_id = self.external_id(A_ID)?;
        let business = self.cell(A_TYPE)?;
        let kind = alipay_kind(&business);
        let income = self.money(A_IN, true, false)?;
        let expense = self.money(A_OUT, true, false)?;
        let amount = match kind {
            Kind::Sale => self.only(A_IN, income, A_OUT, expense, &business)?,
            Kind::Refund | Kind::Fee => self.only(A_OUT, expense, A_IN, income, &business)?,
            Kind::Adjustment => income.checked_sub(expense).map_err(|_| self.column_err(A_IN, "value is too large"))?,
        };
        let settled_at = self.time(A_TIME)?;
        Ok(Row { line: self.line, external_id, kind, amount, fee: Money::ZERO, settled_at })
    }

    /// The amount of column `used`, which must be written, while `other` must be 0.
    fn only(
        &self,
        used: usize,
        value: Money,
        other: usize,
        other_value: Money,
        business: &str,
    ) -> Result<Money, RowError> {
        if self.cell(used)?.is_empty() {
            return Err(self.column_err(used, format!("is empty on a {business} row")));
        }
        if other_value != Money::ZERO {
            return Err(self.column_err(other, format!("must be empty or 0 on a {business} row")));
        }
        Ok(value)
    }

    fn alipay_totals(&self, found: &mut Found) {
        if let Some(m) = self.amount_as_written(A_IN).filter(|m| m.cents() > 0) {
            found.income.add(m);
        }
        if let Some(m) = self.amount_as_written(A_OUT).filter(|m| m.cents() > 0) {
            found.expense.add(m);
        }
    }
}

fn generic_kind(s: &str) -> Option<Kind> {
    [
        (Kind::Sale, "sale", "销售"),
        (Kind::Refund, "refund", "退款"),
        (Kind::Fee, "fee", "手续费"),
        (Kind::Adjustment, "adjustment", "调整"),
    ]
    .into_iter()
    .find(|(_, en, zh)| s.eq_ignore_ascii_case(en) || s == *zh)
    .map(|(k, _, _)| k)
}

fn wechat_status(s: &str) -> Option<Kind> {
    if s.eq_ignore_ascii_case("SUCCESS") {
        Some(Kind::Sale)
    } else if s.eq_ignore_ascii_case("REFUND") {
        Some(Kind::Refund)
    } else {
        None
    }
}

fn alipay_kind(business: &str) -> Kind {
    match business {
        "在线支付" | "交易付款" => Kind::Sale,
        "交易退款" => Kind::Refund,
        "收费" | "服务费" => Kind::Fee,
        _ => Kind::Adjustment,
    }
}

fn is_blank(rec: &ByteRecord) -> bool {
    rec.iter().all(|c| c.trim_ascii().is_empty())
}

fn is_comment(rec: &ByteRecord) -> bool {
    rec.get(0).is_some_and(|c| c.trim_ascii_start().starts_with(b"#"))
}

/// A cell without surrounding whitespace and, for WeChat, without its leading backtick.
fn clean(cell: &str, strip_backtick: bool) -> &str {
    let t = cell.trim();
    if strip_backtick { t.strip_prefix('`').unwrap_or(t).trim() } else { t }
}

fn control_total(what: String, stated: String, found: String) -> FileError {
    FileError::ControlTotal { what, stated, found }
}

fn compare_count(what: &str, stated: u64, found: u64) -> Result<(), FileError> {
    if stated == found { Ok(()) } else { Err(control_total(what.to_owned(), stated.to_string(), found.to_string())) }
}

fn compare_money(what: &str, stated: Money, found: i128) -> Result<(), FileError> {
    if i128::from(stated.cents()) == found {
        Ok(())
    } else {
        Err(control_total(what.to_owned(), stated.to_string(), format_cents(found)))
    }
}

/// `：3笔，共300.00元` (full-width or ASCII punctuation).
fn parse_footer_total(rest: &str) -> Option<Tally> {
    let rest = rest.trim_start_matches([':', '：', ' ']);
    let (count, rest) = rest.split_once('笔')?;
    let count = count.trim();
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount = rest.trim_start_matches([',', '，', ' ']).strip_prefix('共')?.trim_end().strip_suffix('元')?.trim();
    let amount = Money::parse(amount).ok().filter(|m| !m.is_negative())?;
    Some(Tally { count: count.parse().ok()?, cents: i128::from(amount.cents()) })
}
