//! Each format end to end: exact rows, nets, line numbers, encodings and control totals.

use crate::*;
use chrono_tz::Tz;
use encoding_rs::GBK;

const SH: Tz = chrono_tz::Asia::Shanghai;

const GENERIC_SAMPLE: &[u8] = include_bytes!("../../../docs/statements/generic.csv");
const WECHAT_SAMPLE: &[u8] = include_bytes!("../../../docs/statements/wechat.csv");
const ALIPAY_SAMPLE: &[u8] = include_bytes!("../../../docs/statements/alipay.csv");

/// A row or a row error as one line of text, so that tests compare every value exactly.
fn show(item: &Result<Row, RowError>) -> String {
    match item {
        Ok(r) => format!(
            "{} {} {} {} fee {} at {} net {}",
            r.line,
            r.external_id,
            r.kind.as_str(),
            r.amount,
            r.fee,
            r.settled_at.to_rfc3339(),
            r.net().unwrap()
        ),
        Err(e) => format!("{}: {}", e.line, e.reason),
    }
}

fn read(bytes: &[u8], format: Format) -> (Vec<String>, Result<(), FileError>) {
    let mut reader = StatementReader::new(bytes, format, SH).unwrap();
    let items = reader.by_ref().map(|i| show(&i)).collect();
    (items, reader.finish())
}

fn open_err(bytes: &[u8], format: Format) -> FileError {
    StatementReader::new(bytes, format, SH).unwrap_err()
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn bom(text: &str) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.as_bytes());
    bytes
}

fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn formats_and_kinds_have_stable_names() {
    for f in Format::ALL {
        assert_eq!(Format::parse(f.as_str()), Some(f));
    }
    assert_eq!(Format::parse("WeChat"), Some(Format::Wechat));
    assert_eq!(Format::parse("csv"), None);
    let kinds = [Kind::Sale, Kind::Refund, Kind::Fee, Kind::Adjustment].map(Kind::as_str);
    assert_eq!(kinds, ["sale", "refund", "fee", "adjustment"]);
}

#[test]
fn a_reader_can_be_held_across_an_await() {
    fn send<T: Send>() {}
    send::<StatementReader<&[u8]>>();
    send::<FileError>();
}

#[test]
fn nets_follow_spec_9() {
    let row = |kind, amount, fee| Row {
        line: 2,
        external_id: "x".into(),
        kind,
        amount: Money::from_cents(amount),
        fee: Money::from_cents(fee),
        settled_at: chrono::DateTime::UNIX_EPOCH,
    };
    assert_eq!(row(Kind::Sale, 1000, 6).net(), Ok(Money::from_cents(994)));
    assert_eq!(row(Kind::Refund, 1000, 6).net(), Ok(Money::from_cents(-994)));
    assert_eq!(row(Kind::Fee, 200, 0).net(), Ok(Money::from_cents(-200)));
    assert_eq!(row(Kind::Adjustment, -350, 0).net(), Ok(Money::from_cents(-350)));
    assert_eq!(row(Kind::Sale, i64::MIN, 1).net(), Err(hezuo_core::Overflow));
}

// ---- generic ----

const GENERIC_ROWS: [&str; 5] = [
    "2 HZ-20261001-0001 sale 128.00 fee 0.77 at 2026-10-01T01:15:00+00:00 net 127.23",
    "3 HZ-20261001-0002 sale 45.50 fee 0.27 at 2026-10-01T02:02:00+00:00 net 45.23",
    "4 HZ-20261001-0001 refund 28.00 fee 0.17 at 2026-10-03T06:20:00+00:00 net -27.83",
    "5 HZ-20261001-0002 fee 2.00 fee 0.00 at 2026-10-04T16:00:00+00:00 net -2.00",
    "6 HZ-20261001-0003 adjustment -3.50 fee 0.00 at 2026-10-06T00:00:00+00:00 net -3.50",
];

#[test]
fn generic_sample_parses_exactly() {
    let (items, end) = read(GENERIC_SAMPLE, Format::Generic);
    assert_eq!(items, GENERIC_ROWS);
    assert_eq!(end, Ok(()));
}

