//! Village income and reports (SPEC §10, API.md "Reports") through the HTTP API: SPEC §7's month
//! with its close, a second month and its close, a year's rent paid in January and a removed
//! entry, checked to the cent in JSON, CSV and xlsx; bad input; and a property over random
//! months that every breakdown adds up and every member account closes on the ledger.

use crate::orders::{World, order_at, spec_world};
use crate::periods::spec_month;
use hezuo_app::{Role, auth::ScopeIds};
use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn strs(v: &Value, list: &str, key: &str) -> Vec<String> {
    v[list].as_array().unwrap().iter().map(|x| x[key].as_str().unwrap_or("null").to_owned()).collect()
}

async fn village_token(app: &TestApp, village: i64) -> String {
    app.token(Role::Village, ScopeIds { village_id: Some(village), ..Default::default() }).await
}

async fn ok(app: &TestApp, path: &str, token: &str) -> Value {
    let (st, v) = app.get(path, token).await;
    assert_eq!(st, StatusCode::OK, "GET {path}: {v}");
    v
}

/// The body of a report file.
async fn file(app: &TestApp, path: &str, token: &str) -> (String, Vec<u8>) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    (ct, res.bytes().await.unwrap().to_vec())
}

/// The rows of every worksheet of an xlsx, each cell as text (numbers with the decimals of
/// their format: money 2, quantities 3, ratios 4).
fn xlsx_sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx");
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            (n, range.rows().map(<[calamine::Data]>::to_vec).collect())
        })
        .collect()
}

/// A cell against the JSON value it shows: money as a number equal to the decimal text, ids and
/// codes as text, flags as 是/否, nothing for null.
fn same(cell: &calamine::Data, want: &Value) {
    use calamine::Data;
    match (cell, want) {
        (Data::Empty, Value::Null) => {}
        (Data::String(t), Value::String(w)) => assert_eq!(t, w),
        (Data::String(t), Value::Number(n)) => assert_eq!(t, &n.to_string(), "an id as text"),
        (Data::String(t), Value::Bool(b)) => assert_eq!(t, if *b { "是" } else { "否" }),
        (Data::Float(f), Value::String(w)) => {
            let decimals = w.split('.').nth(1).map_or(0, str::len);
            assert_eq!(format!("{f:.decimals$}"), *w, "a number cell");
        }
        (Data::Float(f), Value::Number(n)) => assert_eq!(format!("{f}"), n.to_string()),
        (Data::Int(i), Value::Number(n)) => assert_eq!(i.to_string(), n.to_string()),
        (c, w) => panic!("cell {c:?} for {w}"),
    }
}

/// Every cell of a sheet's data rows against the JSON rows, column by column (`keys`).
fn sheet_is(rows: &[Vec<calamine::Data>], headers: &[&str], json_rows: &[Value], keys: &[&str]) {
    let head: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(head, headers);
    assert_eq!(rows.len() - 1, json_rows.len(), "data rows");
    for (row, j) in rows[1..].iter().zip(json_rows) {
        for (i, key) in keys.iter().enumerate() {
            let want = key.split('.').fold(j, |v, k| &v[k]);
            same(row.get(i).unwrap_or(&calamine::Data::Empty), want);
        }
    }
}

