//! Bulk import of products and lots from CSV, as stations prepare them on a delivery day:
//! a header row, UTF-8 (with or without BOM) or GBK (Excel on Chinese Windows), English or
//! Chinese column names. Parsing reports every bad row with its line number; a file with any
//! bad row imports nothing.

use crate::fields::{self, FieldError, ProductStatus};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use hezuo_core::{Money, Quantity};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

/// One rejected row (or the header, line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Line number in the file, the header being line 1.
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
}

impl RowError {
    pub fn new(line: u64, field: Option<&str>, reason: impl Into<String>) -> RowError {
        RowError { line, field: field.map(str::to_owned), reason: reason.into() }
    }
}

/// Most rows one import takes. An import is one transaction, and on SQLite every other write
/// of the process waits for it: 20,000 rows keep that wait under a second (BENCHMARKS.md).
pub const MAX_ROWS: usize = 20_000;

/// Text of a CSV file: UTF-8 with or without BOM, else GBK. `None` when it is neither.
pub fn decode(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).ok().map(Cow::Borrowed);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(s));
    }
    encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
}

/// Column names a file may use for each field.
struct Column {
    field: &'static str,
    aliases: &'static [&'static str],
    required: bool,
}

const PRODUCT_COLUMNS: &[Column] = &[
    Column { field: "name", aliases: &["name", "商品名称", "名称", "品名"], required: true },
    Column { field: "unit", aliases: &["unit", "单位"], required: true },
    Column { field: "sku", aliases: &["sku", "商家编码", "货号"], required: false },
    Column { field: "price", aliases: &["price", "价格", "售价", "单价"], required: true },
    Column { field: "status", aliases: &["status", "状态"], required: false },
    Column { field: "category", aliases: &["category", "分类", "类别"], required: false },
    Column { field: "description", aliases: &["description", "描述", "说明"], required: false },
    Column { field: "image_urls", aliases: &["image_urls", "图片"], required: false },
    Column {
        field: "low_stock_threshold", aliases: &["low_stock_threshold", "库存预警", "预警库存"], required: false
    },
];

const LOT_COLUMNS: &[Column] = &[
    Column { field: "product_id", aliases: &["product_id", "商品编号", "商品id"], required: false },
    Column { field: "product_name", aliases: &["product_name", "product", "商品名称", "商品"], required: false },
    Column { field: "household_id", aliases: &["household_id", "农户编号", "农户id"], required: true },
    Column { field: "quantity", aliases: &["quantity", "数量"], required: true },
    Column { field: "floor_price", aliases: &["floor_price", "保底价"], required: true },
    Column { field: "received_at", aliases: &["received_at", "收货时间", "收购时间"], required: false },
];

