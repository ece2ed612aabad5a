//! Catalog and stock through the HTTP API: products, lots, adjustments, traceability, import,
//! export, low stock and scoping.

use hezuo_tests::{Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;

async fn product(app: &TestApp, t: &Tenant, body: Value) -> i64 {
    let (s, v) = app.post(&format!("/api/v1/stations/{}/products", t.station), &t.staff_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn lot(app: &TestApp, t: &Tenant, product: i64, body: Value) -> Value {
    let (s, v) = app.post(&format!("/api/v1/products/{product}/lots"), &t.staff_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

async fn stock(app: &TestApp, t: &Tenant, product: i64) -> String {
    let (s, v) = app.get(&format!("/api/v1/products/{product}"), &t.staff_token).await;
    assert_eq!(s, StatusCode::OK);
    v["stock"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}{}", app.base, path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// The line and field of every row an import rejected.
fn rejected_rows(v: &Value) -> Vec<(i64, Option<&str>)> {
    v["error"]["rows"].as_array().unwrap().iter().map(|r| (r["line"].as_i64().unwrap(), r["field"].as_str())).collect()
}

async fn products_are_listed_searched_and_validated(app: TestApp) {
    let t = app.tenant(1).await;
    let peach = product(
        &app,
        &t,
        json!({"name": "阳山水蜜桃", "unit": "斤", "price": "15.80", "status": "listed", "category": "鲜果",
               "image_urls": ["https://img.example.cn/peach.jpg"], "low_stock_threshold": "50"}),
    )
    .await;
    let (_, v) = app.get(&format!("/api/v1/products/{peach}"), &t.staff_token).await;
    assert_eq!(
        (
            v["name"].as_str(),
            v["price"].as_str(),
            v["status"].as_str(),
            v["stock"].as_str(),
            v["low_stock_threshold"].as_str()
        ),
        (Some("阳山水蜜桃"), Some("15.80"), Some("listed"), Some("0.000"), Some("50.000"))
    );
    assert_eq!(v["image_urls"], json!(["https://img.example.cn/peach.jpg"]));
    product(&app, &t, json!({"name": "白凤桃", "unit": "kg", "price": 9.9})).await;
    product(&app, &t, json!({"name": "土鸡蛋 100%_散养", "unit": "piece", "price": "1.5", "status": "listed"})).await;

    let list = |q: &'static str| {
        let app = &app;
        let t = &t;
        async move {
            let (s, v) = app.get(&format!("/api/v1/stations/{}/products{q}", t.station), &t.staff_token).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await.len(), 3);
    assert_eq!(list("?q=桃").await, vec!["阳山水蜜桃", "白凤桃"]);
    assert_eq!(list("?q=%E6%B0%B4%E8%9C%9C").await, vec!["阳山水蜜桃"]);
    assert_eq!(list("?q=100%25_").await, vec!["土鸡蛋 100%_散养"]);
    assert_eq!(list("?q=%25").await, vec!["土鸡蛋 100%_散养"], "a % in q is literal");
    assert_eq!(list("?status=draft").await, vec!["白凤桃"]);
    assert_eq!(list("?status=listed&q=桃").await, vec!["阳山水蜜桃"]);
    let (s, _) = app.get(&format!("/api/v1/stations/{}/products?status=sold", t.station), &t.staff_token).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, v) = app.get(&format!("/api/v1/stations/{}/products?limit=2", t.station), &t.staff_token).await;
    assert_eq!((v["items"].as_array().unwrap().len(), v["next_cursor"].is_string()), (2, true));

    let (s, v) = app
        .patch(&format!("/api/v1/products/{peach}"), &t.staff_token, json!({"price": "16", "status": "delisted"}))
        .await;
    assert_eq!(
        (s, v["price"].as_str(), v["status"].as_str(), v["name"].as_str()),
        (StatusCode::OK, Some("16.00"), Some("delisted"), Some("阳山水蜜桃"))
    );

    let station = format!("/api/v1/stations/{}/products", t.station);
    let base = json!({"name": "桃", "unit": "斤", "price": "1.00"});
    let long = "桃".repeat(101);
    for (field, value, want) in [
        ("name", json!(""), "name"),
        ("name", json!("   "), "name"),
        ("name", json!(long), "name"),
        ("unit", json!(""), "unit"),
        ("unit", json!("a very long unit name"), "unit"),
        ("price", json!("0"), "price"),
        ("price", json!("-1"), "price"),
        ("price", json!("1.001"), "price"),
        ("price", json!("10000000.01"), "price"),
        ("price", json!("99999999999999999999999"), "price"),
        ("status", json!("sold"), "status"),
        ("image_urls", json!(["javascript:alert(1)"]), "image_urls"),
        ("low_stock_threshold", json!("-1"), "low_stock_threshold"),
        ("low_stock_threshold", json!("0.0001"), "low_stock_threshold"),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let (s, v) = app.post(&station, &t.staff_token, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(want)), "{body} → {v}");
    }
    assert_eq!(list("").await.len(), 3, "nothing invalid was created");

    // CSV export with stock.
    let res =
        app.http.get(format!("{}{station}?format=csv", app.base)).bearer_auth(&t.staff_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,unit,sku,price,status,category,stock,low_stock_threshold,description,image_urls")
    );
    assert_eq!(
        lines.next(),
        Some(
            format!("{peach},阳山水蜜桃,斤,,16.00,delisted,鲜果,0.000,50.000,,https://img.example.cn/peach.jpg")
                .as_str()
        )
    );
    assert_eq!(text.lines().count(), 4);
}

async fn lots_adjustments_and_traceability(app: TestApp) {
    let t = app.tenant(1).await;
    let outsider =
        app.create("/api/v1/households", json!({"village_id": t.village, "name": "非社员", "members": 2})).await;
    let peach =
        product(&app, &t, json!({"name": "阳山水蜜桃", "unit": "kg", "price": "20.00", "status": "listed"})).await;
    let lots = format!("/api/v1/products/{peach}/lots");

    // The later-received lot is created first: lists go by received_at, not by id.
    let l2 = lot(&app, &t, peach, json!({"household_id": t.households[1], "quantity": "50", "floor_price": "15.00", "received_at": "2026-06-02T08:00:00+08:00"})).await;
    let l1 = lot(&app, &t, peach, json!({"household_id": t.households[0], "quantity": 100, "floor_price": 12, "received_at": "2026-06-01T08:00:00+08:00"})).await;
    assert_eq!(
        (l1["received"].as_str(), l1["remaining"].as_str(), l1["floor_price"].as_str()),
        (Some("100.000"), Some("100.000"), Some("12.00"))
    );
    assert_eq!(l1["village_id"].as_i64(), Some(t.village));
    let (_, v) = app.get(&lots, &t.staff_token).await;
    let order: Vec<i64> = v["items"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(order, vec![l1["id"].as_i64().unwrap(), l2["id"].as_i64().unwrap()]);
    assert_eq!(stock(&app, &t, peach).await, "150.000");

    for (body, status, field, err) in [
        (
            json!({"household_id": outsider, "quantity": "1", "floor_price": "1"}),
            422,
            "household_id",
            "household_not_member",
        ),
        (
            json!({"household_id": 999999, "quantity": "1", "floor_price": "1"}),
            422,
            "household_id",
            "unknown_reference",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "0", "floor_price": "1"}),
            422,
            "quantity",
            "invalid_field",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "-5", "floor_price": "1"}),
            422,
            "quantity",
            "invalid_field",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "1.0001", "floor_price": "1"}),
            422,
            "quantity",
            "invalid_body",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "10000000.001", "floor_price": "1"}),
            422,
            "quantity",
            "invalid_field",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "1", "floor_price": "-0.01"}),
            422,
            "floor_price",
            "invalid_field",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "1", "floor_price": "1", "received_at": "2999-01-01T00:00:00Z"}),
            422,
            "received_at",
            "invalid_field",
        ),
        (
            json!({"household_id": t.households[0], "quantity": "1", "floor_price": "1", "received_at": "yesterday"}),
            422,
            "received_at",
            "invalid_body",
        ),
    ] {
        let (s, v) = app.post(&lots, &t.staff_token, body.clone()).await;
        assert_eq!((s.as_u16(), v["error"]["field"].as_str(), code(&v)), (status, Some(field), err), "{body} → {v}");
    }
    assert_eq!(stock(&app, &t, peach).await, "150.000", "no rejected lot changed stock");

    let l1_id = l1["id"].as_i64().unwrap();
    let adj = format!("/api/v1/lots/{l1_id}/adjustments");
    let (s, v) =
        app.post(&adj, &t.staff_token, json!({"quantity": "-2.5", "reason": "spoilage", "note": "雨后烂果"})).await;
    assert_eq!(
        (s, v["lot"]["remaining"].as_str(), v["movement"]["quantity"].as_str()),
        (StatusCode::CREATED, Some("97.500"), Some("-2.500"))
    );
    let (s, v) = app.post(&adj, &t.staff_token, json!({"quantity": "-97.501", "reason": "loss"})).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("97.500"), "{v}");
    let (s, v) = app.post(&adj, &t.staff_token, json!({"quantity": "0", "reason": "loss"})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("quantity")));
    let (s, _) = app.post(&adj, &t.staff_token, json!({"quantity": "-1", "reason": "theft"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = app.post(&adj, &t.staff_token, json!({"quantity": "1.5", "reason": "count_correction"})).await;
    assert_eq!((s, v["lot"]["remaining"].as_str()), (StatusCode::CREATED, Some("99.000")));
    let (s, v) = app.post(&adj, &t.staff_token, json!({"quantity": "-99", "reason": "loss"})).await;
    assert_eq!((s, v["lot"]["remaining"].as_str()), (StatusCode::CREATED, Some("0.000")));
    assert_eq!(stock(&app, &t, peach).await, "50.000");

    let (s, v) = app.get(&format!("/api/v1/lots/{l1_id}"), &t.alliance_token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["household"]["id"].as_i64(), v["village"]["id"].as_i64()), (Some(t.households[0]), Some(t.village)));
    assert_eq!(v["lot"]["floor_price"], "12.00");
    let kinds: Vec<(&str, &str)> = v["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["quantity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![("intake", "100.000"), ("adjustment", "-2.500"), ("adjustment", "1.500"), ("adjustment", "-99.000")]
    );
    assert_eq!(v["movements"][1]["reason"], "spoilage");
    assert!(v["movements"][1]["actor_token_id"].is_i64());
    assert_eq!(v["order_lines"], json!([]));
    app.verify().await;
}

/// Concurrent adjustments never overdraw a lot.
async fn concurrent_adjustments_never_go_negative(app: TestApp) {
    let t = app.tenant(1).await;
    let p = product(&app, &t, json!({"name": "鸡蛋", "unit": "piece", "price": "1"})).await;
    let l = lot(&app, &t, p, json!({"household_id": t.households[0], "quantity": "10", "floor_price": "0.5"})).await;
    let path = format!("/api/v1/lots/{}/adjustments", l["id"]);
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (http, url, token) = (app.http.clone(), format!("{}{path}", app.base), t.staff_token.clone());
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({"quantity": "-1", "reason": "loss"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut created = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, refused), (10, 20));
    assert_eq!(stock(&app, &t, p).await, "0.000");
}

async fn catalog_objects_are_scoped(app: TestApp) {
    let a = app.tenant(1).await;
    let b = app.tenant(2).await;
    let pa = product(&app, &a, json!({"name": "桃", "unit": "kg", "price": "1", "status": "listed"})).await;
    let la =
        lot(&app, &a, pa, json!({"household_id": a.households[0], "quantity": "5", "floor_price": "1"})).await["id"]
            .as_i64()
            .unwrap();
    let csv = b"name,unit,price\nx,kg,1\n".to_vec();

    // Staff of another station: 404 on every catalog object of station A.
    let s_b = &b.staff_token;
    let reads = [
        format!("/api/v1/products/{pa}"),
        format!("/api/v1/products/{pa}/lots"),
        format!("/api/v1/lots/{la}"),
        format!("/api/v1/stations/{}/products", a.station),
        format!("/api/v1/stations/{}/lots", a.station),
        format!("/api/v1/stations/{}/low-stock", a.station),
    ];
    for path in &reads {
        assert_eq!(app.get(path, s_b).await.0, StatusCode::NOT_FOUND, "staff B GET {path}");
        // The alliance of A reads them all; B's alliance does not see them.
        assert_eq!(app.get(path, &a.alliance_token).await.0, StatusCode::OK, "alliance A GET {path}");
        assert_eq!(app.get(path, &b.alliance_token).await.0, StatusCode::NOT_FOUND, "alliance B GET {path}");
        assert_eq!(app.get(path, &a.village_token).await.0, StatusCode::FORBIDDEN, "village GET {path}");
    }
    let writes = [
        (format!("/api/v1/stations/{}/products", a.station), json!({"name": "x", "unit": "kg", "price": "1"})),
        (
            format!("/api/v1/products/{pa}/lots"),
            json!({"household_id": a.households[0], "quantity": "1", "floor_price": "1"}),
        ),
        (format!("/api/v1/lots/{la}/adjustments"), json!({"quantity": "-1", "reason": "loss"})),
    ];
    for (path, body) in &writes {
        assert_eq!(app.post(path, s_b, body.clone()).await.0, StatusCode::NOT_FOUND, "staff B POST {path}");
        assert_eq!(
            app.post(path, &a.alliance_token, body.clone()).await.0,
            StatusCode::FORBIDDEN,
            "alliance POST {path}"
        );
        assert_eq!(
            app.post(path, &a.village_token, body.clone()).await.0,
            StatusCode::FORBIDDEN,
            "village POST {path}"
        );
    }
    assert_eq!(app.patch(&format!("/api/v1/products/{pa}"), s_b, json!({"price": "2"})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.patch(&format!("/api/v1/products/{pa}"), &a.alliance_token, json!({"price": "2"})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) =
        upload(&app, &format!("/api/v1/stations/{}/products:import", a.station), s_b, "text/csv", csv.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Station B's staff cannot receive A's household into B's product either (not a member of B's cooperative).
    let pb = product(&app, &b, json!({"name": "桃", "unit": "kg", "price": "1"})).await;
    let (s, v) = app
        .post(
            &format!("/api/v1/products/{pb}/lots"),
            s_b,
            json!({"household_id": a.households[0], "quantity": "1", "floor_price": "1"}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "household_not_member"));
    assert_eq!(stock(&app, &a, pa).await, "5.000");
}

async fn imports_are_all_or_nothing(app: TestApp) {
    let t = app.tenant(1).await;
    let products = format!("/api/v1/stations/{}/products:import", t.station);
    let list = format!("/api/v1/stations/{}/products?limit=500", t.station);
    async fn count_at(app: &TestApp, list: &str, token: &str) -> usize {
        app.get(list, token).await.1["items"].as_array().unwrap().len()
    }

    let bad = "name,unit,price,status\n阳山水蜜桃,斤,15.80,listed\n,斤,1,\n白凤桃,斤,abc,\n黄桃,斤,1,sold\n好桃,斤,2\n\"带\n换行\",斤,0,\n";
    let (s, v) = upload(&app, &products, &t.staff_token, "text/csv", bad.as_bytes().to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"), "{v}");
    let rows = rejected_rows(&v);
    assert_eq!(rows, vec![(3, Some("name")), (4, Some("price")), (5, Some("status")), (6, None), (7, Some("name"))]);
    assert_eq!(count_at(&app, &list, &t.staff_token).await, 0, "nothing imported");

    // GBK, as Excel saves it on Chinese Windows, with Chinese headers.
    let (gbk, _, _) = encoding_rs::GBK
        .encode("商品名称,单位,价格,状态,库存预警\n阳山水蜜桃,斤,15.80,listed,100\n白凤桃,斤,9.90,listed,\n");
    let (s, v) = upload(&app, &products, &t.staff_token, "text/csv", gbk.into_owned()).await;
    assert_eq!((s, v["imported"].as_i64()), (StatusCode::CREATED, Some(2)), "{v}");
    // UTF-8 with BOM.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend("name,unit,price\n土鸡蛋,piece,1.50\n".as_bytes());
    let (s, v) = upload(&app, &products, &t.staff_token, "text/csv; charset=utf-8", bom).await;
    assert_eq!((s, v["imported"].as_i64()), (StatusCode::CREATED, Some(1)), "{v}");
    assert_eq!(count_at(&app, &list, &t.staff_token).await, 3);
    let (_, v) = app.get(&format!("/api/v1/stations/{}/products?q=水蜜桃", t.station), &t.staff_token).await;
    assert_eq!(
        (v["items"][0]["price"].as_str(), v["items"][0]["low_stock_threshold"].as_str()),
        (Some("15.80"), Some("100.000"))
    );
    let peach = v["items"][0]["id"].as_i64().unwrap();

    let (s, v) = upload(&app, &products, &t.staff_token, "application/json", b"{}".to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let (s, v) = upload(&app, &products, &t.staff_token, "text/csv", vec![0xff, 0xfe, 0xff, 0xff, 0x00]).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "bad_encoding"));

    // Lots by product name, from member households only; one bad row rejects the file.
    let outsider =
        app.create("/api/v1/households", json!({"village_id": t.village, "name": "非社员", "members": 2})).await;
    let lots = format!("/api/v1/stations/{}/lots:import", t.station);
    let file = format!(
        "product_name,household_id,quantity,floor_price,received_at\n阳山水蜜桃,{h0},100,12.00,2026-06-01 08:00\n阳山水蜜桃,{outsider},5,12,\n不存在,{h0},5,12,\n白凤桃,{h1},0,5,\n",
        h0 = t.households[0],
        h1 = t.households[1]
    );
    let (s, v) = upload(&app, &lots, &t.staff_token, "text/csv", file.into_bytes()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"), "{v}");
    let rows = rejected_rows(&v);
    assert_eq!(rows, vec![(3, Some("household_id")), (4, Some("product_name")), (5, Some("quantity"))]);
    assert_eq!(stock(&app, &t, peach).await, "0.000");

    let file = format!(
        "product_id,household_id,quantity,floor_price,received_at\n{peach},{h0},100,12.00,2026-06-01 08:00\n{peach},{h1},50.5,15,2026-06-02T08:00:00+08:00\n",
        h0 = t.households[0],
        h1 = t.households[1]
    );
    let (s, v) = upload(&app, &lots, &t.staff_token, "text/csv", file.into_bytes()).await;
    assert_eq!((s, v["imported"].as_i64()), (StatusCode::CREATED, Some(2)), "{v}");
    assert_eq!(stock(&app, &t, peach).await, "150.500");
    let first = v["ids"][0].as_i64().unwrap();
    let (_, trace) = app.get(&format!("/api/v1/lots/{first}"), &t.staff_token).await;
    assert_eq!(trace["lot"]["received_at"], "2026-06-01T00:00:00Z");
    assert_eq!(trace["movements"][0]["kind"], "intake");

    let res = app
        .http
        .get(format!("{}/api/v1/stations/{}/lots?format=csv", app.base, t.station))
        .bearer_auth(&t.staff_token)
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert_eq!(
        text.lines().next(),
        Some("id,product_id,household_id,village_id,received,remaining,floor_price,received_at")
    );
    assert_eq!(
        text.lines().nth(1),
        Some(
            format!(
                "{first},{peach},{},{},100.000,100.000,12.00,2026-06-01T08:00:00+08:00",
                t.households[0], t.village
            )
            .as_str()
        )
    );
    app.verify().await;
}

async fn low_stock_lists_listed_products_below_threshold(app: TestApp) {
    let t = app.tenant(1).await;
    let under = product(
        &app,
        &t,
        json!({"name": "少", "unit": "kg", "price": "1", "status": "listed", "low_stock_threshold": "10"}),
    )
    .await;
    let enough = product(
        &app,
        &t,
        json!({"name": "够", "unit": "kg", "price": "1", "status": "listed", "low_stock_threshold": "10"}),
    )
    .await;
    let empty = product(
        &app,
        &t,
        json!({"name": "空", "unit": "kg", "price": "1", "status": "listed", "low_stock_threshold": "1"}),
    )
    .await;
    let draft =
        product(&app, &t, json!({"name": "草稿", "unit": "kg", "price": "1", "low_stock_threshold": "10"})).await;
    let no_threshold = product(&app, &t, json!({"name": "无", "unit": "kg", "price": "1", "status": "listed"})).await;
    for (p, q) in [(under, "9.999"), (enough, "10"), (draft, "1"), (no_threshold, "0.001")] {
        lot(&app, &t, p, json!({"household_id": t.households[0], "quantity": q, "floor_price": "0"})).await;
    }
    let (s, v) = app.get(&format!("/api/v1/stations/{}/low-stock", t.station), &t.staff_token).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![under, empty]);
    assert_eq!(v["items"][0]["stock"], "9.999");
}

/// The merchant code (商家编码) is unique per station: a repeat is 409 and changes nothing,
/// another station may use it, blank clears it, and an import names every row that repeats it.
async fn merchant_codes_are_unique_per_station(app: TestApp) {
    let t = app.tenant(1).await;
    let u = app.tenant(2).await;
    let peach =
        product(&app, &t, json!({"name": "阳山水蜜桃", "unit": "斤", "price": "15.80", "sku": " TAO-001 "})).await;
    let (_, v) = app.get(&format!("/api/v1/products/{peach}"), &t.staff_token).await;
    assert_eq!(v["sku"], "TAO-001");
    let path = format!("/api/v1/stations/{}/products", t.station);
    let (s, v) = app
        .post(&path, &t.staff_token, json!({"name": "白凤桃", "unit": "斤", "price": "9.90", "sku": "TAO-001"}))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"), "{v}");
    assert_eq!(v["error"]["message"], "another product of the station has this sku");
    let (_, v) = app.get(&format!("{path}?limit=500"), &t.staff_token).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "the refused product was not created");
    let (s, v) = app
        .post(&path, &t.staff_token, json!({"name": "白凤桃", "unit": "斤", "price": "9.90", "sku": "TAO 002"}))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sku")), "{v}");
    let other = product(&app, &u, json!({"name": "水蜜桃", "unit": "斤", "price": "15.80", "sku": "TAO-001"})).await;
    assert_ne!(other, peach);

    let pear = product(&app, &t, json!({"name": "梨", "unit": "斤", "price": "5", "sku": "LI-1"})).await;
    let (s, v) = app.patch(&format!("/api/v1/products/{pear}"), &t.staff_token, json!({"sku": "TAO-001"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (_, v) = app.get(&format!("/api/v1/products/{pear}"), &t.staff_token).await;
    assert_eq!(v["sku"], "LI-1");
    let (s, v) = app.patch(&format!("/api/v1/products/{pear}"), &t.staff_token, json!({"sku": ""})).await;
    assert_eq!((s, &v["sku"]), (StatusCode::OK, &Value::Null), "{v}");

    let import = format!("/api/v1/stations/{}/products:import", t.station);
    let file = "name,unit,price,商家编码\n枣,斤,8,ZAO-1\n杏,斤,6,TAO-001\n李,斤,4,ZAO-1\n柿,斤,3,\n";
    let (s, v) = upload(&app, &import, &t.staff_token, "text/csv", file.as_bytes().to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"), "{v}");
    let rows = rejected_rows(&v);
    assert_eq!(rows, vec![(3, Some("sku")), (4, Some("sku"))]);
    let (_, v) = app.get(&format!("{path}?limit=500"), &t.staff_token).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2, "nothing imported");
    let file = "name,unit,price,sku\n枣,斤,8,ZAO-1\n柿,斤,3,\n";
    let (s, v) = upload(&app, &import, &t.staff_token, "text/csv", file.as_bytes().to_vec()).await;
    assert_eq!((s, v["imported"].as_i64()), (StatusCode::CREATED, Some(2)), "{v}");
    let res = app.http.get(format!("{}{path}?format=csv", app.base)).bearer_auth(&t.staff_token).send().await.unwrap();
    let text = res.text().await.unwrap();
    assert!(text.lines().next().unwrap().starts_with("id,name,unit,sku,price,"), "{text}");
    assert!(text.contains(",枣,斤,ZAO-1,8.00,"), "{text}");
}

db_tests!(
    products_are_listed_searched_and_validated,
    lots_adjustments_and_traceability,
    concurrent_adjustments_never_go_negative,
    catalog_objects_are_scoped,
    imports_are_all_or_nothing,
    low_stock_lists_listed_products_below_threshold,
    merchant_codes_are_unique_per_station,
);
