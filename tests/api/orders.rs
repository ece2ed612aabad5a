//! Orders with attribution through the HTTP API: SPEC §7's worked example to the cent,
//! idempotency, stock that never oversells, refunds and cancellation.

use hezuo_tests::{Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;

/// SPEC §7's organisation: H1 in village A, H2 in village B, one station, peaches with lots
/// L1 (H1, 100 kg, floor 12.00) and L2 (H2, 50 kg, floor 15.00).
pub(crate) struct World {
    pub staff: String,
    pub station: i64,
    pub coop: i64,
    pub villages: [i64; 2],
    pub households: [i64; 2],
    pub peach: i64,
    pub lots: [i64; 2],
    pub alliance: i64,
}

pub(crate) async fn spec_world(app: &TestApp) -> World {
    let va = app.create("/api/v1/villages", json!({"name": "A村", "code": "320206103201"})).await;
    let vb = app.create("/api/v1/villages", json!({"name": "B村", "code": "320206103202"})).await;
    let h1 = app.create("/api/v1/households", json!({"village_id": va, "name": "H1", "members": 4})).await;
    let h2 = app.create("/api/v1/households", json!({"village_id": vb, "name": "H2", "members": 2})).await;
    let coop = app.create("/api/v1/cooperatives", json!({"name": "合作社"})).await;
    for m in [
        json!({"village_id": va, "capital": "60000"}),
        json!({"household_id": h1, "capital": "30000"}),
        json!({"household_id": h2, "capital": "10000"}),
    ] {
        app.create(&format!("/api/v1/cooperatives/{coop}/members"), m).await;
    }
    app.create(
        &format!("/api/v1/cooperatives/{coop}/rules"),
        json!({"effective_from": "2020-01-01", "household_share": "0.70", "station_fee_rate": "0.05",
               "collective_rate": "0.05", "reserve_rate": "0.10", "rebate_rate": "0.60"}),
    )
    .await;
    let alliance = app.create("/api/v1/alliances", json!({"name": "联盟"})).await;
    let station = app
        .create(
            "/api/v1/stations",
            json!({"name": "站", "village_id": va, "cooperative_id": coop, "alliance_id": alliance}),
        )
        .await;
    app.create("/api/v1/channels", json!({"code": "own", "name": "自营", "fee_rate": "0", "alliance_id": alliance}))
        .await;
    app.create(
        "/api/v1/channels",
        json!({"code": "taobao", "name": "淘宝", "fee_rate": "0.05", "alliance_id": alliance}),
    )
    .await;
    use hezuo_app::{Role, auth::ScopeIds};
    let staff = app.token(Role::Staff, ScopeIds { station_id: Some(station), ..Default::default() }).await;
    let (_, v) = app
        .post(
            &format!("/api/v1/stations/{station}/products"),
            &staff,
            json!({"name": "peaches", "unit": "kg", "price": "20.00", "status": "listed"}),
        )
        .await;
    let peach = v["id"].as_i64().unwrap();
    let mut lots = [0; 2];
    for (i, (h, q, floor, at)) in
        [(h1, "100", "12.00", "2026-01-01T08:00:00+08:00"), (h2, "50", "15.00", "2026-01-02T08:00:00+08:00")]
            .into_iter()
            .enumerate()
    {
        let (s, v) = app
            .post(
                &format!("/api/v1/products/{peach}/lots"),
                &staff,
                json!({"household_id": h, "quantity": q, "floor_price": floor, "received_at": at}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        lots[i] = v["id"].as_i64().unwrap();
    }
    World { staff, station, coop, villages: [va, vb], households: [h1, h2], peach, lots, alliance }
}

fn order(w: &World, channel: &str, ext: &str, qty: &str, price: &str) -> Value {
    order_at(w, channel, ext, qty, price, "2026-11-28T10:00:00+08:00")
}

/// A one-line order of peaches placed at `placed_at`.
pub(crate) fn order_at(w: &World, channel: &str, ext: &str, qty: &str, price: &str, placed_at: &str) -> Value {
    json!({"station_id": w.station, "channel": channel, "external_id": ext, "placed_at": placed_at,
           "lines": [{"product_id": w.peach, "quantity": qty, "unit_price": price}]})
}

pub(crate) fn parts(v: &Value) -> Vec<Vec<String>> {
    v["lines"][0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            ["gross", "fee", "household", "station", "collective", "pool"]
                .iter()
                .map(|k| p[k].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

pub(crate) async fn balance(app: &TestApp, account: &str) -> String {
    let (s, v) = app.get(&format!("/api/v1/ledger/accounts/{account}"), &app.admin).await;
    assert_eq!(s, StatusCode::OK, "{account}: {v}");
    v["balance"].as_str().unwrap().to_owned()
}

pub(crate) async fn remaining(app: &TestApp, w: &World, lot: i64) -> String {
    let (_, v) = app.get(&format!("/api/v1/lots/{lot}"), &w.staff).await;
    v["lot"]["remaining"].as_str().unwrap().to_owned()
}

async fn worked_example_to_the_cent(app: TestApp) {
    let w = spec_world(&app).await;
    let (s, o1) = app.post("/api/v1/orders", &w.staff, order(&w, "own", "O-1", "10", "20.00")).await;
    assert_eq!(s, StatusCode::CREATED, "{o1}");
    assert_eq!(parts(&o1), vec![vec!["200.00", "0.00", "140.00", "10.00", "10.00", "40.00"]]);
    assert_eq!(o1["lines"][0]["parts"][0]["lot_id"].as_i64(), Some(w.lots[0]));
    let (s, o2) = app.post("/api/v1/orders", &w.staff, order(&w, "taobao", "TB-2", "95", "16.00")).await;
    assert_eq!(s, StatusCode::CREATED, "{o2}");
    assert_eq!((o2["gross"].as_str(), o2["fee"].as_str()), (Some("1520.00"), Some("76.00")));
    assert_eq!(
        parts(&o2),
        vec![
            vec!["1440.00", "72.00", "1080.00", "68.40", "68.40", "151.20"],
            vec!["80.00", "4.00", "75.00", "3.80", "3.80", "-6.60"]
        ]
    );
    let q: Vec<&str> =
        o2["lines"][0]["parts"].as_array().unwrap().iter().map(|p| p["quantity"].as_str().unwrap()).collect();
    assert_eq!(q, vec!["90.000", "5.000"]);

    let line = o1["lines"][0]["id"].as_i64().unwrap();
    let (s, r) = app
        .post(
            &format!("/api/v1/orders/{}/refunds", o1["id"]),
            &w.staff,
            json!({"line_id": line, "amount": "40.00", "quantity": "2", "restock": false, "reason": "坏果"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, txs) = app.get(&format!("/api/v1/ledger/transactions?order_id={}", o1["id"]), &app.admin).await;
    let refund_postings: Vec<(String, String)> = txs["items"][1]["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["account"].as_str().unwrap().to_owned(), p["amount"].as_str().unwrap().to_owned()))
        .collect();
    let [h1, h2] = w.households;
    let [va, vb] = w.villages;
    assert_eq!(
        refund_postings,
        vec![
            ("channel:own".to_owned(), "40.00".to_owned()),
            (format!("household:{h1}"), "-28.00".to_owned()),
            (format!("station:{}", w.station), "-2.00".to_owned()),
            (format!("village:{va}"), "-2.00".to_owned()),
            (format!("coop:{}:pool", w.coop), "-8.00".to_owned()),
        ]
    );

    // The balances SPEC §7 gives that do not depend on the close.
    assert_eq!(balance(&app, &format!("household:{h1}")).await, "1192.00");
    assert_eq!(balance(&app, &format!("household:{h2}")).await, "75.00");
    assert_eq!(balance(&app, &format!("village:{va}")).await, "76.40");
    assert_eq!(balance(&app, &format!("village:{vb}")).await, "3.80");
    assert_eq!(balance(&app, &format!("station:{}", w.station)).await, "80.20");
    assert_eq!(balance(&app, "fees:channel:taobao").await, "76.00");
    assert_eq!(balance(&app, &format!("coop:{}:pool", w.coop)).await, "176.60");
    assert_eq!(balance(&app, "channel:own").await, "-160.00");
    assert_eq!(balance(&app, "channel:taobao").await, "-1520.00");
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "0.000");
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "45.000");
    let (_, o1) = app.get(&format!("/api/v1/orders/{}", o1["id"]), &w.staff).await;
    assert_eq!((o1["refunded"].as_str(), o1["refund_status"].as_str()), (Some("40.00"), Some("partially_refunded")));
    assert_eq!(o1["lines"][0]["returned"], "2.000");
    // The lot's traceability shows both orders' lines.
    let (_, trace) = app.get(&format!("/api/v1/lots/{}", w.lots[0]), &w.staff).await;
    assert_eq!(trace["order_lines"].as_array().unwrap().len(), 2);
    app.verify().await;
}

/// `n` identical orders sent at once: their statuses and the order ids they answered with.
async fn identical_at_once(app: &TestApp, w: &World, body: &Value, n: usize) -> (usize, usize, Vec<i64>) {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (http, url, token, body) =
                (app.http.clone(), format!("{}/api/v1/orders", app.base), w.staff.clone(), body.clone());
            tokio::spawn(async move {
                let res = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let status = res.status();
                let v: Value = res.json().await.unwrap();
                (status, v)
            })
        })
        .collect();
    let (mut created, mut replayed) = (0, 0);
    let mut ids = Vec::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => replayed += 1,
            other => panic!("unexpected {other}: {v}"),
        }
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    (created, replayed, ids)
}

async fn idempotent_on_channel_and_external_id(app: TestApp) {
    let w = spec_world(&app).await;
    let body = order(&w, "own", "DUP-1", "1", "20.00");
    let (created, replayed, ids) = identical_at_once(&app, &w, &body, 20).await;
    assert_eq!((created, replayed, ids.len()), (1, 19, 1));
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "99.000", "stock drawn once");
    // Same body again: 200 and the same order; a different body: 409.
    let (s, v) = app.post("/api/v1/orders", &w.staff, body.clone()).await;
    assert_eq!((s, v["id"].as_i64()), (StatusCode::OK, Some(ids[0])));
    let (s, v) = app.post("/api/v1/orders", &w.staff, order(&w, "own", "DUP-1", "2", "20.00")).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "order_conflict"));
    // The same external id on another channel is another order.
    let (s, _) = app.post("/api/v1/orders", &w.staff, order(&w, "taobao", "DUP-1", "1", "20.00")).await;
    assert_eq!(s, StatusCode::CREATED);
    // An external id of 128 characters, not bytes (384 of them here), is taken and replayed.
    let long = order(&w, "taobao", &"订".repeat(128), "1", "20.00");
    let (s, first) = app.post("/api/v1/orders", &w.staff, long.clone()).await;
    assert_eq!((s, first["external_id"].as_str().map(|e| e.chars().count())), (StatusCode::CREATED, Some(128)));
    let (s, again) = app.post("/api/v1/orders", &w.staff, long).await;
    assert_eq!((s, again["id"].as_i64()), (StatusCode::OK, first["id"].as_i64()));
    // Identical orders for all the stock left: the twins of the one that takes it find no
    // stock, and answer with that order rather than with `insufficient_stock`.
    let all = order(&w, "own", "ALL-1", "147", "20.00");
    let (created, replayed, ids) = identical_at_once(&app, &w, &all, 20).await;
    assert_eq!((created, replayed, ids.len()), (1, 19, 1));
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "0.000");
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "0.000");
    assert_eq!(balance(&app, "channel:own").await, "-2960.00");
    let (_, list) = app.get("/api/v1/orders", &w.staff).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    app.verify().await;
}

