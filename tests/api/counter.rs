//! The station's counter (API.md "Counter, receipts and labels"): a counter sale's payment
//! method and idempotent key, the counter page without its script, receipts, produce labels
//! and the public trace page with nothing personal on it.

use crate::visitor::{chinese_404, staff_of};
use hezuo_tests::{Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;
use reqwest::header::CACHE_CONTROL;
use serde_json::Value;

/// A listed product with a merchant code and a lot of `quantity` from the tenant's first
/// household; returns (product, lot).
async fn stocked(app: &TestApp, t: &Tenant, name: &str, sku: &str, price: &str, quantity: &str) -> (i64, Value) {
    let (s, p) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": name, "unit": "斤", "price": price, "status": "listed", "sku": sku}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_i64().unwrap();
    let (s, lot) = app
        .post(
            &format!("/api/v1/products/{pid}/lots"),
            &t.staff_token,
            json!({"household_id": t.households[0], "quantity": quantity, "floor_price": "3.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{lot}");
    (pid, lot)
}

async fn stock(app: &TestApp, t: &Tenant, product: i64) -> String {
    let (_, p) = app.get(&format!("/api/v1/products/{product}"), &t.staff_token).await;
    p["stock"].as_str().unwrap().to_owned()
}

async fn counter_sales_carry_their_payment_and_book_once(app: TestApp) {
    let t = app.tenant(1).await;
    let (peach, _) = stocked(&app, &t, "白凤桃", "BF-001", "6.80", "50").await;
    let sale = json!({"station_id": t.station, "channel": "own", "external_id": format!("POS-{}-k3x9q2-1", t.station),
        "placed_at": "2026-07-18T09:30:00+08:00", "payment_method": "wechat",
        "lines": [{"product_id": peach, "quantity": "2.5", "unit_price": "6.80"}]});
    let (s, o) = app.post("/api/v1/orders", &t.staff_token, sale.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!((o["payment_method"].as_str(), o["gross"].as_str()), (Some("wechat"), Some("17.00")));
    assert_eq!(stock(&app, &t, peach).await, "47.500");

    // A second press, or a retry after a lost answer: the same order, nothing booked twice.
    let (s, again) = app.post("/api/v1/orders", &t.staff_token, sale.clone()).await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &o["id"]));
    assert_eq!(stock(&app, &t, peach).await, "47.500");
    let (_, read) = app.get(&format!("/api/v1/orders/{}", o["id"]), &t.staff_token).await;
    assert_eq!(read["payment_method"], "wechat");
    // The same key paid another way is another sale: refused, not booked.
    let mut other = sale.clone();
    other["payment_method"] = json!("cash");
    let (s, e) = app.post("/api/v1/orders", &t.staff_token, other).await;
    assert_eq!((s, code(&e)), (StatusCode::CONFLICT, "order_conflict"));
    // Only the four methods.
    let mut bad = sale.clone();
    bad["external_id"] = json!("POS-x-2");
    bad["payment_method"] = json!("card");
    let (s, e) = app.post("/api/v1/orders", &t.staff_token, bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "payment_method");
    // A platform order has none.
    let (s, tb) = app
        .post(
            "/api/v1/orders",
            &t.staff_token,
            json!({"station_id": t.station, "channel": "taobao", "external_id": "TB-1", "placed_at": "2026-07-18T10:00:00+08:00",
                   "lines": [{"product_id": peach, "quantity": "1", "unit_price": "6.80"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(tb["payment_method"], Value::Null);
    assert_eq!(stock(&app, &t, peach).await, "46.500");
    let (_, list) = app.get(&format!("/api/v1/orders?station_id={}", t.station), &t.staff_token).await;
    let methods: Vec<&Value> = list["items"].as_array().unwrap().iter().map(|o| &o["payment_method"]).collect();
    assert_eq!(methods, [&json!("wechat"), &Value::Null]);
}

/// The counter page without its script: the cart in the form, the server's key, the receipt.
async fn the_counter_works_without_its_script(app: TestApp) {
    let t = app.tenant(1).await;
    let (peach, _) = stocked(&app, &t, "白凤桃", "BF-001", "6.80", "3").await;
    let (rice, _) = stocked(&app, &t, "大米", "RICE-5", "10.00", "100").await;
    let mut v = staff_of(&app, &t, "clerk1").await;
    let counter = format!("/stations/{}/counter", t.station);

    let p = v.get(&format!("/stations/{}/products", t.station)).await;
    assert!(p.html.contains(&format!("href=\"{counter}\"")), "linked from the staff home");
    let p = v.get(&counter).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("name=\"q\"") && p.html.contains("id=\"checkout\"") && p.html.contains("id=\"pending\""));
    assert!(p.html.contains(&format!("data-product-id=\"{peach}\"")) && p.html.contains("加入"));
    let key = between(&p.html, "name=\"key\" value=\"", "\"");
    assert!(key.starts_with(&format!("POS-{}-s", t.station)) && key.ends_with("-1"), "{key}");
    let placed_at = between(&p.html, "name=\"placed_at\" value=\"", "\"");

    // A code scanned into q and Enter (the form's first button) adds the product.
    let p = v.post(&counter, &[("key", &key), ("placed_at", &placed_at), ("q", "RICE-5"), ("op", "find")]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains(&format!("<tr data-product-id=\"{rice}\"")), "{}", p.html);
    assert_eq!(between(&p.html, "<strong id=\"total\">", "<"), "10.00");
    let placed_at = between(&p.html, "name=\"placed_at\" value=\"", "\"");
    let rice_s = rice.to_string();
    let peach_s = peach.to_string();
    let add_peach = format!("add:{peach}");
    let cart = |qty_rice: &'static str, qty_peach: &'static str| {
        vec![
            ("product_id", rice_s.clone()),
            ("unit_price", "10.00".to_owned()),
            ("quantity", qty_rice.to_owned()),
            ("product_id", peach_s.clone()),
            ("unit_price", "6.80".to_owned()),
            ("quantity", qty_peach.to_owned()),
        ]
    };
    let mut fields: Vec<(&str, String)> = vec![("key", key.clone()), ("placed_at", placed_at.clone())];
    fields.extend(cart("1.5", "").into_iter().take(3));
    fields.push(("op", add_peach));
    let p = v.post(&counter, &as_pairs(&fields)).await;
    assert_eq!(between(&p.html, "<strong id=\"total\">", "<"), "21.80", "1.5 × 10.00 + 1 × 6.80");

    // Not enough stock: beside the line, how much is left; nothing booked.
    let mut fields: Vec<(&str, String)> = vec![("key", key.clone()), ("placed_at", placed_at.clone())];
    fields.extend(cart("1.5", "4"));
    fields.push(("payment", "alipay".into()));
    fields.push(("op", "checkout".into()));
    let p = v.post(&counter, &as_pairs(&fields)).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("库存不足：白凤桃仅剩 3.000 斤"), "{}", p.html);
    assert_eq!(stock(&app, &t, peach).await, "3.000");
    assert_eq!(stock(&app, &t, rice).await, "100.000");
    let orders = app.rows("SELECT CAST(COUNT(*) AS TEXT) FROM orders").await;
    assert_eq!(orders, [["0"]]);

    // Corrected and paid: the receipt; the same form again is the same order.
    let mut fields: Vec<(&str, String)> = vec![("key", key.clone()), ("placed_at", placed_at.clone())];
    fields.extend(cart("1.5", "2.25"));
    fields.push(("payment", "alipay".into()));
    fields.push(("op", "checkout".into()));
    let p = v.post(&counter, &as_pairs(&fields)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let receipt = p.location.clone().unwrap();
    assert!(receipt.starts_with("/orders/") && receipt.ends_with("/receipt"), "{receipt}");
    let again = v.post(&counter, &as_pairs(&fields)).await;
    assert_eq!(again.location.as_deref(), Some(receipt.as_str()));
    let stored = app.rows("SELECT external_id, payment_method, CAST(gross AS TEXT) FROM orders").await;
    assert_eq!(stored, [[key.clone(), "alipay".into(), "3030".into()]], "15.00 + round(2.25 × 6.80) = 15.30");
    assert_eq!(stock(&app, &t, peach).await, "0.750");

    let p = v.get(&receipt).await;
    assert_eq!(p.status, StatusCode::OK);
    for text in
        ["服务站1", "白凤桃", "2.250 斤 × 6.80", "15.30", "<strong id=\"receipt-total\">30.30</strong>", "支付宝", &key]
    {
        assert!(p.html.contains(text), "{text} on the receipt: {}", p.html);
    }
    assert!(p.html.contains("@page { size: 58mm auto;") && p.html.contains("data-print"), "{}", p.html);

    // Another station's clerk sees neither the counter nor the receipt.
    let other = app.tenant(2).await;
    let mut w = staff_of(&app, &other, "clerk2").await;
    chinese_404(&w.get(&counter).await);
    chinese_404(&w.get(&receipt).await);
    // A form without the session's token is refused and books nothing.
    v.csrf = "forged".into();
    let p = v.post(&counter, &as_pairs(&fields)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

fn as_pairs<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn between(html: &str, start: &str, end: &str) -> String {
    let at = html.find(start).unwrap_or_else(|| panic!("{start} in {html}")) + start.len();
    html[at..].split(end).next().unwrap().to_owned()
}

/// The script's endpoint: JSON in, the order's id and receipt out, a refusal in Chinese with
/// its line; the CSRF header is required.
async fn the_counter_script_books_through_its_endpoint(app: TestApp) {
    let t = app.tenant(1).await;
    let (peach, _) = stocked(&app, &t, "白凤桃", "BF-001", "6.80", "3").await;
    let mut v = staff_of(&app, &t, "clerk1").await;
    v.get(&format!("/stations/{}/counter", t.station)).await;
    let sale = json!({"station_id": t.station, "channel": "own", "external_id": "POS-1-dev1-7",
        "placed_at": "2026-07-18T09:30:00.123Z", "payment_method": "cash",
        "lines": [{"product_id": peach, "quantity": "1", "unit_price": "6.80"}]});
    let post = |body: Value, csrf: String| {
        v.http.post(format!("{}/counter/sales", v.base)).header("x-csrf-token", csrf).json(&body).send()
    };
    let res = post(sale.clone(), "forged".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(sale.clone(), v.csrf.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["receipt"], format!("/orders/{id}/receipt"));
    let res = post(sale.clone(), v.csrf.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], id);
    let mut big = sale.clone();
    big["external_id"] = json!("POS-1-dev1-8");
    big["lines"][0]["quantity"] = json!("5");
    let res = post(big, v.csrf.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["code"], "insufficient_stock");
    assert_eq!(e["error"]["line"], 0);
    assert_eq!(e["error"]["message"], "库存不足：白凤桃仅剩 2.000 斤");
    assert_eq!(stock(&app, &t, peach).await, "2.000");
    let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &t.staff_token).await;
    assert_eq!(
        (o["placed_at"].as_str(), o["payment_method"].as_str()),
        (Some("2026-07-18T09:30:00.123Z"), Some("cash"))
    );
}

async fn labels_and_the_public_trace_name_no_household(app: TestApp) {
    let t = app.tenant(1).await;
    let (s, _) =
        app.patch(&format!("/api/v1/villages/{}", t.village), &app.admin.clone(), json!({"township": "阳山镇"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, st) = app
        .patch(&format!("/api/v1/stations/{}", t.station), &app.admin.clone(), json!({"phone": "0510-83591201"}))
        .await;
    assert_eq!((s, st["phone"].as_str()), (StatusCode::OK, Some("0510-83591201")));
    let (s, e) =
        app.patch(&format!("/api/v1/stations/{}", t.station), &app.admin.clone(), json!({"phone": "电话"})).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")));
    let (peach, lot) = stocked(&app, &t, "白凤桃", "BF-001", "6.80", "30").await;
    let code = lot["trace_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 10);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()), "{code}");
    let (_, lot2) = app
        .post(
            &format!("/api/v1/products/{peach}/lots"),
            &t.staff_token,
            json!({"household_id": t.households[1], "quantity": "5", "floor_price": "3.00"}),
        )
        .await;
    assert_ne!(lot2["trace_code"].as_str().unwrap(), code, "every lot its own code");

    // The JSON trace: no login, cached, nothing personal.
    let res = app.http.get(format!("{}/api/v1/trace/{code}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CACHE_CONTROL], "public, max-age=300");
    let trace: Value = res.json().await.unwrap();
    let day = lot["received_at"].as_str().unwrap();
    let received_on = chrono::DateTime::parse_from_rfc3339(day)
        .unwrap()
        .with_timezone(&chrono_tz_shanghai())
        .date_naive()
        .to_string();
    assert_eq!(
        trace,
        json!({"code": code, "product": "白凤桃", "unit": "斤", "quantity": "30.000", "received_on": received_on,
               "issuer": {"name": "服务站1", "phone": "0510-83591201"},
               "origin": {"township": "阳山镇", "village": "桃源村1"}, "cooperative": "合作社1"})
    );
    let res = app.http.get(format!("{}/api/v1/trace/ZZZZZZZZZZ", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(code_of(res).await, "not_found");
    let res = app.http.get(format!("{}/api/v1/trace/{}", app.base, t.households[0])).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "ids are not codes");

    // The public page: the same, in Chinese, with no household's name or id.
    let anon = reqwest::Client::new();
    let res = anon.get(format!("{}/t/{code}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CACHE_CONTROL], "public, max-age=300");
    let html = res.text().await.unwrap();
    for text in
        ["lang=\"zh-CN\"", "白凤桃", "服务站1", "0510-83591201", "阳山镇桃源村1", "合作社1", &received_on, "viewport"]
    {
        assert!(html.contains(text), "{text} on the trace page: {html}");
    }
    let (_, h) = app.get(&format!("/api/v1/households/{}", t.households[0]), &app.admin.clone()).await;
    let name = h["name"].as_str().unwrap();
    assert!(!html.contains(name) && !html.contains("农户1-"), "no household on the public page: {html}");
    assert!(!trace.to_string().contains("农户1-"));
    let res = anon.get(format!("{}/t/ZZZZZZZZZZ", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("页面不存在"));

    // The label: what the trace shows, the promise, the URL printed and in a QR code.
    let mut v = staff_of(&app, &t, "clerk1").await;
    let lot_id = lot["id"].as_i64().unwrap();
    let p = v.get(&format!("/products/{peach}?received={lot_id}")).await;
    assert!(p.html.contains(&format!("href=\"/lots/{lot_id}/label\" id=\"print-label\"")), "{}", p.html);
    let p = v.get(&format!("/lots/{lot_id}/label")).await;
    assert_eq!(p.status, StatusCode::OK);
    let url = format!("http://127.0.0.1:8080/t/{code}");
    for text in [
        "承诺达标合格证",
        "白凤桃",
        "30.000 斤",
        "阳山镇桃源村1",
        "服务站1",
        "0510-83591201",
        "不使用禁用农药兽药",
        &url,
        "<svg class=\"qr\"",
        "@page { size: 60mm 40mm;",
        &received_on,
    ] {
        assert!(p.html.contains(text), "{text} on the label: {}", p.html);
    }
    assert!(!p.html.contains("农户1-"), "the label names no household");
    assert_eq!(p.html.matches("<section class=\"label\"").count(), 1);
    let p = v.get(&format!("/lots/{lot_id}/label?copies=3")).await;
    assert_eq!(p.html.matches("<section class=\"label\"").count(), 3);
    let p = v.get(&format!("/lots/{lot_id}/label?copies=0")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("份数须为 1 到 100 的整数"));
    let other = app.tenant(2).await;
    let mut w = staff_of(&app, &other, "clerk2").await;
    chinese_404(&w.get(&format!("/lots/{lot_id}/label")).await);
}

fn chrono_tz_shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

async fn code_of(res: reqwest::Response) -> String {
    let v: Value = res.json().await.unwrap();
    code(&v).to_owned()
}

db_tests!(
    counter_sales_carry_their_payment_and_book_once,
    the_counter_works_without_its_script,
    the_counter_script_books_through_its_endpoint,
    labels_and_the_public_trace_name_no_household,
);