#[test]
fn generic_reads_utf8_with_bom_and_gbk_with_chinese_headers() {
    let (items, end) = read(&bom(utf8(GENERIC_SAMPLE)), Format::Generic);
    assert_eq!((items, end), (GENERIC_ROWS.map(String::from).to_vec(), Ok(())));

    // Chinese headers and kinds, another column order, an extra column, CRLF, GBK.
    let text = "结算时间,备注,类型,商户订单号,金额,手续费\r\n\
                2026-10-01 09:15:00,桃子,销售,订单-甲,128.00,0.77\r\n\
                2026-10-03 14:20:00,,退款,订单-甲,28,0.17\r\n\
                2026-10-05,,手续费,订单-乙,2.00,0\r\n\
                2026-10-06 08:00:00,,调整,订单-乙,0.10,\r\n";
    let expected = [
        "2 订单-甲 sale 128.00 fee 0.77 at 2026-10-01T01:15:00+00:00 net 127.23",
        "3 订单-甲 refund 28.00 fee 0.17 at 2026-10-03T06:20:00+00:00 net -27.83",
        "4 订单-乙 fee 2.00 fee 0.00 at 2026-10-04T16:00:00+00:00 net -2.00",
        "5 订单-乙 adjustment 0.10 fee 0.00 at 2026-10-06T00:00:00+00:00 net 0.10",
    ];
    for bytes in [text.as_bytes().to_vec(), bom(text), gbk(text)] {
        let (items, end) = read(&bytes, Format::Generic);
        assert_eq!(items, expected);
        assert_eq!(end, Ok(()));
    }
}

#[test]
fn generic_bad_rows_are_reported_with_their_line_and_good_rows_still_come() {
    let long_id = "X".repeat(129);
    let text = format!(
        "external_id,kind,amount,fee,settled_at\n\
         A1,sale,10.00,0.06,2026-10-01 08:00:00\n\
         \n\
         A2,sale,10.00\n\
         A3,sale,10.00,0.06,2026-10-01 08:00:00,surplus\n\
         ,sale,10.00,0.06,2026-10-01 08:00:00\n\
         {long_id},sale,10.00,0.06,2026-10-01 08:00:00\n\
         A4,sell,10.00,0.06,2026-10-01 08:00:00\n\
         A5,sale,ten,0.06,2026-10-01 08:00:00\n\
         A6,sale,10.001,0.06,2026-10-01 08:00:00\n\
         A7,refund,-10.00,0.06,2026-10-01 08:00:00\n\
         A8,sale,92233720368547758.08,0,2026-10-01 08:00:00\n\
         A9,sale,10.00,-0.06,2026-10-01 08:00:00\n\
         A10,fee,1.00,0.01,2026-10-01 08:00:00\n\
         A11,sale,10.00,,2026-10-32 08:00:00\n\
         A12,sale,10.00,,\n\
         \"A13\nspans two lines\",sale,10.00,0.06,2026-10-01 08:00:00\n\
         \"A14\",sale,10.00,0.06,2026-10-01 08:00:00\n\
         A15,adjustment,-0.50,,2026-10-01T08:00:00Z\n\
         ,,,,\n\
         A16,sale,1.230,0,2026-10-01\n"
    );
    let (items, end) = read(text.as_bytes(), Format::Generic);
    assert_eq!(
        items,
        [
            "2 A1 sale 10.00 fee 0.06 at 2026-10-01T00:00:00+00:00 net 9.94",
            "4: too few fields: expected 5, found 3 (column fee is missing)",
            "5: too many fields: expected 5, found 6 (an unquoted comma in a value?)",
            "6: column external_id: is empty",
            "7: column external_id: longer than 128 characters",
            "8: column kind: \"sell\" is not sale, refund, fee or adjustment (销售, 退款, 手续费, 调整)",
            "9: column amount: \"ten\": not a decimal number",
            "10: column amount: \"10.001\": at most 2 decimal places are allowed",
            "11: column amount: \"-10.00\": must not be negative",
            "12: column amount: \"92233720368547758.08\": value is too large",
            "13: column fee: \"-0.06\": must not be negative",
            "14: column fee: must be empty or 0 on a fee row (its amount is the whole of it)",
            "15: column settled_at: \"2026-10-32 08:00:00\" is not a time like 2026-10-01 12:00:00, \
             2026-10-01 or RFC 3339 (2026-10-01T12:00:00+08:00)",
            "16: column settled_at: \"\" is not a time like 2026-10-01 12:00:00, \
             2026-10-01 or RFC 3339 (2026-10-01T12:00:00+08:00)",
            "17 A13\nspans two lines sale 10.00 fee 0.06 at 2026-10-01T00:00:00+00:00 net 9.94",
            "19 A14 sale 10.00 fee 0.06 at 2026-10-01T00:00:00+00:00 net 9.94",
            "20 A15 adjustment -0.50 fee 0.00 at 2026-10-01T08:00:00+00:00 net -0.50",
            // Trailing zeros are exact, so hezuo_core accepts them; a third significant
            // decimal is refused (line 10).
            "22 A16 sale 1.23 fee 0.00 at 2026-09-30T16:00:00+00:00 net 1.23",
        ]
    );
    assert_eq!(end, Ok(()));
}