async fn bad_orders_change_nothing(app: TestApp) {
    let w = spec_world(&app).await;
    let (s, v) = app.post("/api/v1/orders", &w.staff, order(&w, "own", "BIG", "150.001", "20.00")).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock", Some("lines[0].quantity"))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("150.000 available"), "{v}");
    // Two lines on the same product that together exceed the stock.
    let mut two = order(&w, "own", "TWO", "100", "20.00");
    two["lines"].as_array_mut().unwrap().push(json!({"product_id": w.peach, "quantity": "50.001", "unit_price": "20"}));
    let (s, v) = app.post("/api/v1/orders", &w.staff, two).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lines[1].quantity")));

    let (_, other) = app
        .post(
            &format!("/api/v1/stations/{}/products", w.station),
            &w.staff,
            json!({"name": "草稿", "unit": "kg", "price": "1"}),
        )
        .await;
    let cases = [
        (json!({"lines": []}), "lines"),
        (json!({"lines": vec![json!({"product_id": w.peach, "quantity": "1", "unit_price": "1"}); 101]}), "lines"),
        (json!({"lines": [{"product_id": w.peach, "quantity": "0", "unit_price": "1"}]}), "lines[0].quantity"),
        (json!({"lines": [{"product_id": w.peach, "quantity": "1.0001", "unit_price": "1"}]}), "lines[0].quantity"),
        (json!({"lines": [{"product_id": w.peach, "quantity": "1", "unit_price": "-1"}]}), "lines[0].unit_price"),
        (json!({"lines": [{"product_id": w.peach, "quantity": "1", "unit_price": "1.001"}]}), "lines[0].unit_price"),
        (json!({"lines": [{"product_id": 999999, "quantity": "1", "unit_price": "1"}]}), "lines[0].product_id"),
        (json!({"lines": [{"product_id": other["id"], "quantity": "1", "unit_price": "1"}]}), "lines[0].product_id"),
        (json!({"channel": "jd"}), "channel"),
        (json!({"external_id": ""}), "external_id"),
        (json!({"external_id": " x"}), "external_id"),
        (json!({"external_id": "订".repeat(129)}), "external_id"),
        (json!({"external_id": "A\u{7}1"}), "external_id"),
        (json!({"placed_at": "2026-11-28"}), "placed_at"),
        (json!({"station_id": 999999}), "station_id"),
    ];
    for (patch, field) in cases {
        let mut body = order(&w, "own", "BAD", "1", "20.00");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, v) = app.post("/api/v1/orders", &w.staff, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{patch} → {v}");
    }
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "100.000");
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "50.000");
    let (_, list) = app.get("/api/v1/orders", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "no partial order");
    assert_eq!(balance(&app, "channel:own").await, "0.00");
}

