//! Reconciliation through the HTTP API (SPEC §9): every status from a crafted statement with
//! exact counts and differences, broken rows with their lines, re-import, platform formats and
//! encodings, truncated files, resolution, exports and scoping.

use crate::orders::{World, order_at, spec_world};
use hezuo_app::{Role, auth::ScopeIds};
use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;

async fn place(app: &TestApp, w: &World, channel: &str, ext: &str, qty: &str, price: &str, placed_at: &str) -> Value {
    let (s, o) = app.post("/api/v1/orders", &w.staff, order_at(w, channel, ext, qty, price, placed_at)).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o
}

async fn upload(app: &TestApp, token: &str, channel: &str, format: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let url = format!("{}/api/v1/reconciliation/statements?channel={channel}&format={format}", app.base);
    let res = app.http.post(url).bearer_auth(token).header("content-type", "text/csv").body(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Taobao orders of March 2026 (fee 5 %) and what the books expect each to settle.
async fn march(app: &TestApp, w: &World) {
    app.set_time(Some("2026-03-20T10:00:00+08:00"));
    place(app, w, "taobao", "TB-1", "10", "20.00", "2026-03-10T09:00:00+08:00").await; // 200 − 10 = 190.00
    let o2 = place(app, w, "taobao", "TB-2", "5", "20.00", "2026-03-10T10:00:00+08:00").await; // 95.00
    let line = o2["lines"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/orders/{}/refunds", o2["id"]),
            &w.staff,
            json!({"line_id": line, "amount": "20.00", "quantity": "0", "restock": false, "reason": "差价"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED); // a 20.00, f 1.00: 95.00 − 19.00 = 76.00
    place(app, w, "taobao", "TB-3", "2", "20.00", "2026-03-11T15:00:00+08:00").await; // 38.00, not in the statement
    place(app, w, "taobao", "TB-4", "1", "20.00", "2026-03-10T11:00:00+08:00").await; // 19.00
    place(app, w, "taobao", "TB-5", "3", "10.00", "2026-03-10T12:00:00+08:00").await; // 28.50
    let c = place(app, w, "taobao", "TB-9", "1", "20.00", "2026-03-11T16:00:00+08:00").await;
    let (s, _) = app.post(&format!("/api/v1/orders/{}/cancel", c["id"]), &w.staff, json!({})).await;
    assert_eq!(s, StatusCode::OK); // cancelled: not expected in any statement
    place(app, w, "own", "OWN-1", "1", "20.00", "2026-03-11T09:00:00+08:00").await; // another channel
}

const STATEMENT: &str = "external_id,kind,amount,fee,settled_at
TB-1,sale,200.00,10.00,2026-03-11 10:00:00
TB-2,sale,100.00,5.00,2026-03-11 11:00:00
TB-2,refund,20.00,1.00,2026-03-12 09:00:00
TB-4,sale,20.00,1.50,2026-03-12 10:00:00
TB-5,sale,30.00,1.50,2026-03-12 10:00:00
TB-5,sale,30.00,1.50,2026-03-12 10:00:00
X-999,sale,50.00,2.50,2026-03-12 12:00:00
TB-1,bonus,1.00,0,2026-03-12 12:00:00
TB-6,sale,abc,0,2026-03-12 12:00:00
TB-7,sale,1.00,0,2026-13-45
TB-8,sale
";

fn summary(v: &Value, status: &str) -> (i64, String) {
    let s = &v["summary"][status];
    (s["count"].as_i64().unwrap(), s["amount"].as_str().unwrap().to_owned())
}

async fn items(app: &TestApp, token: &str, id: i64, status: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/reconciliation/statements/{id}/items?status={status}"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

pub(crate) async fn every_status_from_a_crafted_statement(app: TestApp) {
    let w = spec_world(&app).await;
    march(&app, &w).await;
    let alliance = app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await;
    let (s, st) = upload(&app, &alliance, "taobao", "generic", STATEMENT.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{st}");
    assert_eq!((st["rows"].as_i64(), st["rejected"].as_i64()), (Some(7), Some(4)), "{st}");
    let lines: Vec<i64> = st["errors"].as_array().unwrap().iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![9, 10, 11, 12], "{st}");
    for e in st["errors"].as_array().unwrap() {
        assert!(!e["reason"].as_str().unwrap().is_empty());
    }
    assert_eq!((st["range_from"].as_str(), st["range_to"].as_str()), (Some("2026-03-11"), Some("2026-03-12")));
    assert_eq!(summary(&st, "matched"), (2, "266.00".into()));
    assert_eq!(summary(&st, "amount_mismatch"), (1, "18.50".into()));
    assert_eq!(st["summary"]["amount_mismatch"]["difference"], "-0.50");
    assert_eq!(summary(&st, "missing_in_books"), (1, "47.50".into()));
    assert_eq!(summary(&st, "missing_in_statement"), (1, "38.00".into()));
    assert_eq!(summary(&st, "duplicate"), (1, "57.00".into()));
    let id = st["id"].as_i64().unwrap();

    let ids = |v: &[Value]| v.iter().map(|i| i["external_id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&items(&app, &alliance, id, "matched").await), vec!["TB-1", "TB-2"]);
    let mismatch = items(&app, &alliance, id, "amount_mismatch").await;
    assert_eq!(ids(&mismatch), vec!["TB-4"]);
    assert_eq!(
        (
            mismatch[0]["statement_amount"].as_str(),
            mismatch[0]["book_amount"].as_str(),
            mismatch[0]["difference"].as_str()
        ),
        (Some("18.50"), Some("19.00"), Some("-0.50"))
    );
    let missing = items(&app, &alliance, id, "missing_in_statement").await;
    assert_eq!(ids(&missing), vec!["TB-3"]);
    assert_eq!(
        (missing[0]["statement_amount"].clone(), missing[0]["book_amount"].as_str()),
        (Value::Null, Some("38.00"))
    );
    let books = items(&app, &alliance, id, "missing_in_books").await;
    assert_eq!((ids(&books), books[0]["book_amount"].clone()), (vec!["X-999".to_owned()], Value::Null));
    let dup = items(&app, &alliance, id, "duplicate").await;
    assert_eq!((ids(&dup), dup[0]["rows"].as_i64()), (vec!["TB-5".to_owned()], Some(2)));
    let (s, v) = app.get(&format!("/api/v1/reconciliation/statements/{id}/items?status=lost"), &alliance).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // The same file again: the first import, nothing counted twice.
    let (s, again) = upload(&app, &alliance, "taobao", "generic", STATEMENT.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, st);
    // A later statement repeating TB-1: already settled, so a duplicate; TB-3 arrives and matches.
    let later = "external_id,kind,amount,fee,settled_at\nTB-1,sale,200.00,10.00,2026-03-11 10:00:00\nTB-3,sale,40.00,2.00,2026-03-13 10:00:00\n";
    let (s, st2) = upload(&app, &alliance, "taobao", "generic", later.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{st2}");
    assert_eq!(summary(&st2, "duplicate").0, 1);
    assert_eq!(summary(&st2, "matched"), (1, "38.00".into()));
    assert_eq!(summary(&st2, "missing_in_statement").0, 0, "TB-1 is settled; TB-9 is cancelled: {st2}");

    // Resolution: once, with a note, by the alliance.
    let item = mismatch[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/reconciliation/items/{item}/resolve");
    let (s, _) = app.post(&path, &w.staff, json!({"note": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.post(&path, &alliance, json!({"note": ""})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, r) = app.post(&path, &alliance, json!({"note": "平台少结 0.50，已申诉"})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["note"], "平台少结 0.50，已申诉");
    assert!(r["resolved_at"].is_string());
    let (s, v) = app.post(&path, &alliance, json!({"note": "again"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_resolved"));

    // Exports: CSV with exact amounts, xlsx as a workbook.
    let url = format!("{}/api/v1/reconciliation/statements/{id}/items?format=csv", app.base);
    let csv = app.http.get(url).bearer_auth(&alliance).send().await.unwrap().text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,external_id,order_id,status,statement_amount,book_amount,difference,rows,note,resolved_at")
    );
    assert_eq!(csv.lines().count(), 1 + 6);
    assert!(csv.contains(",TB-4,") && csv.contains(",amount_mismatch,18.50,19.00,-0.50,1,"), "{csv}");
    let url = format!("{}/api/v1/reconciliation/statements/{id}/items?format=xlsx", app.base);
    let res = app.http.get(url).bearer_auth(&alliance).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = res.bytes().await.unwrap().to_vec();
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("对账明细").unwrap();
    assert_eq!(sheet.height(), 1 + 6);
    let row = sheet.rows().find(|r| r[1] == Data::String("TB-4".into())).expect("TB-4");
    assert_eq!(row[3], Data::String("amount_mismatch".into()));
    assert_eq!((&row[4], &row[5], &row[6]), (&Data::Float(18.5), &Data::Float(19.0), &Data::Float(-0.5)));
    assert!(matches!(&row[0], Data::String(id) if id.parse::<i64>().is_ok()), "ids as text: {:?}", row[0]);
    app.verify().await;
}

async fn bad_uploads_change_nothing_and_scope_holds(app: TestApp) {
    use hezuo_db::entities::statement;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let w = spec_world(&app).await;
    march(&app, &w).await;
    let alliance = app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await;
    let other = app.tenant(7).await;
    let village = app.token(Role::Village, ScopeIds { village_id: Some(w.villages[0]), ..Default::default() }).await;
    let body = STATEMENT.as_bytes().to_vec();
    for token in [&w.staff, &village, &app.admin] {
        let (s, _) = upload(&app, token, "taobao", "generic", body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v) = upload(&app, &alliance, "jd", "generic", body.clone()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "unknown_reference"), "{v}");
    let (s, v) = upload(&app, &alliance, "taobao", "excel", body.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // A header without the amount column: the whole file is refused.
    let (s, v) = upload(
        &app,
        &alliance,
        "taobao",
        "generic",
        b"external_id,kind,fee,settled_at\nTB-1,sale,0,2026-03-11\n".to_vec(),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "statement_unreadable"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("amount"), "{v}");
    let (s, v) = upload(&app, &alliance, "taobao", "generic", vec![0xff, 0xfe, 0x00, 0x81, 0x30]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Wrong content type.
    let url = format!("{}/api/v1/reconciliation/statements?channel=taobao", app.base);
    let res = app.http.post(url).bearer_auth(&alliance).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(statement::Entity::find().count(&app.app.db).await.unwrap(), 0);

    let (s, st) = upload(&app, &alliance, "taobao", "generic", body).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = st["id"].as_i64().unwrap();
    for path in
        [format!("/api/v1/reconciliation/statements/{id}"), format!("/api/v1/reconciliation/statements/{id}/items")]
    {
        let (s, _) = app.get(&path, &other.alliance_token).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        let (s, _) = app.get(&path, &w.staff).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        let (s, _) = app.get(&path, &village).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        let (s, v) = app.get(&path, &app.admin).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = app.get(&format!("/api/v1/reconciliation/statements/{id}/items"), &alliance).await;
    let item = v["items"][0]["id"].as_i64().unwrap();
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post(&format!("/api/v1/reconciliation/items/{item}/resolve"), &other.alliance_token, json!({"note": "x"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get("/api/v1/reconciliation/statements/999999", &alliance).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.verify().await;
}

const WECHAT_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

fn wechat_row(at: &str, id: &str, status: &str, settle: &str, refund: &str, fee: &str) -> String {
    format!(
        "`{at},`wx01,`1900000001,`0,`,`4200001,`{id},`oUser,`NATIVE,`{status},`OTHERS,`CNY,`{settle},`0.00,`0,`0,`{refund},`0.00,`,`,`桃,`,`{fee},`0.60%,`{settle},`{refund},`"
    )
}

fn wechat(count: u32) -> Vec<u8> {
    let mut text = format!("\u{feff}{WECHAT_HEADER}\n");
    for row in [
        wechat_row("2026-03-10 20:00:00", "TB-1", "SUCCESS", "200.00", "0.00", "10.00"),
        wechat_row("2026-03-10 20:05:00", "TB-2", "SUCCESS", "100.00", "0.00", "5.00"),
        wechat_row("2026-03-10 21:00:00", "TB-2", "REFUND", "0.00", "20.00", "-1.00"),
    ] {
        text.push_str(&row);
        text.push('\n');
    }
    text.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n");
    text.push_str(&format!("`{count},`300.00,`20.00,`0.00,`14.00,`300.00,`20.00\n"));
    text.into_bytes()
}

fn alipay(income: &str) -> Vec<u8> {
    let text = format!(
        "#支付宝账务明细查询\r\n#账号：[20880000000000000156]\r\n#-----------账务明细列表-----------\r\n\
         账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\r\n\
         1\t,\t,TB-4\t,水蜜桃\t,2026-03-12 10:00:00\t,\t,20.00\t,\t,20.00\t,支付宝\t,在线支付\t,\t\r\n\
         2\t,\t,TB-4\t,\t,2026-03-12 10:01:00\t,\t,\t,1.00\t,19.00\t,支付宝\t,收费\t,交易服务费\t\r\n\
         3\t,\t,TB-5\t,水蜜桃\t,2026-03-12 11:00:00\t,\t,30.00\t,\t,49.00\t,支付宝\t,交易付款\t,\t\r\n\
         4\t,\t,TB-5\t,\t,2026-03-12 11:01:00\t,\t,\t,1.50\t,47.50\t,支付宝\t,收费\t,\t\r\n\
         #-----------账务明细列表结束-----------\r\n#收入合计：2笔，共{income}元\r\n#支出合计：2笔，共2.50元\r\n\
         #导出时间：[2026年03月13日 10:00:00]\r\n"
    );
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    gbk.into_owned()
}

async fn platform_formats_encodings_and_truncated_files(app: TestApp) {
    use hezuo_db::entities::statement;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let w = spec_world(&app).await;
    march(&app, &w).await;
    let alliance = app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await;

    // WeChat Pay-style, UTF-8 with BOM, a refund as its own row.
    let (s, st) = upload(&app, &alliance, "taobao", "wechat", wechat(3)).await;
    assert_eq!(s, StatusCode::CREATED, "{st}");
    assert_eq!((st["rows"].as_i64(), st["rejected"].as_i64()), (Some(3), Some(0)));
    assert_eq!(summary(&st, "matched"), (2, "266.00".into()));
    // TB-4 and TB-5 were placed on the statement's day (2026-03-10) and are not in it.
    assert_eq!(summary(&st, "missing_in_statement"), (2, "47.50".into()));
    // A summary that does not add up: truncated or corrupt, nothing stored.
    let (s, v) = upload(&app, &alliance, "taobao", "wechat", wechat(4)).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "statement_corrupt"), "{v}");
    let cut: Vec<u8> = {
        let text = String::from_utf8(wechat(3)).unwrap();
        text.lines().take(3).collect::<Vec<_>>().join("\n").into_bytes()
    };
    let (s, v) = upload(&app, &alliance, "taobao", "wechat", cut).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "statement_corrupt"), "{v}");

    // Alipay-style, GBK, `#` preamble and footer; fees as rows of their own.
    let (s, st) = upload(&app, &alliance, "taobao", "alipay", alipay("50.00")).await;
    assert_eq!(s, StatusCode::CREATED, "{st}");
    assert_eq!((st["rows"].as_i64(), st["rejected"].as_i64()), (Some(4), Some(0)), "{st}");
    assert_eq!(summary(&st, "matched"), (2, "47.50".into()), "{st}");
    assert_eq!(summary(&st, "amount_mismatch").0, 0);
    let (s, v) = upload(&app, &alliance, "taobao", "alipay", alipay("50.01")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "statement_corrupt"), "{v}");
    assert_eq!(statement::Entity::find().count(&app.app.db).await.unwrap(), 2);
    app.verify().await;
}

db_tests!(
    every_status_from_a_crafted_statement,
    bad_uploads_change_nothing_and_scope_holds,
    platform_formats_encodings_and_truncated_files,
);