#[test]
fn line_numbers_survive_crlf_blank_lines_and_quoted_line_breaks() {
    let text = "external_id,kind,amount,fee,settled_at\r\n\
                \r\n\
                A1,sale,1,0,2026-10-01\r\n\
                \"A2\r\nx\",sale,1,0,2026-10-01\r\n\
                \r\n\
                \n\
                A3,sale,x,0,2026-10-01\r\n\
                A4,sale,2,0,\"2026-10-01";
    let (items, end) = read(text.as_bytes(), Format::Generic);
    assert_eq!(
        items,
        [
            "3 A1 sale 1.00 fee 0.00 at 2026-09-30T16:00:00+00:00 net 1.00",
            "4 A2\r\nx sale 1.00 fee 0.00 at 2026-09-30T16:00:00+00:00 net 1.00",
            "8: column amount: \"x\": not a decimal number",
            // The unterminated quote runs to the end of the file; the line is still its own.
            "9 A4 sale 2.00 fee 0.00 at 2026-09-30T16:00:00+00:00 net 2.00",
        ]
    );
    assert_eq!(end, Ok(()));
}

#[test]
fn headers_are_checked() {
    let err = open_err(b"external_id,kind,amount,settled_at\nA,sale,1,2026-10-01\n", Format::Generic);
    assert_eq!(err, FileError::MissingColumns { missing: vec!["fee".into()] });
    assert_eq!(err.to_string(), "the header lacks the column(s) fee");
    let err = open_err(b"order,kind,amount,fee,date\n", Format::Generic);
    assert_eq!(err, FileError::MissingColumns { missing: vec!["external_id".into(), "settled_at".into()] });
    let err = open_err("external_id,商户订单号,kind,amount,fee,settled_at\n".as_bytes(), Format::Generic);
    assert_eq!(err, FileError::DuplicateColumn { column: "external_id".into() });

    let wechat_without_fee = utf8(WECHAT_SAMPLE).replacen(",手续费,", ",服务费,", 1);
    let err = open_err(wechat_without_fee.as_bytes(), Format::Wechat);
    assert_eq!(err, FileError::MissingColumns { missing: vec!["手续费".into()] });

    let alipay = GBK.decode(ALIPAY_SAMPLE).0.replacen("业务类型", "类型", 1);
    let err = open_err(&gbk(&alipay), Format::Alipay);
    assert_eq!(err, FileError::MissingColumns { missing: vec!["业务类型".into()] });
}

#[test]
fn empty_files_and_files_that_are_not_text() {
    for format in Format::ALL {
        assert_eq!(open_err(b"", format), FileError::Empty);
        assert_eq!(open_err(b"\xEF\xBB\xBF", format), FileError::Empty);
        assert_eq!(open_err(b"\n\r\n  \n", format), FileError::Empty);
        assert_eq!(open_err(b"\xff\xfee\x00x\x00t\x00", format), FileError::NotText);
        assert_eq!(open_err(b"external_id,kind\n\xff\xff,sale\n", format), FileError::NotText);
    }
    assert_eq!(open_err("#支付宝账务明细查询\n#账号：[1]\n".as_bytes(), Format::Alipay), FileError::Empty);
    // A header alone is a readable statement with nothing in it.
    assert_eq!(read(b"external_id,kind,amount,fee,settled_at\n", Format::Generic), (vec![], Ok(())));
}