/// SPEC §7's month (closed), April with one more order (closed), a year's rent of village A
/// paid in January, a service entry removed again, and 2025's rent for the growth.
async fn scenario(app: &TestApp) -> (World, String) {
    let w = spec_world(app).await;
    let [va, _] = w.villages;
    let a = village_token(app, va).await;
    let alliance = app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await;
    let (st, v) = app.patch(&format!("/api/v1/villages/{va}"), &app.admin, json!({"income_target": "10000.00"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    spec_month(app, &w).await;
    app.set_time(Some("2026-04-02T09:00:00+08:00"));
    let (st, v) =
        app.post(&format!("/api/v1/cooperatives/{}/periods/2026-03/close", w.coop), &alliance, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.set_time(Some("2026-04-10T12:00:00+08:00"));
    let (st, v) = app
        .post("/api/v1/orders", &w.staff, order_at(&w, "own", "O-3", "5", "20.00", "2026-04-10T10:00:00+08:00"))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // From L2 (H2, floor 15.00): H = max(70.00, 75.00), S 5.00, K 5.00 to village B, C 15.00.
    assert_eq!(v["lines"][0]["parts"][0]["household"], "75.00");

    let income = format!("/api/v1/villages/{va}/income");
    let (st, rent) = app
        .post(
            &income,
            &a,
            json!({"date": "2026-01-05", "amount": "10000.00", "category": "rent", "note": "鱼塘租金 2026 全年",
                   "covers_from": "2026-01", "covers_to": "2026-12"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rent}");
    // 10,000.00 over 12 months: 833.33 each and the 4 cents left to the first four months.
    let months = strs(&rent, "months", "amount");
    assert_eq!(months[..5], ["833.34", "833.34", "833.34", "833.34", "833.33"]);
    assert_eq!(months.len(), 12);
    let (st, service) = app
        .post(
            &income,
            &app.admin,
            json!({"date": "2026-04-15", "amount": 500, "category": "service", "note": "代收快递"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{service}");
    let (st, v) = app
        .post(
            &income,
            &a,
            json!({"date": "2025-06-20", "amount": "8000.00", "category": "rent", "note": "2025 年租金"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, reversal) = app.call("DELETE", &format!("{income}/{}", service["id"]), Some(&a), None).await;
    assert_eq!(st, StatusCode::OK, "{reversal}");
    assert_eq!((s(&reversal["amount"]), reversal["reverses_id"].as_i64()), ("-500.00", service["id"].as_i64()));
    assert_eq!(reversal["date"], "2026-04-10");
    assert_eq!(strs(&reversal, "months", "amount"), ["-500.00"]);

    app.set_time(Some("2026-05-02T09:00:00+08:00"));
    let (st, v) =
        app.post(&format!("/api/v1/cooperatives/{}/periods/2026-04/close", w.coop), &alliance, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // April: B 15.00, R 1.50, D 13.50, T 8.10 to H2; 5.40 by capital: A 3.24, H1 1.62, H2 0.54.
    assert_eq!(strs(&v, "dividends", "amount"), ["3.24", "1.62", "0.54"]);
    (w, a)
}

async fn every_report_of_a_known_year_to_the_cent(app: TestApp) {
    let (w, a) = scenario(&app).await;
    let [va, vb] = w.villages;
    let [h1, h2] = w.households;

    // Village A: March 76.40 sales share (10.00 + 68.40 − 2.00) and 38.14 dividends; April's
    // close 3.24; the rent 833.34/833.33 a month; the removed service entry nets to nothing.
    let r = ok(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2026"), &a).await;
    assert_eq!(r["village"], json!({"id": va, "name": "A村", "code": "320206103201"}));
    assert_eq!(r["months"].as_array().unwrap().len(), 12);
    assert_eq!(
        r["months"][0],
        json!({"month": "2026-01", "sales_share": "0.00", "dividends": "0.00", "other": "833.34", "total": "833.34"})
    );
    assert_eq!(
        r["months"][2],
        json!({"month": "2026-03", "sales_share": "76.40", "dividends": "38.14", "other": "833.34", "total": "947.88"})
    );
    assert_eq!(
        r["months"][3],
        json!({"month": "2026-04", "sales_share": "0.00", "dividends": "3.24", "other": "833.34", "total": "836.58"})
    );
    assert_eq!(
        r["months"][11],
        json!({"month": "2026-12", "sales_share": "0.00", "dividends": "0.00", "other": "833.33", "total": "833.33"})
    );
    for (k, want) in [("sales_share", "76.40"), ("dividends", "41.38"), ("other", "10000.00"), ("total", "10117.78")] {
        assert_eq!(s(&r[k]), want, "{k}");
    }
    assert_eq!((s(&r["target"]), &r["meets_target"], &r["weak"]), ("10000.00", &json!(true), &json!(false)));
    assert_eq!(
        (&r["year_complete"], s(&r["previous_year_total"]), s(&r["growth"])),
        (&json!(false), "8000.00", "0.2647")
    );
    // The collective's ledger balance for the year is its sales share and dividends.
    let (_, l) = app.get(&format!("/api/v1/ledger/accounts/village:{va}?from=2026-01-01&to=2026-12-31"), &a).await;
    assert_eq!(l["balance"], "117.78");

    // Village B: 3.80 in March, 5.00 in April, nothing before: weak, no growth.
    let b = ok(&app, &format!("/api/v1/reports/villages/{vb}/revenue?year=2026"), &app.admin).await;
    assert_eq!(
        (s(&b["total"]), s(&b["target"]), &b["weak"], &b["growth"]),
        ("8.80", "100000.00", &json!(true), &Value::Null)
    );
    assert_eq!(strs(&b, "months", "sales_share")[2..4], ["3.80", "5.00"]);
    // 2025 has ended: year_complete; its growth has no previous year.
    let old = ok(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2025"), &a).await;
    assert_eq!(
        (s(&old["total"]), &old["year_complete"], &old["weak"], &old["growth"]),
        ("8000.00", &json!(true), &json!(true), &Value::Null)
    );
    assert_eq!(old["months"][5]["other"], "8000.00");

    // Ranking: A first, B weak.
    let rank = ok(&app, "/api/v1/reports/villages?year=2026", &app.admin).await;
    assert_eq!(
        (rank["year"].as_i64(), s(&rank["target_default"]), rank["weak_count"].as_i64()),
        (Some(2026), "100000.00", Some(1))
    );
    let rows: Vec<(i64, i64, &str, bool)> = rank["villages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["rank"].as_i64().unwrap(),
                v["village"]["id"].as_i64().unwrap(),
                s(&v["total"]),
                v["weak"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![(1, va, "10117.78", false), (2, vb, "8.80", true)]);
    // The village user ranks only its own village.
    let mine = ok(&app, "/api/v1/reports/villages?year=2026", &a).await;
    assert_eq!(mine["villages"].as_array().unwrap().len(), 1);

    // Income entries of 2026: the rent, the service entry and its reversal (2025's rent not).
    let list = ok(&app, &format!("/api/v1/villages/{va}/income?year=2026"), &a).await;
    assert_eq!(strs(&list, "items", "amount"), ["10000.00", "500.00", "-500.00"]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[1]["reversed_by"], items[2]["id"]);
    assert_eq!(items[2]["reverses_id"], items[1]["id"]);
    assert_eq!((&items[0]["covers_from"], &items[0]["covers_to"]), (&json!("2026-01"), &json!("2026-12")));
    let all = ok(&app, &format!("/api/v1/villages/{va}/income"), &a).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    // Removed once: a second removal, or removing the reversal, is a conflict; nothing changes.
    let (st, v) = app.call("DELETE", &format!("/api/v1/villages/{va}/income/{}", items[1]["id"]), Some(&a), None).await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "already_reversed"), "{v}");
    let (st, v) = app.call("DELETE", &format!("/api/v1/villages/{va}/income/{}", items[2]["id"]), Some(&a), None).await;
    assert_eq!((st, code(&v)), (StatusCode::CONFLICT, "is_reversal"), "{v}");
    let again = ok(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2026"), &a).await;
    assert_eq!(again["other"], "10000.00");

    // H1's member account for 2026: the two sale parts (the floor raised 957.60 to 1080.00),
    // the refund's reversal, March's rebate and dividend, April's dividend.
    let m = ok(&app, &format!("/api/v1/reports/households/{h1}/statement?from=2026-01-01&to=2026-12-31"), &a).await;
    assert_eq!(m["household"]["village"]["id"].as_i64(), Some(va));
    assert_eq!(m["household"]["members"], 4);
    let lines: Vec<(String, String, String, String, bool)> = m["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                s(&l["date"]).to_owned(),
                s(&l["kind"]).to_owned(),
                s(&l["share"]).to_owned(),
                s(&l["amount"]).to_owned(),
                l["floor_applied"].as_bool().unwrap(),
            )
        })
        .collect();
    let line =
        |d: &str, k: &str, sh: &str, a: &str, f: bool| (d.to_owned(), k.to_owned(), sh.to_owned(), a.to_owned(), f);
    assert_eq!(
        lines,
        vec![
            line("2026-03-10", "sale", "140.00", "140.00", false),
            line("2026-03-12", "sale", "957.60", "1080.00", true),
            line("2026-03-20", "refund", "-28.00", "-28.00", false),
            line("2026-03-31", "rebate", "90.85", "90.85", false),
            line("2026-03-31", "dividend", "19.07", "19.07", false),
            line("2026-04-30", "dividend", "1.62", "1.62", false),
        ]
    );
    let first = &m["lines"][0];
    assert_eq!(
        (s(&first["external_id"]), s(&first["product"]), s(&first["quantity"]), s(&first["gross"])),
        ("O-1", "peaches", "10.000", "200.00")
    );
    assert_eq!((s(&m["lines"][1]["channel"]), s(&m["lines"][1]["gross"])), ("taobao", "1440.00"));
    assert_eq!((s(&m["lines"][3]["basis"]), s(&m["lines"][3]["period"])), ("1528.00", "2026-03"));
    assert_eq!(s(&m["lines"][4]["capital"]), "30000.00");
    for (k, want) in [
        ("opening", "0.00"),
        ("closing", "1303.54"),
        ("total", "1303.54"),
        ("per_member", "325.89"),
        ("capital", "30000.00"),
        ("transactions_amount", "1528.00"),
    ] {
        assert_eq!(s(&m[k]), want, "{k}");
    }
    let (_, l) = app.get(&format!("/api/v1/ledger/accounts/household:{h1}?to=2026-12-31"), &app.admin).await;
    assert_eq!(l["balance"], m["closing"]);
    // A part of March only: opening on what was booked before.
    let part = ok(&app, &format!("/api/v1/reports/households/{h1}/statement?from=2026-03-15&to=2026-03-31"), &a).await;
    assert_eq!((s(&part["opening"]), s(&part["total"]), s(&part["closing"])), ("1220.00", "81.92", "1301.92"));
    assert_eq!(part["lines"].as_array().unwrap().len(), 3);
    assert_eq!(part["transactions_amount"], "-40.00");
    // H2: both its parts under the floor, two rebates and two dividends.
    let m2 =
        ok(&app, &format!("/api/v1/reports/households/{h2}/statement?from=2026-01-01&to=2026-12-31"), &app.admin).await;
    assert_eq!(strs(&m2, "lines", "amount"), ["75.00", "4.52", "6.36", "75.00", "8.10", "0.54"]);
    assert_eq!(strs(&m2, "lines", "share"), ["53.20", "4.52", "6.36", "70.00", "8.10", "0.54"]);
    for (k, want) in [("closing", "169.52"), ("per_member", "84.76"), ("transactions_amount", "176.00")] {
        assert_eq!(s(&m2[k]), want, "{k}");
    }

    // Station sales of 2026: every breakdown adds up to the totals.
    let sales =
        ok(&app, &format!("/api/v1/reports/stations/{}/sales?from=2026-01-01&to=2026-12-31", w.station), &w.staff)
            .await;
    assert_eq!(
        sales["by_product"],
        json!([{"product_id": w.peach, "name": "peaches", "quantity": "110.000", "gross": "1820.00", "refunded": "40.00", "net": "1780.00"}])
    );
    assert_eq!(
        sales["by_channel"],
        json!([
            {"channel": "own", "orders": 2, "gross": "300.00", "fee": "0.00", "refunded": "40.00", "net": "260.00"},
            {"channel": "taobao", "orders": 1, "gross": "1520.00", "fee": "76.00", "refunded": "0.00", "net": "1520.00"}
        ])
    );
    assert_eq!(
        sales["by_day"],
        json!([
            {"date": "2026-03-10", "orders": 1, "gross": "200.00", "refunded": "0.00", "net": "200.00"},
            {"date": "2026-03-12", "orders": 1, "gross": "1520.00", "refunded": "0.00", "net": "1520.00"},
            {"date": "2026-03-20", "orders": 0, "gross": "0.00", "refunded": "40.00", "net": "-40.00"},
            {"date": "2026-04-10", "orders": 1, "gross": "100.00", "refunded": "0.00", "net": "100.00"}
        ])
    );
    assert_eq!(
        sales["totals"],
        json!({"orders": 3, "quantity": "110.000", "gross": "1820.00", "fee": "76.00", "refunded": "40.00", "net": "1780.00"})
    );
    let march =
        ok(&app, &format!("/api/v1/reports/stations/{}/sales?from=2026-03-11&to=2026-03-31", w.station), &w.staff)
            .await;
    assert_eq!(
        march["totals"],
        json!({"orders": 1, "quantity": "95.000", "gross": "1520.00", "fee": "76.00", "refunded": "40.00", "net": "1480.00"})
    );

    // The same reports as CSV: BOM, Chinese headers, exact decimals.
    let (ct, body) = file(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2026&format=csv"), &a).await;
    assert_eq!(ct, "text/csv; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with("\u{feff}月份,销售提成,分红收益,其他经营收入,合计\n2026-01,0.00,0.00,833.34,833.34\n"),
        "{text}"
    );
    assert!(text.contains("\n2026-03,76.40,38.14,833.34,947.88\n"), "{text}");
    assert!(text.contains("\n全年,76.40,41.38,10000.00,10117.78\n"), "{text}");
    assert!(
        text.contains(&format!("\n{va},A村,320206103201,2026,10117.78,10000.00,是,否,否,8000.00,0.2647\n")),
        "{text}"
    );
    let (_, body) = file(
        &app,
        &format!("/api/v1/reports/stations/{}/sales?from=2026-01-01&to=2026-12-31&format=csv", w.station),
        &w.staff,
    )
    .await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\n2026-03-20,0,0.00,40.00,-40.00\n"), "a negative amount stays a number: {text}");

    // And as xlsx: every cell equals the JSON.
    let (ct, body) = file(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2026&format=xlsx"), &a).await;
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let sheets = xlsx_sheets(body);
    assert_eq!(sheets.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["月度收入", "年度汇总"]);
    let mut months = r["months"].as_array().unwrap().clone();
    months.push(json!({"month": "全年", "sales_share": r["sales_share"], "dividends": r["dividends"], "other": r["other"], "total": r["total"]}));
    sheet_is(
        &sheets[0].1,
        &["月份", "销售提成", "分红收益", "其他经营收入", "合计"],
        &months,
        &["month", "sales_share", "dividends", "other", "total"],
    );
    sheet_is(
        &sheets[1].1,
        &[
            "村ID",
            "村名",
            "区划代码",
            "年度",
            "全年合计",
            "收入目标",
            "达标",
            "薄弱村",
            "年度已结束",
            "上年合计",
            "增长率",
        ],
        std::slice::from_ref(&r),
        &[
            "village.id",
            "village.name",
            "village.code",
            "year",
            "total",
            "target",
            "meets_target",
            "weak",
            "year_complete",
            "previous_year_total",
            "growth",
        ],
    );
    let (_, body) = file(&app, "/api/v1/reports/villages?year=2026&format=xlsx", &app.admin).await;
    let sheets = xlsx_sheets(body);
    sheet_is(
        &sheets[0].1,
        &["排名", "村ID", "村名", "区划代码", "全年合计", "收入目标", "达标", "薄弱村", "增长率"],
        rank["villages"].as_array().unwrap(),
        &["rank", "village.id", "village.name", "village.code", "total", "target", "meets_target", "weak", "growth"],
    );
    let (_, body) =
        file(&app, &format!("/api/v1/reports/households/{h1}/statement?from=2026-01-01&to=2026-12-31&format=xlsx"), &a)
            .await;
    let sheets = xlsx_sheets(body);
    sheet_is(
        &sheets[0].1,
        &[
            "日期",
            "类型",
            "订单ID",
            "外部订单号",
            "渠道",
            "商品",
            "数量",
            "销售额",
            "按比例应得",
            "保底",
            "交易额基数",
            "出资额",
            "结算期",
            "金额",
        ],
        &m["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l["kind"] = json!(match s(&l["kind"]) {
                    "sale" => "销售",
                    "refund" => "退款",
                    "rebate" => "二次返利",
                    _ => "分红",
                });
                l
            })
            .collect::<Vec<_>>(),
        &[
            "date",
            "kind",
            "order_id",
            "external_id",
            "channel",
            "product",
            "quantity",
            "gross",
            "share",
            "floor_applied",
            "basis",
            "capital",
            "period",
            "amount",
        ],
    );
    sheet_is(
        &sheets[1].1,
        &[
            "农户ID",
            "农户",
            "村",
            "家庭人口",
            "起始日期",
            "截止日期",
            "期初余额",
            "本期合计",
            "期末余额",
            "人均",
            "出资额",
            "与本社交易额",
        ],
        std::slice::from_ref(&m),
        &[
            "household.id",
            "household.name",
            "household.village.name",
            "household.members",
            "from",
            "to",
            "opening",
            "total",
            "closing",
            "per_member",
            "capital",
            "transactions_amount",
        ],
    );
    let (_, body) = file(
        &app,
        &format!("/api/v1/reports/stations/{}/sales?from=2026-01-01&to=2026-12-31&format=xlsx", w.station),
        &w.staff,
    )
    .await;
    let sheets = xlsx_sheets(body);
    assert_eq!(sheets.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["按商品", "按渠道", "按日", "合计"]);
    sheet_is(
        &sheets[0].1,
        &["商品ID", "商品", "数量", "销售额", "退款", "净销售额"],
        sales["by_product"].as_array().unwrap(),
        &["product_id", "name", "quantity", "gross", "refunded", "net"],
    );
    sheet_is(
        &sheets[1].1,
        &["渠道", "订单数", "销售额", "平台佣金", "退款", "净销售额"],
        sales["by_channel"].as_array().unwrap(),
        &["channel", "orders", "gross", "fee", "refunded", "net"],
    );
    sheet_is(
        &sheets[2].1,
        &["日期", "订单数", "销售额", "退款", "净销售额"],
        sales["by_day"].as_array().unwrap(),
        &["date", "orders", "gross", "refunded", "net"],
    );
    let mut totals = sales["totals"].clone();
    totals["station"] = sales["station"].clone();
    totals["from"] = sales["from"].clone();
    totals["to"] = sales["to"].clone();
    sheet_is(
        &sheets[3].1,
        &["服务站ID", "服务站", "起始日期", "截止日期", "订单数", "数量", "销售额", "平台佣金", "退款", "净销售额"],
        &[totals],
        &["station.id", "station.name", "from", "to", "orders", "quantity", "gross", "fee", "refunded", "net"],
    );
}

async fn bad_report_input_is_refused_naming_the_field(app: TestApp) {
    let w = spec_world(&app).await;
    let [va, _] = w.villages;
    let a = village_token(&app, va).await;
    let income = format!("/api/v1/villages/{va}/income");
    let good = json!({"date": "2026-01-05", "amount": "100.00", "category": "rent", "note": "租金"});
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("category", json!("subsidy")), "category"),
        (with("category", json!("补助收入")), "category"),
        (with("amount", json!("0")), "amount"),
        (with("amount", json!("-5.00")), "amount"),
        (with("amount", json!("1.005")), "amount"),
        (with("date", json!("2026-02-30")), "date"),
        (with("date", json!("1999-12-31")), "date"),
        (with("note", json!("x".repeat(501))), "note"),
        (
            json!({"date": "2026-01-05", "amount": "100.00", "category": "rent", "covers_from": "2026-05", "covers_to": "2026-04"}),
            "covers_to",
        ),
        (
            json!({"date": "2026-01-05", "amount": "100.00", "category": "rent", "covers_from": "2026-01", "covers_to": "2036-01"}),
            "covers_to",
        ),
        (
            json!({"date": "2026-01-05", "amount": "100.00", "category": "rent", "covers_from": "2026-13", "covers_to": "2027-01"}),
            "covers_from",
        ),
        (json!({"date": "2026-01-05", "amount": "100.00", "category": "rent", "covers_from": "2026-01"}), "covers_to"),
    ] {
        let (st, v) = app.post(&income, &a, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }
    // 120 months is the most one payment covers.
    let (st, v) = app
        .post(&income, &a, json!({"date": "2026-01-05", "amount": "1200.00", "category": "rent", "covers_from": "2026-01", "covers_to": "2035-12"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["months"].as_array().unwrap().len(), 120);
    let list = ok(&app, &income, &a).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "nothing stored for the refused entries");

    for path in [
        format!("/api/v1/reports/villages/{va}/revenue?year=1999"),
        format!("/api/v1/reports/villages/{va}/revenue?year=2101"),
        format!("/api/v1/reports/villages/{va}/revenue?year=abc"),
        "/api/v1/reports/villages?year=99999".to_owned(),
        format!("/api/v1/villages/{va}/income?year=1850"),
    ] {
        let (st, v) = app.get(&path, &app.admin).await;
        assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("year")), "{path}: {v}");
    }
    let h = w.households[0];
    for (query, field) in [
        ("from=2026-05-01&to=2026-04-30", "from"),
        ("from=2020-01-01&to=2025-01-01", "to"),
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=2026-01-01&to=tomorrow", "to"),
    ] {
        for path in [
            format!("/api/v1/reports/households/{h}/statement?{query}"),
            format!("/api/v1/reports/stations/{}/sales?{query}", w.station),
        ] {
            let (st, v) = app.get(&path, &app.admin).await;
            assert_eq!(
                (st, v["error"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{path}: {v}"
            );
        }
    }
    // Five years less a day is the longest range.
    ok(&app, &format!("/api/v1/reports/households/{h}/statement?from=2020-01-01&to=2024-12-31"), &app.admin).await;
    let (st, _) = app.get(&format!("/api/v1/reports/villages/{va}/revenue?format=pdf"), &app.admin).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// What a village's, a household's and a station's reports add up to, against the ledger.
async fn reports_add_up(app: &TestApp, w: &World, year: i32, ranges: &[(String, String)]) {
    let money = |v: &Value| -> i64 {
        let t = s(v);
        let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
        let (a, b) = t.split_once('.').unwrap();
        let c = a.parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
        if neg { -c } else { c }
    };
    let sum = |v: &Value, key: &str| -> i64 { v.as_array().unwrap().iter().map(|x| money(&x[key])).sum() };
    let ranking = ok(app, &format!("/api/v1/reports/villages?year={year}"), &app.admin).await;
    for village in w.villages {
        let r = ok(app, &format!("/api/v1/reports/villages/{village}/revenue?year={year}"), &app.admin).await;
        for k in ["sales_share", "dividends", "other", "total"] {
            assert_eq!(sum(&r["months"], k), money(&r[k]), "{village} {k}");
        }
        for m in r["months"].as_array().unwrap() {
            assert_eq!(money(&m["sales_share"]) + money(&m["dividends"]) + money(&m["other"]), money(&m["total"]));
        }
        let (_, l) = app
            .get(&format!("/api/v1/ledger/accounts/village:{village}?from={year}-01-01&to={year}-12-31"), &app.admin)
            .await;
        assert_eq!(
            money(&l["balance"]),
            money(&r["sales_share"]) + money(&r["dividends"]),
            "village {village} vs ledger"
        );
        let ranked = ranking["villages"].as_array().unwrap().iter().find(|v| v["village"]["id"] == village).unwrap();
        assert_eq!(ranked["total"], r["total"]);
        assert_eq!(ranked["growth"], r["growth"]);
    }
    for (from, to) in ranges {
        for h in w.households {
            let m = ok(app, &format!("/api/v1/reports/households/{h}/statement?from={from}&to={to}"), &app.admin).await;
            assert_eq!(sum(&m["lines"], "amount"), money(&m["total"]));
            assert_eq!(money(&m["closing"]) - money(&m["opening"]), money(&m["total"]));
            let (_, l) = app.get(&format!("/api/v1/ledger/accounts/household:{h}?to={to}"), &app.admin).await;
            assert_eq!(l["balance"], m["closing"], "household {h} closing at {to}");
            let before = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap().pred_opt().unwrap();
            let (_, l) = app.get(&format!("/api/v1/ledger/accounts/household:{h}?to={before}"), &app.admin).await;
            assert_eq!(l["balance"], m["opening"], "household {h} opening at {from}");
        }
        let st =
            ok(app, &format!("/api/v1/reports/stations/{}/sales?from={from}&to={to}", w.station), &app.admin).await;
        let t = &st["totals"];
        for (list, keys) in [
            ("by_product", &["gross", "refunded", "net"][..]),
            ("by_channel", &["gross", "fee", "refunded", "net"][..]),
            ("by_day", &["gross", "refunded", "net"][..]),
        ] {
            for k in keys {
                assert_eq!(sum(&st[list], k), money(&t[k]), "{list}.{k}");
            }
        }
        let count =
            |list: &str| -> i64 { st[list].as_array().unwrap().iter().map(|x| x["orders"].as_i64().unwrap()).sum() };
        assert_eq!(count("by_channel"), t["orders"].as_i64().unwrap());
        assert_eq!(count("by_day"), t["orders"].as_i64().unwrap());
        // The channels' postings in the range are −(gross − refunded), the fee account the fees.
        let mut channels = 0;
        for c in ["own", "taobao"] {
            let (_, l) = app.get(&format!("/api/v1/ledger/accounts/channel:{c}?from={from}&to={to}"), &app.admin).await;
            channels += money(&l["balance"]);
        }
        assert_eq!(-channels, money(&t["net"]), "station net vs channel postings {from}..{to}");
        let (_, l) =
            app.get(&format!("/api/v1/ledger/accounts/fees:channel:taobao?from={from}&to={to}"), &app.admin).await;
        assert_eq!(money(&l["balance"]), money(&t["fee"]));
    }
}

/// One random month of business: orders, refunds, income entries; then its close.
#[derive(Debug, Clone)]
struct Month {
    orders: Vec<(bool, u32, u32, u32)>,
    refunds: Vec<(usize, u32)>,
    income: Vec<(usize, u32, u32, u32)>,
    remove: Vec<usize>,
}

fn months() -> impl proptest::strategy::Strategy<Value = Vec<Month>> {
    use proptest::prelude::*;
    let order = (any::<bool>(), 1u32..8, 500u32..3000, 1u32..28);
    let month = (
        proptest::collection::vec(order, 0..5),
        proptest::collection::vec((0usize..100, 1u32..100), 0..3),
        proptest::collection::vec((0usize..2, 1u32..500_000, 1u32..15, 0u32..4), 0..3),
        proptest::collection::vec(0usize..100, 0..2),
    )
        .prop_map(|(orders, refunds, income, remove)| Month { orders, refunds, income, remove });
    proptest::collection::vec(month, 3..6)
}

async fn random_months_add_up_and_close_on_the_ledger(app: TestApp) {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let plan = months().new_tree(&mut runner).unwrap().current();
    let w = spec_world(&app).await;
    let alliance = app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await;
    // Plenty of stock from both households.
    for h in w.households {
        let (st, v) = app
            .post(
                &format!("/api/v1/products/{}/lots", w.peach),
                &w.staff,
                json!({"household_id": h, "quantity": "100000", "floor_price": "9.00", "received_at": "2026-01-01T09:00:00+08:00"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let mut placed: Vec<(i64, i64, i64)> = Vec::new();
    let mut entries: Vec<(i64, i64)> = Vec::new();
    for (i, m) in plan.iter().enumerate() {
        let month = i as u32 + 1;
        for (j, (taobao, qty, cents, day)) in m.orders.iter().enumerate() {
            let at = format!("2026-{month:02}-{day:02}T10:00:00+08:00");
            app.set_time(Some(&at));
            let price = format!("{}.{:02}", cents / 100, cents % 100);
            let channel = if *taobao { "taobao" } else { "own" };
            let (st, v) = app
                .post(
                    "/api/v1/orders",
                    &w.staff,
                    order_at(&w, channel, &format!("R-{month}-{j}"), &qty.to_string(), &price, &at),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            let gross = i64::from(*qty) * i64::from(*cents);
            placed.push((v["id"].as_i64().unwrap(), v["lines"][0]["id"].as_i64().unwrap(), gross));
        }
        app.set_time(Some(&format!("2026-{month:02}-28T18:00:00+08:00")));
        for (pick, percent) in &m.refunds {
            if placed.is_empty() {
                continue;
            }
            let n = placed.len();
            let (order, line, gross) = &mut placed[pick % n];
            let amount = *gross * i64::from(*percent) / 100;
            if amount == 0 {
                continue;
            }
            let (st, v) = app
                .post(
                    &format!("/api/v1/orders/{order}/refunds"),
                    &w.staff,
                    json!({"line_id": line, "amount": format!("{}.{:02}", amount / 100, amount % 100), "quantity": "0", "restock": false, "reason": "差价"}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            *gross -= amount;
        }
        for (village, cents, span, category) in &m.income {
            let category = ["rent", "service", "investment", "other"][*category as usize];
            let village = w.villages[*village];
            let to = month + span - 1;
            let (st, v) = app
                .post(
                    &format!("/api/v1/villages/{village}/income"),
                    &app.admin,
                    json!({"date": format!("2026-{month:02}-15"), "amount": format!("{}.{:02}", cents / 100, cents % 100), "category": category,
                           "covers_from": format!("2026-{month:02}"), "covers_to": format!("{}-{:02}", 2026 + (to - 1) / 12, (to - 1) % 12 + 1)}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            entries.push((village, v["id"].as_i64().unwrap()));
        }
        for pick in &m.remove {
            if entries.is_empty() {
                continue;
            }
            let (village, id) = entries.remove(pick % entries.len());
            let (st, v) =
                app.call("DELETE", &format!("/api/v1/villages/{village}/income/{id}"), Some(&app.admin), None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let next = if month == 12 { "2027-01-02".to_owned() } else { format!("2026-{:02}-02", month + 1) };
        app.set_time(Some(&format!("{next}T09:00:00+08:00")));
        let (st, v) = app
            .post(&format!("/api/v1/cooperatives/{}/periods/2026-{month:02}/close", w.coop), &alliance, json!({}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    assert!(placed.len() >= 3, "the plan books some orders: {plan:?}");
    let n = plan.len() as u32;
    let ranges = vec![
        ("2026-01-01".to_owned(), "2026-12-31".to_owned()),
        ("2026-02-10".to_owned(), format!("2026-{n:02}-15")),
        ("2026-01-31".to_owned(), "2026-02-28".to_owned()),
    ];
    reports_add_up(&app, &w, 2026, &ranges).await;

    // The report sums rebuilt from the postings by the migration give the same reports.
    let before = snapshot(&app, &w).await;
    let db = hezuo_db::connect(app.database_url()).await.unwrap();
    use hezuo_migration::MigratorTrait;
    hezuo_migration::Migrator::down(&db, Some(1)).await.unwrap();
    hezuo_migration::Migrator::up(&db, None).await.unwrap();
    db.close_by_ref().await.unwrap();
    // The income entries are dropped with their tables; the booked sums come back.
    let after = snapshot(&app, &w).await;
    assert_eq!(before.0, after.0, "station sales rebuilt");
    for (b, a) in before.1.iter().zip(&after.1) {
        assert_eq!(b["sales_share"], a["sales_share"]);
        assert_eq!(b["dividends"], a["dividends"]);
    }
}

async fn snapshot(app: &TestApp, w: &World) -> (Value, Vec<Value>) {
    let sales =
        ok(app, &format!("/api/v1/reports/stations/{}/sales?from=2026-01-01&to=2026-12-31", w.station), &app.admin)
            .await;
    let mut villages = Vec::new();
    for v in w.villages {
        villages.push(ok(app, &format!("/api/v1/reports/villages/{v}/revenue?year=2026"), &app.admin).await);
    }
    (sales, villages)
}

async fn income_entries_of_concurrent_removals_reverse_once(app: TestApp) {
    let w = spec_world(&app).await;
    let [va, _] = w.villages;
    let (st, e) = app
        .post(
            &format!("/api/v1/villages/{va}/income"),
            &app.admin,
            json!({"date": "2026-03-01", "amount": "300.00", "category": "investment"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let path = format!("/api/v1/villages/{va}/income/{}", e["id"]);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (http, url, token) = (app.http.clone(), format!("{}{path}", app.base), app.admin.clone());
        tasks.push(tokio::spawn(async move { http.delete(url).bearer_auth(token).send().await.unwrap().status() }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == StatusCode::OK).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == StatusCode::CONFLICT).count(), 9, "{codes:?}");
    let r = ok(&app, &format!("/api/v1/reports/villages/{va}/revenue?year=2026"), &app.admin).await;
    assert_eq!((s(&r["other"]), s(&r["months"][2]["other"])), ("0.00", "0.00"));
}

/// `hezuo verify` notices report sums that disagree with what they sum.
async fn verify_finds_report_sums_that_disagree(app: TestApp) {
    use sea_orm::ConnectionTrait;
    let w = spec_world(&app).await;
    spec_month(&app, &w).await;
    let [va, _] = w.villages;
    let (st, _) = app
        .post(
            &format!("/api/v1/villages/{va}/income"),
            &app.admin,
            json!({"date": "2026-03-01", "amount": "12.00", "category": "rent"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    app.verify().await;
    let db = &app.app.db;
    let run = |sql: &'static str| async move { db.execute_unprepared(sql).await.unwrap() };
    let failing = || async {
        let report = hezuo_app::verify::run(&app.app).await.unwrap();
        report.checks.iter().filter(|c| !c.problems.is_empty()).map(|c| c.name.to_owned()).collect::<Vec<_>>()
    };
    for (break_it, fix_it, check) in [
        (
            "UPDATE village_sums SET sales = sales + 1 WHERE span = 'month'",
            "UPDATE village_sums SET sales = sales - 1 WHERE span = 'month'",
            "village month and year sums",
        ),
        (
            "UPDATE village_sums SET dividends = dividends + 1 WHERE span = 'year'",
            "UPDATE village_sums SET dividends = dividends - 1 WHERE span = 'year'",
            "village month and year sums",
        ),
        (
            "UPDATE village_income_months SET amount = amount + 1",
            "UPDATE village_income_months SET amount = amount - 1",
            "income entries",
        ),
        (
            "UPDATE sales_days SET refunded = refunded + 1",
            "UPDATE sales_days SET refunded = refunded - 1",
            "station sales",
        ),
        ("UPDATE sales_days SET orders = orders + 1", "UPDATE sales_days SET orders = orders - 1", "station sales"),
    ] {
        run(break_it).await;
        let failed = failing().await;
        assert!(failed.len() == 1 && failed[0].contains(check), "{break_it}: {failed:?}");
        run(fix_it).await;
    }
    assert!(failing().await.is_empty());
}

db_tests!(
    verify_finds_report_sums_that_disagree,
    every_report_of_a_known_year_to_the_cent,
    bad_report_input_is_refused_naming_the_field,
    random_months_add_up_and_close_on_the_ledger,
    income_entries_of_concurrent_removals_reverse_once,
);