/// A parsed file: for each record, its line and its fields by name, and the records that
/// could not be read at all.
struct Table {
    rows: Vec<(u64, HashMap<&'static str, String>)>,
    errors: Vec<RowError>,
}

fn read_table(text: &str, columns: &'static [Column]) -> Result<Table, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let headers =
        reader.headers().map_err(|e| vec![RowError::new(1, None, format!("unreadable header: {e}"))])?.clone();
    let mut errors = Vec::new();
    let mut positions: Vec<Option<&'static str>> = Vec::new();
    for h in headers.iter() {
        let key = h.trim().trim_start_matches('\u{feff}').to_lowercase();
        match columns.iter().find(|c| c.aliases.contains(&key.as_str())) {
            Some(c) if positions.contains(&Some(c.field)) => {
                errors.push(RowError::new(1, Some(c.field), format!("column {h:?} given twice")))
            }
            Some(c) => positions.push(Some(c.field)),
            None if key.is_empty() => positions.push(None),
            None => errors.push(RowError::new(1, None, format!("unknown column {h:?}"))),
        }
    }
    for c in columns.iter().filter(|c| c.required) {
        if !positions.contains(&Some(c.field)) {
            errors.push(RowError::new(
                1,
                Some(c.field),
                format!("missing column {} (or {})", c.field, c.aliases[1..].join("/")),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError::new(line, None, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(RowError::new(
                line,
                None,
                format!("expected {} columns, found {}", headers.len(), record.len()),
            ));
            continue;
        }
        if rows.len() >= MAX_ROWS {
            errors.push(RowError::new(line, None, format!("more than {MAX_ROWS} rows; split the file")));
            break;
        }
        let fields =
            positions.iter().zip(record.iter()).filter_map(|(p, v)| p.map(|f| (f, v.trim().to_owned()))).collect();
        rows.push((line, fields));
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(vec![RowError::new(1, None, "the file has no rows")]);
    }
    Ok(Table { rows, errors })
}

fn field_error(line: u64, e: FieldError) -> RowError {
    RowError::new(line, Some(e.field), e.message)
}

fn get<'a>(row: &'a HashMap<&'static str, String>, field: &str) -> Option<&'a str> {
    row.get(field).map(String::as_str).filter(|v| !v.is_empty())
}

fn required<'a>(line: u64, row: &'a HashMap<&'static str, String>, field: &'static str) -> Result<&'a str, RowError> {
    get(row, field).ok_or_else(|| RowError::new(line, Some(field), "required"))
}

fn money(line: u64, field: &'static str, v: &str) -> Result<Money, RowError> {
    Money::parse(v).map_err(|e| RowError::new(line, Some(field), format!("{v:?}: {e}")))
}

fn quantity(line: u64, field: &'static str, v: &str) -> Result<Quantity, RowError> {
    Quantity::parse(v).map_err(|e| RowError::new(line, Some(field), format!("{v:?}: {e}")))
}

/// A product row, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub line: u64,
    pub name: String,
    pub unit: String,
    pub sku: Option<String>,
    pub price: Money,
    pub status: ProductStatus,
    pub category: Option<String>,
    pub description: Option<String>,
    pub image_urls: Vec<String>,
    pub low_stock_threshold: Option<Quantity>,
}

fn product_row(line: u64, row: &HashMap<&'static str, String>) -> Result<ProductRow, RowError> {
    let fe = |e| field_error(line, e);
    let status = match get(row, "status") {
        None => ProductStatus::Draft,
        Some(s) => ProductStatus::parse(s)
            .ok_or_else(|| RowError::new(line, Some("status"), format!("{s:?} is not draft, listed or delisted")))?,
    };
    let images: Vec<String> = get(row, "image_urls")
        .map(|v| v.split(['|', ';', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(ProductRow {
        line,
        name: fields::name(required(line, row, "name")?).map_err(fe)?,
        unit: fields::unit(required(line, row, "unit")?).map_err(fe)?,
        sku: fields::sku(get(row, "sku")).map_err(fe)?,
        price: fields::price(money(line, "price", required(line, row, "price")?)?).map_err(fe)?,
        status,
        category: fields::optional_text("category", get(row, "category"), fields::MAX_CATEGORY_CHARS).map_err(fe)?,
        description: fields::optional_text("description", get(row, "description"), fields::MAX_DESCRIPTION_CHARS)
            .map_err(fe)?,
        image_urls: fields::image_urls(&images).map_err(fe)?,
        low_stock_threshold: get(row, "low_stock_threshold")
            .map(|v| quantity(line, "low_stock_threshold", v).and_then(|q| fields::low_stock_threshold(q).map_err(fe)))
            .transpose()?,
    })
}

/// Parses a products file; every bad row is reported.
pub fn parse_products(text: &str) -> Result<Vec<ProductRow>, Vec<RowError>> {
    let (rows, errors) = parse_products_partial(text)?;
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// Parses a products file into the rows that are valid on their own and the errors of the
/// others (a merchant code given twice in the file is an error of its second row), so that the
/// station's checks of the valid rows can be reported with them. A bad header is an error of
/// the whole file.
pub fn parse_products_partial(text: &str) -> Result<(Vec<ProductRow>, Vec<RowError>), Vec<RowError>> {
    let table = read_table(text, PRODUCT_COLUMNS)?;
    let mut errors = table.errors;
    let mut rows: Vec<ProductRow> = Vec::new();
    let mut skus: HashMap<String, u64> = HashMap::new();
    for (line, row) in &table.rows {
        // A repeat is an error of its row whatever else is wrong with the first one.
        if let Some(sku) = get(row, "sku") {
            if let Some(first) = skus.get(sku) {
                errors.push(RowError::new(*line, Some("sku"), format!("sku {sku:?} is already on line {first}")));
                continue;
            }
            skus.insert(sku.to_owned(), *line);
        }
        match product_row(*line, row) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok((rows, errors))
}

/// How a lot row names its product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    Id(i64),
    Name(String),
}

/// A lot row, validated as far as a file alone allows (the station checks products and
/// households).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotRow {
    pub line: u64,
    pub product: ProductRef,
    pub household_id: i64,
    pub quantity: Quantity,
    pub floor_price: Money,
    pub received_at: Option<DateTime<Utc>>,
}

/// RFC 3339, or a local `YYYY-MM-DD[ HH:MM[:SS]]` in the deployment's time zone.
pub fn parse_time(v: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .or_else(|| {
            ["%Y-%m-%d", "%Y/%m/%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(v, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

fn id(line: u64, field: &'static str, v: &str) -> Result<i64, RowError> {
    v.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| RowError::new(line, Some(field), format!("{v:?} is not an id")))
}

fn lot_row(line: u64, row: &HashMap<&'static str, String>, tz: Tz) -> Result<LotRow, RowError> {
    let product = match (get(row, "product_id"), get(row, "product_name")) {
        (Some(v), _) => ProductRef::Id(id(line, "product_id", v)?),
        (None, Some(n)) => ProductRef::Name(n.to_owned()),
        (None, None) => return Err(RowError::new(line, Some("product_id"), "give product_id or product_name")),
    };
    let q = quantity(line, "quantity", required(line, row, "quantity")?)?;
    let floor = money(line, "floor_price", required(line, row, "floor_price")?)?;
    Ok(LotRow {
        line,
        product,
        household_id: id(line, "household_id", required(line, row, "household_id")?)?,
        quantity: fields::intake_quantity(q).map_err(|e| field_error(line, e))?,
        floor_price: fields::floor_price(floor).map_err(|e| field_error(line, e))?,
        received_at: get(row, "received_at")
            .map(|v| {
                parse_time(v, tz).ok_or_else(|| {
                    RowError::new(
                        line,
                        Some("received_at"),
                        format!("{v:?} is not a time like 2026-06-01 08:30 or RFC 3339"),
                    )
                })
            })
            .transpose()?,
    })
}

/// Parses a lots file; every bad row is reported.
pub fn parse_lots(text: &str, tz: Tz) -> Result<Vec<LotRow>, Vec<RowError>> {
    let (rows, errors) = parse_lots_partial(text, tz)?;
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

/// Parses a lots file into the rows that are valid on their own and the errors of the others,
/// so that the station's checks of the valid rows can be reported together with them. A bad
/// header is an error of the whole file.
pub fn parse_lots_partial(text: &str, tz: Tz) -> Result<(Vec<LotRow>, Vec<RowError>), Vec<RowError>> {
    let table = read_table(text, LOT_COLUMNS)?;
    if table.rows.first().is_some_and(|(_, r)| !r.contains_key("product_id") && !r.contains_key("product_name")) {
        return Err(vec![RowError::new(1, Some("product_id"), "missing column product_id or product_name")]);
    }
    let mut errors = table.errors;
    let mut rows = Vec::new();
    for (line, row) in &table.rows {
        match lot_row(*line, row, tz) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push(e),
        }
    }
    Ok((rows, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode("名称".as_bytes()).unwrap(), "名称");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend("名称".as_bytes());
        assert_eq!(decode(&bom).unwrap(), "名称");
        let (gbk, _, _) = encoding_rs::GBK.encode("阳山水蜜桃,斤");
        assert_eq!(decode(&gbk).unwrap(), "阳山水蜜桃,斤");
        assert!(decode(&[0xff, 0xff, 0xff]).is_none());
    }

    #[test]
    fn products_parse_with_chinese_headers() {
        let rows = parse_products("商品名称,单位,价格,状态\n阳山水蜜桃,斤,12.80,listed\n土鸡蛋,box,45,\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].price.cents(), rows[0].status), (2, 1280, ProductStatus::Listed));
        assert_eq!((rows[1].line, rows[1].status), (3, ProductStatus::Draft));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let text = "name,unit,price\n好,kg,1\n,kg,1\n坏,kg,-1\n\"多行\n名称\",kg,abc\n缺,kg\n";
        let errs = parse_products(text).unwrap_err();
        let lines: Vec<(u64, Option<&str>)> = errs.iter().map(|e| (e.line, e.field.as_deref())).collect();
        assert_eq!(lines, vec![(3, Some("name")), (4, Some("price")), (5, Some("name")), (7, None)]);
    }

    #[test]
    fn a_merchant_code_twice_in_the_file_is_an_error_of_its_second_row() {
        let text = "name,unit,price,商家编码\n桃,斤,1,TAO-1\n梨,斤,1,\n枣,斤,1,TAO-1\n杏,斤,1,a b\n";
        let (rows, errs) = parse_products_partial(text).unwrap();
        assert_eq!(rows.iter().map(|r| r.sku.as_deref()).collect::<Vec<_>>(), vec![Some("TAO-1"), None]);
        let got: Vec<(u64, Option<&str>, &str)> =
            errs.iter().map(|e| (e.line, e.field.as_deref(), e.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![(4, Some("sku"), "sku \"TAO-1\" is already on line 2"), (5, Some("sku"), "must be one word")]
        );
    }

    #[test]
    fn headers_are_checked() {
        let errs = parse_products("name,unit,cost\nx,kg,1\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().all(|e| e.line == 1));
        assert_eq!(parse_products("name,unit,price\n").unwrap_err()[0].reason, "the file has no rows");
    }

    #[test]
    fn lots_parse_times_in_the_local_zone() {
        let rows = parse_lots(
            "product_name,household_id,quantity,floor_price,received_at\n桃,3,100,12,2026-06-01 08:00\n",
            SH,
        )
        .unwrap();
        assert_eq!(rows[0].received_at.unwrap().to_rfc3339(), "2026-06-01T00:00:00+00:00");
        assert_eq!(rows[0].product, ProductRef::Name("桃".into()));
        let errs = parse_lots("product_id,household_id,quantity,floor_price\nx,3,0,12\n", SH).unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("product_id"));
        let errs = parse_lots("household_id,quantity,floor_price\n3,1,12\n", SH).unwrap_err();
        assert_eq!(errs[0].line, 1);
    }
}