#[test]
fn encoding_is_decided_past_an_ascii_prefix_and_bad_bytes_later_are_row_errors() {
    let mut text = b"external_id,kind,amount,fee,settled_at\n".to_vec();
    let filler = b"A,sale,1.00,0,2026-10-01\n";
    let rows = crate::text::SNIFF_LEN / filler.len() + 1;
    for _ in 0..rows {
        text.extend(filler);
    }
    text.extend(gbk("订单-甲,退款,1.00,0,2026-10-01\n"));
    text.extend(b"B\xff,sale,1.00,0,2026-10-01\n");
    let (items, end) = read(&text, Format::Generic);
    assert_eq!(items.len(), rows + 2);
    let line = rows as u64 + 2;
    assert_eq!(items[rows], format!("{line} 订单-甲 refund 1.00 fee 0.00 at 2026-09-30T16:00:00+00:00 net -1.00"));
    assert_eq!(items[rows + 1], format!("{}: column external_id: is not valid UTF-8 or GBK text", line + 1));
    assert_eq!(end, Ok(()));
}

/// Yields `head`, then `rows` copies of `row`, then `tail`, without holding them.
struct Generated {
    head: Vec<u8>,
    row: Vec<u8>,
    rows: u64,
    tail: Vec<u8>,
    state: (u8, u64, usize),
    fail_at_row: Option<u64>,
}

impl Generated {
    fn new(head: &str, row: &str, rows: u64, tail: &str) -> Generated {
        Generated { head: head.into(), row: row.into(), rows, tail: tail.into(), state: (0, 0, 0), fail_at_row: None }
    }
}

impl std::io::Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            let (part, index, offset) = &mut self.state;
            if *part == 1 && Some(*index) == self.fail_at_row {
                return if n > 0 { Ok(n) } else { Err(std::io::Error::other("connection reset")) };
            }
            let source = match *part {
                0 => &self.head,
                1 if *index < self.rows => &self.row,
                1 => {
                    *part = 2;
                    continue;
                }
                2 => &self.tail,
                _ => break,
            };
            let k = (source.len() - *offset).min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&source[*offset..*offset + k]);
            n += k;
            *offset += k;
            if *offset == source.len() {
                *offset = 0;
                if *part == 1 {
                    *index += 1;
                } else {
                    *part += 1;
                }
            }
        }
        Ok(n)
    }
}

#[test]
fn a_read_error_mid_file_makes_the_file_unusable() {
    let mut input = Generated::new("external_id,kind,amount,fee,settled_at\n", "A,sale,1,0,2026-10-01\n", 100_000, "");
    input.fail_at_row = Some(90_000);
    let mut reader = StatementReader::new(input, Format::Generic, SH).unwrap();
    assert_eq!(reader.by_ref().count(), 90_000);
    assert_eq!(reader.finish(), Err(FileError::Io("connection reset".into())));
}

/// `cargo test -p hezuo-recon --release -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release mode"]
fn a_million_generic_rows_stream_quickly() {
    let n = 1_000_000;
    let input = Generated::new(
        "external_id,kind,amount,fee,settled_at\n",
        "HZ-20261001-000123,sale,128.00,0.77,2026-10-01 09:15:00\n",
        n,
        "",
    );
    let started = std::time::Instant::now();
    let mut reader = StatementReader::new(input, Format::Generic, SH).unwrap();
    let mut total = Money::ZERO;
    let mut count = 0u64;
    for row in reader.by_ref() {
        total = total.checked_add(row.unwrap().net().unwrap()).unwrap();
        count += 1;
    }
    reader.finish().unwrap();
    let elapsed = started.elapsed();
    println!("{count} rows in {elapsed:?}");
    assert_eq!((count, total), (n, Money::from_cents(12723 * 1_000_000)));
}

// ---- wechat ----

const WECHAT_ROWS: [&str; 3] = [
    "2 HZ-20261001-0001 sale 128.00 fee 0.77 at 2026-10-01T01:15:00+00:00 net 127.23",
    "3 HZ-20261001-0002 sale 45.50 fee 0.27 at 2026-10-01T02:02:00+00:00 net 45.23",
    "4 HZ-20261001-0001 refund 28.00 fee 0.17 at 2026-10-03T06:20:00+00:00 net -27.83",
];

#[test]
fn wechat_sample_parses_exactly_in_every_encoding() {
    let text = utf8(&WECHAT_SAMPLE[3..]);
    assert!(WECHAT_SAMPLE.starts_with(b"\xEF\xBB\xBF"));
    for bytes in [WECHAT_SAMPLE.to_vec(), text.as_bytes().to_vec(), gbk(text)] {
        let (items, end) = read(&bytes, Format::Wechat);
        assert_eq!(items, WECHAT_ROWS);
        assert_eq!(end, Ok(()));
    }
}