/// 300 concurrent single-unit orders against a stock of 100.
async fn never_oversells_under_concurrency(app: TestApp) {
    let t: Tenant = app.tenant(1).await;
    let (_, p) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "蛋", "unit": "piece", "price": "2", "status": "listed"}),
        )
        .await;
    let product = p["id"].as_i64().unwrap();
    for (h, q) in [(t.households[0], "60"), (t.households[1], "40")] {
        let (s, _) = app
            .post(
                &format!("/api/v1/products/{product}/lots"),
                &t.staff_token,
                json!({"household_id": h, "quantity": q, "floor_price": "1"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let body = json!({"station_id": t.station, "channel": "taobao", "external_id": format!("C-{i}"), "placed_at": "2026-11-28T10:00:00+08:00",
                              "lines": [{"product_id": product, "quantity": "1", "unit_price": "2"}]});
            let (http, url, token) = (app.http.clone(), format!("{}/api/v1/orders", app.base), t.staff_token.clone());
            tokio::spawn(async move {
                let res = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let status = res.status();
                let v: Value = res.json().await.unwrap();
                (status, v["error"]["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let (mut created, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::UNPROCESSABLE_ENTITY, Some(c)) if c == "insufficient_stock" => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((created, refused), (100, 200));
    let (_, v) = app.get(&format!("/api/v1/products/{product}"), &t.staff_token).await;
    assert_eq!(v["stock"], "0.000");
    assert_eq!(balance(&app, "channel:taobao").await, "-200.00");
    app.verify().await;
}

async fn refunds_cancellation_and_status(app: TestApp) {
    let w = spec_world(&app).await;
    let (_, o) = app.post("/api/v1/orders", &w.staff, order(&w, "taobao", "R-1", "95", "16.00")).await;
    let id = o["id"].as_i64().unwrap();
    let line = o["lines"][0]["id"].as_i64().unwrap();
    let refunds = format!("/api/v1/orders/{id}/refunds");
    for (body, field) in [
        (json!({"line_id": line, "amount": "1520.01", "quantity": "0", "restock": false, "reason": "x"}), "amount"),
        (json!({"line_id": line, "amount": "0", "quantity": "0", "restock": false, "reason": "x"}), "amount"),
        (json!({"line_id": line, "amount": "1", "quantity": "95.001", "restock": true, "reason": "x"}), "quantity"),
        (json!({"line_id": 999999, "amount": "1", "quantity": "0", "restock": false, "reason": "x"}), "line_id"),
        (json!({"line_id": line, "amount": "1", "quantity": "0", "restock": false, "reason": ""}), "reason"),
    ] {
        let (s, v) = app.post(&refunds, &w.staff, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
    // Restock 10 kg: it goes back to the newest part (L2's 5 kg) first, then L1.
    let (s, v) = app
        .post(
            &refunds,
            &w.staff,
            json!({"line_id": line, "amount": "160.00", "quantity": "10", "restock": true, "reason": "退货"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "50.000");
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "15.000");
    // Ship, then the rest is cancelled: everything refunded and restocked, all accounts net to zero.
    let (s, v) = app.post(&format!("/api/v1/orders/{id}/ship"), &w.staff, json!({"tracking_number": "SF123"})).await;
    assert_eq!(
        (s, v["status"].as_str(), v["tracking_number"].as_str()),
        (StatusCode::OK, Some("shipped"), Some("SF123"))
    );
    let (s, v) = app.post(&format!("/api/v1/orders/{id}/ship"), &w.staff, json!({"tracking_number": "SF124"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "invalid_transition"));
    let (s, v) = app.call("POST", &format!("/api/v1/orders/{id}/cancel"), Some(&w.staff), None).await;
    assert_eq!(
        (s, v["status"].as_str(), v["refund_status"].as_str()),
        (StatusCode::OK, Some("cancelled"), Some("refunded")),
        "{v}"
    );
    let (s, v) = app.call("POST", &format!("/api/v1/orders/{id}/cancel"), Some(&w.staff), None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    assert_eq!(remaining(&app, &w, w.lots[0]).await, "100.000");
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "50.000");
    let [h1, h2] = w.households;
    for account in [
        format!("household:{h1}"),
        format!("household:{h2}"),
        format!("coop:{}:pool", w.coop),
        "channel:taobao".into(),
        "fees:channel:taobao".into(),
        format!("station:{}", w.station),
    ] {
        assert_eq!(balance(&app, &account).await, "0.00", "{account}");
    }
    let (s, v) = app
        .post(
            &refunds,
            &w.staff,
            json!({"line_id": line, "amount": "0.01", "quantity": "0", "restock": false, "reason": "x"}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "refund_exceeds"));
    // A completed order is refunded, not cancelled.
    let (_, o2) = app.post("/api/v1/orders", &w.staff, order(&w, "own", "R-2", "1", "20.00")).await;
    let id2 = o2["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/orders/{id2}/ship"), &w.staff, json!({"tracking_number": "YT1"})).await;
    let (s, v) = app.call("POST", &format!("/api/v1/orders/{id2}/complete"), Some(&w.staff), None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("completed")));
    let (s, _) = app.call("POST", &format!("/api/v1/orders/{id2}/cancel"), Some(&w.staff), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    app.verify().await;
}

async fn orders_and_ledger_are_scoped(app: TestApp) {
    let a = app.tenant(1).await;
    let b = app.tenant(2).await;
    let (_, p) = app
        .post(
            &format!("/api/v1/stations/{}/products", a.station),
            &a.staff_token,
            json!({"name": "桃", "unit": "kg", "price": "5", "status": "listed"}),
        )
        .await;
    let product = p["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/products/{product}/lots"),
        &a.staff_token,
        json!({"household_id": a.households[0], "quantity": "10", "floor_price": "1"}),
    )
    .await;
    let body = json!({"station_id": a.station, "channel": "own", "external_id": "S-1", "placed_at": "2026-11-28T10:00:00+08:00",
                      "lines": [{"product_id": product, "quantity": "1", "unit_price": "5"}]});
    // Another station's staff cannot order for station A; a village cannot order at all.
    let (s, v) = app.post("/api/v1/orders", &b.staff_token, body.clone()).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("station_id")));
    assert_eq!(app.post("/api/v1/orders", &a.village_token, body.clone()).await.0, StatusCode::FORBIDDEN);
    // The alliance may place orders for its stations.
    let (s, o) = app.post("/api/v1/orders", &a.alliance_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let id = o["id"].as_i64().unwrap();
    for token in [&b.staff_token, &b.alliance_token] {
        assert_eq!(app.get(&format!("/api/v1/orders/{id}"), token).await.0, StatusCode::NOT_FOUND);
        let refund =
            json!({"line_id": o["lines"][0]["id"], "amount": "1", "quantity": "0", "restock": false, "reason": "x"});
        assert_eq!(app.post(&format!("/api/v1/orders/{id}/refunds"), token, refund).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.call("POST", &format!("/api/v1/orders/{id}/cancel"), Some(token), None).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, list) = app.get("/api/v1/orders", token).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
    }
    assert_eq!(app.get(&format!("/api/v1/orders/{id}"), &a.village_token).await.0, StatusCode::FORBIDDEN);
    // Ledger: alliances see their own postings; villages their own accounts; staff none.
    assert_eq!(balance(&app, "channel:own").await, "-5.00");
    let (s, v) = app.get("/api/v1/ledger/accounts/channel:own", &a.alliance_token).await;
    assert_eq!((s, v["balance"].as_str()), (StatusCode::OK, Some("-5.00")));
    let (s, v) = app.get("/api/v1/ledger/accounts/channel:own", &b.alliance_token).await;
    assert_eq!(
        (s, v["balance"].as_str(), v["postings"]["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some("0.00"), Some(0))
    );
    let (s, v) = app.get(&format!("/api/v1/ledger/accounts/village:{}", a.village), &a.village_token).await;
    assert_eq!((s, v["balance"].as_str()), (StatusCode::OK, Some("0.25")), "5.00 × 0.05 on the own channel; {v}");
    assert_eq!(
        app.get(&format!("/api/v1/ledger/accounts/village:{}", b.village), &a.village_token).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/api/v1/ledger/accounts/channel:own", &a.staff_token).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/ledger/accounts/bank:1", &app.admin).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/v1/ledger/transactions?order_id={id}"), &b.alliance_token).await.0,
        StatusCode::NOT_FOUND
    );
}

/// Orders that arrive together are booked together (on SQLite in one transaction, each under
/// its own savepoint): refused ones — for want of stock, an unlisted product, a repeated id with
/// another body, a product of another station — leave nothing behind, and the others stand.
async fn refused_orders_leave_no_trace_among_concurrent_ones(app: TestApp) {
    let t: Tenant = app.tenant(1).await;
    let other: Tenant = app.tenant(2).await;
    let product = |t: &Tenant, name: &str, status: &str| {
        let (app, t) = (&app, t.clone());
        let body = json!({"name": name, "unit": "kg", "price": "3", "status": status});
        async move {
            let (s, p) = app.post(&format!("/api/v1/stations/{}/products", t.station), &t.staff_token, body).await;
            assert_eq!(s, StatusCode::CREATED, "{p}");
            let id = p["id"].as_i64().unwrap();
            let lot = json!({"household_id": t.households[0], "quantity": "10", "floor_price": "1"});
            let (s, _) = app.post(&format!("/api/v1/products/{id}/lots"), &t.staff_token, lot).await;
            assert_eq!(s, StatusCode::CREATED);
            id
        }
    };
    let listed = product(&t, "米", "listed").await;
    let unlisted = product(&t, "豆", "draft").await;
    let foreign = product(&other, "茶", "listed").await;
    let (s, _) = app
        .post(
            "/api/v1/orders",
            &t.staff_token,
            json!({"station_id": t.station, "channel": "own", "external_id": "SEEN", "placed_at": "2026-11-28T10:00:00+08:00",
                   "lines": [{"product_id": listed, "quantity": "1", "unit_price": "3"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // 40 orders at once: per group of four, one good order of 0.2 kg, one for the unlisted
    // product, one for a product of another station, and one repeating "SEEN" with another
    // body; and one for more than the whole stock (9 kg are left), refused in any order.
    let mut bodies = Vec::new();
    for i in 0..10 {
        let line = |p: i64, q: &str| json!([{"product_id": p, "quantity": q, "unit_price": "3"}]);
        for (ext, lines) in [
            (format!("OK-{i}"), line(listed, "0.2")),
            (format!("DRAFT-{i}"), line(unlisted, "1")),
            (format!("FOREIGN-{i}"), line(foreign, "1")),
            ("SEEN".to_owned(), line(listed, "2")),
        ] {
            bodies.push(json!({"station_id": t.station, "channel": "own", "external_id": ext,
                               "placed_at": "2026-11-28T10:00:00+08:00", "lines": lines}));
        }
    }
    bodies.push(json!({"station_id": t.station, "channel": "own", "external_id": "TOO-MUCH",
                       "placed_at": "2026-11-28T10:00:00+08:00",
                       "lines": [{"product_id": listed, "quantity": "9.5", "unit_price": "3"}]}));
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (http, url, token) = (app.http.clone(), format!("{}/api/v1/orders", app.base), t.staff_token.clone());
            tokio::spawn(async move {
                let ext = body["external_id"].as_str().unwrap().to_owned();
                let res = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let status = res.status();
                let v: Value = res.json().await.unwrap();
                (ext, status, v["error"]["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::new();
    for task in tasks {
        let (ext, status, code) = task.await.unwrap();
        let kind = ext.split('-').next().unwrap().to_owned();
        *outcomes.entry((kind, status.as_u16(), code)).or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<(String, u16, Option<String>), i32> = [
        (("OK".to_owned(), 201, None), 10),
        (("DRAFT".to_owned(), 422, Some("product_not_listed".to_owned())), 10),
        (("FOREIGN".to_owned(), 422, Some("unknown_reference".to_owned())), 10),
        (("SEEN".to_owned(), 409, Some("order_conflict".to_owned())), 10),
        (("TOO".to_owned(), 422, Some("insufficient_stock".to_owned())), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(outcomes, expected);
    // 10 − 1 − 10 × 0.2 = 7 kg left; only the 11 orders placed exist, with their postings.
    let (_, v) = app.get(&format!("/api/v1/products/{listed}"), &t.staff_token).await;
    assert_eq!(v["stock"], "7.000");
    let (_, v) = app.get(&format!("/api/v1/products/{unlisted}"), &t.staff_token).await;
    assert_eq!(v["stock"], "10.000");
    let (_, v) = app.get(&format!("/api/v1/orders?station_id={}&limit=100", t.station), &t.staff_token).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(11), "{v}");
    assert_eq!(balance(&app, "channel:own").await, "-9.00");
    app.verify().await;
}

/// An order of 100 lines, each drawing on twenty lots: 2,000 lot parts and over 10,000
/// postings, about twice what PostgreSQL takes in one statement's bind parameters, booked whole
/// and exactly.
async fn the_largest_orders_are_booked_whole(app: TestApp) {
    let t: Tenant = app.tenant(1).await;
    let mut products = Vec::new();
    for i in 0..100 {
        let (s, p) = app
            .post(
                &format!("/api/v1/stations/{}/products", t.station),
                &t.staff_token,
                json!({"name": format!("菜{i}"), "unit": "kg", "price": "3.33", "status": "listed"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        products.push(p["id"].as_i64().unwrap());
    }
    let mut csv = String::from("product_id,household_id,quantity,floor_price,received_at\n");
    for p in &products {
        for k in 0..20 {
            csv.push_str(&format!("{p},{},0.05,1,\n", t.households[k % 2]));
        }
    }
    let res = app
        .http
        .post(format!("{}/api/v1/stations/{}/lots:import", app.base, t.station))
        .bearer_auth(&t.staff_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let lines: Vec<Value> =
        products.iter().map(|p| json!({"product_id": p, "quantity": "1", "unit_price": "3.33"})).collect();
    let body = json!({"station_id": t.station, "channel": "taobao", "external_id": "BIG-1",
                      "placed_at": "2026-11-28T10:00:00+08:00", "lines": lines});
    let (s, v) = app.post("/api/v1/orders", &t.staff_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 100);
    assert!(lines.iter().all(|l| l["parts"].as_array().unwrap().len() == 20), "every line draws on its twenty lots");
    assert_eq!(v["gross"], "333.00");
    for p in [products[0], products[99]] {
        let (_, v) = app.get(&format!("/api/v1/products/{p}"), &t.staff_token).await;
        assert_eq!(v["stock"], "0.000");
    }
    assert_eq!(balance(&app, "channel:taobao").await, "-333.00");
    let (_, order) = app.get(&format!("/api/v1/orders/{}", v["id"]), &t.staff_token).await;
    assert_eq!(order["lines"].as_array().unwrap().len(), 100, "read back as written");
    app.verify().await;
}

/// A platform line as paid: `amount` is the line's gross exactly, split over the lots as SPEC §4.
async fn a_line_paid_as_an_amount(app: TestApp) {
    let w = spec_world(&app).await;
    let paid = |ext: &str, line: Value| {
        json!({"station_id": w.station, "channel": "taobao", "external_id": ext,
               "placed_at": "2026-11-28T10:00:00+08:00", "lines": [line]})
    };
    // 101 kg paid 1,600.07 after a discount: 100 kg from L1 (floor 12.00), 1 kg from L2.
    let body = paid("TB-PAID", json!({"product_id": w.peach, "quantity": "101", "amount": "1600.07"}));
    let (s, o) = app.post("/api/v1/orders", &w.staff, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    // G = 1600.07, F = round(5 % × G) = 80.00; G split 100:1 = 1584.23 + 15.84, F 79.21 + 0.79.
    assert_eq!((o["gross"].as_str(), o["fee"].as_str()), (Some("1600.07"), Some("80.00")));
    assert_eq!(o["lines"][0]["unit_price"], "15.84", "the paid amount per unit, rounded");
    assert_eq!(
        parts(&o),
        vec![
            vec!["1584.23", "79.21", "1200.00", "75.25", "75.25", "154.52"],
            vec!["15.84", "0.79", "15.00", "0.75", "0.75", "-1.45"]
        ]
    );
    assert_eq!(balance(&app, "channel:taobao").await, "-1600.07");
    // The same body again is a replay; another amount for the same id a conflict.
    let (s, again) = app.post("/api/v1/orders", &w.staff, body).await;
    assert_eq!((s, &again["id"]), (StatusCode::OK, &o["id"]));
    let (s, v) = app
        .post(
            "/api/v1/orders",
            &w.staff,
            paid("TB-PAID", json!({"product_id": w.peach, "quantity": "101", "amount": "1600.08"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "order_conflict"), "{v}");

    // Exactly one of unit_price and amount; amounts are exact and not negative. Nothing is booked.
    for (line, field) in [
        (
            json!({"product_id": w.peach, "quantity": "1", "amount": "1.00", "unit_price": "1.00"}),
            "lines[0].unit_price",
        ),
        (json!({"product_id": w.peach, "quantity": "1"}), "lines[0].unit_price"),
        (json!({"product_id": w.peach, "quantity": "1", "amount": "-0.01"}), "lines[0].amount"),
        (json!({"product_id": w.peach, "quantity": "1", "amount": "1.001"}), "lines[0].amount"),
    ] {
        let (s, v) = app.post("/api/v1/orders", &w.staff, paid("TB-BAD", line.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{line}: {v}");
        assert_eq!(v["error"]["field"], field, "{line}: {v}");
    }
    assert_eq!(remaining(&app, &w, w.lots[1]).await, "49.000");
    assert_eq!(balance(&app, "channel:taobao").await, "-1600.07");
    app.verify().await;
}

db_tests!(
    a_line_paid_as_an_amount,
    worked_example_to_the_cent,
    the_largest_orders_are_booked_whole,
    idempotent_on_channel_and_external_id,
    bad_orders_change_nothing,
    never_oversells_under_concurrency,
    refused_orders_leave_no_trace_among_concurrent_ones,
    refunds_cancellation_and_status,
    orders_and_ledger_are_scoped,
);