/// A minimal WeChat bill: the required columns among a few ignored ones.
fn wechat_bill(rows: &[&str], summary: &str) -> String {
    let mut text = "交易时间,公众账号ID,商户订单号,交易状态,应结订单金额,退款金额,商品名称,手续费,费率\n".to_owned();
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.push_str(summary);
    text
}

const W_SALE: &str = "`2026-10-01 09:15:00,`wx1,`W1,`SUCCESS,`100.00,`0.00,`桃,`0.60,`0.60%";
const W_REFUND: &str = "`2026-10-02 09:15:00,`wx1,`W1,`REFUND,`0.00,`40.00,`桃,`-0.24,`0.60%";
const W_SUMMARY_HEADER: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n";

#[test]
fn wechat_bad_rows_keep_their_place_in_the_control_totals() {
    let rows = [
        W_SALE,
        "`2026-10-01 10:00:00,`wx1,`W2,`REVOKED,`5.00,`0.00,`桃,`0.03,`0.60%",
        "`2026-10-01 11:00:00,`wx1,`,`SUCCESS,`20.00,`0.00,`桃,`0.12,`0.60%",
        "`yesterday,`wx1,`W4,`SUCCESS,`30.00,`0.00,\"桃\n子\",`0.18,`0.60%",
        "`2026-10-01 12:00:00,`wx1,`W5,`SUCCESS,`abc,`0.00,`桃,`0.00,`0.60%",
        W_REFUND,
    ];
    // Six records; the sums take every readable amount of a known status: 100 + 20 + 30 sold,
    // 40 refunded, fees 0.60 + 0.12 + 0.18 + 0.00 − 0.24. The unreadable "abc" adds nothing.
    let summary = format!("{W_SUMMARY_HEADER}`6,`150.00,`40.00,`0.00,`0.66,`195.00,`40.00\n");
    let (items, end) = read(wechat_bill(&rows, &summary).as_bytes(), Format::Wechat);
    assert_eq!(
        items,
        [
            "2 W1 sale 100.00 fee 0.60 at 2026-10-01T01:15:00+00:00 net 99.40",
            "3: column 交易状态: \"REVOKED\" is not SUCCESS or REFUND",
            "4: column 商户订单号: is empty",
            "5: column 交易时间: \"yesterday\" is not a time like 2026-10-01 12:00:00, \
             2026-10-01 or RFC 3339 (2026-10-01T12:00:00+08:00)",
            "7: column 应结订单金额: \"abc\": not a decimal number",
            "8 W1 refund 40.00 fee 0.24 at 2026-10-02T01:15:00+00:00 net -39.76",
        ]
    );
    assert_eq!(end, Ok(()));
}

#[test]
fn wechat_control_totals_must_agree() {
    let bill =
        |summary_values: &str| wechat_bill(&[W_SALE, W_REFUND], &format!("{W_SUMMARY_HEADER}{summary_values}\n"));
    let check = |summary_values: &str| read(bill(summary_values).as_bytes(), Format::Wechat).1;
    assert_eq!(check("`2,`100.00,`40.00,`0.00,`0.36,`200.00,`40.00"), Ok(()));
    let mismatch = |what: &str, stated: &str, found: &str| {
        Err(FileError::ControlTotal { what: what.into(), stated: stated.into(), found: found.into() })
    };
    let err = check("`3,`100.00,`40.00,`0.00,`0.36,`200.00,`40.00");
    assert_eq!(err, mismatch("总交易单数", "3", "2"));
    assert_eq!(
        err.unwrap_err().to_string(),
        "the statement says 总交易单数 is 3 but its records give 2: the file is truncated or corrupt"
    );
    assert_eq!(check("`2,`100.01,`40.00,`0.00,`0.36,`200.00,`40.00"), mismatch("应结订单总金额", "100.01", "100.00"));
    assert_eq!(check("`2,`100.00,`39.99,`0.00,`0.36,`200.00,`40.00"), mismatch("退款总金额", "39.99", "40.00"));
    assert_eq!(check("`2,`100.00,`40.00,`0.00,`0.84,`200.00,`40.00"), mismatch("手续费总金额", "0.84", "0.36"));
}

#[test]
fn wechat_without_its_summary_is_truncated() {
    let (items, end) = read(wechat_bill(&[W_SALE, W_REFUND], "").as_bytes(), Format::Wechat);
    assert_eq!(items.len(), 2);
    assert_eq!(end, Err(FileError::MissingSummary("summary (the 总交易单数 lines after the records)".into())));
    let (_, end) = read(wechat_bill(&[W_SALE], W_SUMMARY_HEADER).as_bytes(), Format::Wechat);
    assert_eq!(end, Err(FileError::MissingSummary("summary values after the 总交易单数 line".into())));
    assert_eq!(
        end.unwrap_err().to_string(),
        "the file has no summary values after the 总交易单数 line: it is truncated"
    );
}

#[test]
fn wechat_summary_must_be_readable_and_last() {
    let bill = wechat_bill(&[W_SALE], &format!("{W_SUMMARY_HEADER}`1,`1OO.00,`0.00,`0.00,`0.60,`100.00,`0.00\n"));
    let (_, end) = read(bill.as_bytes(), Format::Wechat);
    assert_eq!(
        end,
        Err(FileError::BadSummary { line: 4, reason: "应结订单总金额 \"1OO.00\": not a decimal number".into() })
    );
    let bill =
        wechat_bill(&[W_SALE], &format!("{W_SUMMARY_HEADER}`1,`100.00,`0.00,`0.00,`0.60,`100.00,`0.00\n{W_SALE}\n"));
    let (items, end) = read(bill.as_bytes(), Format::Wechat);
    assert_eq!(items.len(), 1);
    assert_eq!(end, Err(FileError::BadSummary { line: 5, reason: "unexpected content after the summary".into() }));
}

// ---- alipay ----

const ALIPAY_ROWS: [&str; 5] = [
    "6 HZ-20261001-0004 sale 128.00 fee 0.00 at 2026-10-01T03:00:00+00:00 net 128.00",
    "7 HZ-20261001-0005 sale 150.00 fee 0.00 at 2026-10-02T01:30:00+00:00 net 150.00",
    "8 HZ-20261001-0004 fee 0.77 fee 0.00 at 2026-10-02T01:31:00+00:00 net -0.77",
    "9 HZ-20261001-0004 refund 15.03 fee 0.00 at 2026-10-04T08:45:10+00:00 net -15.03",
    "10 HZ-20261001-0006 adjustment 22.00 fee 0.00 at 2026-10-05T00:00:00+00:00 net 22.00",
];

fn alipay_text() -> String {
    let (text, had_errors) = GBK.decode_without_bom_handling(ALIPAY_SAMPLE);
    assert!(!had_errors);
    assert!(ALIPAY_SAMPLE.len() <= 2048);
    text.into_owned()
}

#[test]
fn alipay_sample_parses_exactly_in_every_encoding() {
    let text = alipay_text();
    for bytes in [ALIPAY_SAMPLE.to_vec(), text.as_bytes().to_vec(), bom(&text)] {
        let (items, end) = read(&bytes, Format::Alipay);
        assert_eq!(items, ALIPAY_ROWS);
        assert_eq!(end, Ok(()));
    }
}

/// A minimal Alipay statement in GBK.
fn alipay_file(rows: &[&str], footer: &str) -> Vec<u8> {
    let mut text = "#支付宝账务明细查询\n\
                    #账号：[20880000000000000156]\n\
                    #-----------------账务明细列表-----------------\n\
                    账务流水号,商户订单号,发生时间,收入金额（+元）,支出金额（-元）,业务类型,备注\n"
        .to_owned();
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text.push_str(footer);
    gbk(&text)
}

const A_FOOTER: &str = "#-----------------账务明细列表结束-----------------\n";

#[test]
fn alipay_bad_rows_and_what_they_add_to_the_footer() {
    let rows = [
        "1\t,A1\t,2026-10-01 08:00:00\t,10.00\t,\t,在线支付\t,",
        "2\t,\t,2026-10-01 08:00:00\t,5.00\t,\t,在线支付\t,",
        "3\t,A3\t,2026-10-01 08:00:00\t,\t,\t,在线支付\t,",
        "4\t,A4\t,2026/10/01 08:00\t,\t,1.00\t,交易退款\t,\"退款\n原因\"",
        "5\t,A5\t,2026-10-01 08:00:00\t,3.00\t,1.00\t,收费\t,",
        "6\t,A6\t,2026-10-01 08:00:00\t,-3.00\t,\t,在线支付\t,",
        "7\t,A7\t,10/01/2026\t,\t,2.00\t,服务费\t,",
        "8\t,A8\t,2026-10-01 08:00:00\t,\t,0.50\t,其他\t,",
        "9\t,A9",
    ];
    // Malformed records count where their amount is readable: 收入 > 0 on lines 5 (10.00),
    // 6 (5.00) and 10 (3.00), but not −3.00 on line 11; 支出 > 0 on lines 8 (1.00), 10 (1.00),
    // 12 (2.00) and 13 (0.50). Line 14 is cut short and adds nothing.
    let footer = format!(
        "{A_FOOTER}#收入合计：3笔，共18.00元\n#支出合计：4笔，共4.50元\n#导出时间：[2026年11月02日 10:00:00]\n"
    );
    let (items, end) = read(&alipay_file(&rows, &footer), Format::Alipay);
    assert_eq!(
        items,
        [
            "5 A1 sale 10.00 fee 0.00 at 2026-10-01T00:00:00+00:00 net 10.00",
            "6: column 商户订单号: is empty",
            "7: column 收入金额: is empty on a 在线支付 row",
            "8 A4 refund 1.00 fee 0.00 at 2026-10-01T00:00:00+00:00 net -1.00",
            "10: column 收入金额: must be empty or 0 on a 收费 row",
            "11: column 收入金额: \"-3.00\": must not be negative",
            "12: column 发生时间: \"10/01/2026\" is not a time like 2026-10-01 12:00:00, \
             2026-10-01 or RFC 3339 (2026-10-01T12:00:00+08:00)",
            "13 A8 adjustment -0.50 fee 0.00 at 2026-10-01T00:00:00+00:00 net -0.50",
            "14: too few fields: expected 7, found 2 (column 发生时间 is missing)",
        ]
    );
    assert_eq!(end, Ok(()));
}

#[test]
fn alipay_footer_totals_must_agree() {
    let text = alipay_text();
    let check = |text: &str| read(&gbk(text), Format::Alipay).1;
    let mismatch = |what: &str, stated: &str, found: &str| {
        Err(FileError::ControlTotal { what: what.into(), stated: stated.into(), found: found.into() })
    };
    assert_eq!(check(&text.replace("共300.00元", "共300.01元")), mismatch("收入合计 (amount)", "300.01", "300.00"));
    assert_eq!(check(&text.replace("支出合计：2笔", "支出合计：3笔")), mismatch("支出合计 (number of rows)", "3", "2"));
    // A data line lost in transit.
    let cut: String = text.split_inclusive('\n').filter(|l| !l.contains("HZ-20261001-0005")).collect();
    assert_eq!(check(&cut), mismatch("收入合计 (number of rows)", "3", "2"));
    // ASCII punctuation in the footer is read too.
    assert_eq!(check(&text.replace("#收入合计：3笔，共300.00元", "#收入合计:3笔,共300.00元")), Ok(()));
}

#[test]
fn alipay_without_footer_totals_is_truncated() {
    let text = alipay_text();
    let end = text.find("账务明细列表结束").unwrap();
    let end = text[..end].rfind('\n').unwrap() + 1;
    let (items, result) = read(&gbk(&text[..end]), Format::Alipay);
    assert_eq!(items, ALIPAY_ROWS);
    assert_eq!(result, Err(FileError::MissingSummary("footer line #收入合计：N笔，共X元".into())));

    let no_expense: String = text.split_inclusive('\n').filter(|l| !l.starts_with("#支出合计")).collect();
    assert_eq!(check_alipay(&no_expense), Err(FileError::MissingSummary("footer line #支出合计：N笔，共X元".into())));

    let garbled = text.replace("#收入合计：3笔，共300.00元", "#收入合计：三笔");
    assert_eq!(
        check_alipay(&garbled),
        Err(FileError::BadSummary {
            line: 12, reason: "收入合计 is not like #收入合计：3笔，共300.00元".into()
        })
    );
    let after = format!("{text}20261006,,HZ-9,,2026-10-06 08:00:00,,1.00,,,,在线支付,\n");
    assert_eq!(
        check_alipay(&after),
        Err(FileError::BadSummary { line: 15, reason: "unexpected content after the footer".into() })
    );
}

fn check_alipay(text: &str) -> Result<(), FileError> {
    read(&gbk(text), Format::Alipay).1
}
