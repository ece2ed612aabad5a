use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;

async fn create_read_update_with_chinese_names(app: TestApp) {
    let a = &app.admin;
    let (s, v) = app
        .post("/api/v1/villages", a, json!({"name": "安阳山村", "code": "320206103202", "income_target": 150000}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["name"].as_str(), v["income_target"].as_str()), (Some("安阳山村"), Some("150000.00")));
    assert_eq!(v["income_target_is_default"], false);
    let village = v["id"].as_i64().unwrap();

    let (_, v) = app.post("/api/v1/villages", a, json!({"name": "火炬村", "code": "320206103203"})).await;
    assert_eq!((v["income_target"].as_str(), v["income_target_is_default"].as_bool()), (Some("100000.00"), Some(true)));

    let (s, v) =
        app.post("/api/v1/households", a, json!({"village_id": village, "name": "李秀英", "members": 3})).await;
    assert_eq!((s, v["name"].as_str(), v["members"].as_i64()), (StatusCode::CREATED, Some("李秀英"), Some(3)));
    let hh = v["id"].as_i64().unwrap();
    let (s, v) = app.patch(&format!("/api/v1/households/{hh}"), a, json!({"members": 4, "name": "李秀英户"})).await;
    assert_eq!((s, v["members"].as_i64(), v["name"].as_str()), (StatusCode::OK, Some(4), Some("李秀英户")));
    let (_, v) = app.get(&format!("/api/v1/households/{hh}"), a).await;
    assert_eq!((v["members"].as_i64(), v["name"].as_str()), (Some(4), Some("李秀英户")));
    // An empty PATCH changes nothing and answers the object.
    let (s, v) = app.patch(&format!("/api/v1/households/{hh}"), a, json!({})).await;
    assert_eq!((s, v["members"].as_i64()), (StatusCode::OK, Some(4)));

    let (s, v) = app.patch(&format!("/api/v1/villages/{village}"), a, json!({"income_target": "80000.5"})).await;
    assert_eq!(
        (s, v["income_target"].as_str(), v["name"].as_str()),
        (StatusCode::OK, Some("80000.50"), Some("安阳山村"))
    );

    let coop = app.create("/api/v1/cooperatives", json!({"name": "阳山水蜜桃专业合作社"})).await;
    let (s, v) = app
        .post(&format!("/api/v1/cooperatives/{coop}/members"), a, json!({"village_id": village, "capital": 60000}))
        .await;
    assert_eq!((s, v["capital"].as_str(), v["household_id"].is_null()), (StatusCode::CREATED, Some("60000.00"), true));
    let member = v["id"].as_i64().unwrap();
    let (s, v) =
        app.patch(&format!("/api/v1/cooperatives/{coop}/members/{member}"), a, json!({"capital": "65000.10"})).await;
    assert_eq!((s, v["capital"].as_str()), (StatusCode::OK, Some("65000.10")));
    let (s, v) =
        app.post(&format!("/api/v1/cooperatives/{coop}/members"), a, json!({"household_id": hh, "capital": "0"})).await;
    assert_eq!((s, v["capital"].as_str()), (StatusCode::CREATED, Some("0.00")));
    let (_, v) = app.get(&format!("/api/v1/cooperatives/{coop}/members"), a).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);

    let rules = json!({"effective_from": "2026-01-01", "household_share": 0.7, "station_fee_rate": "0.05",
        "collective_rate": "0.05", "reserve_rate": "0.10", "rebate_rate": "0.6"});
    let (s, v) = app.post(&format!("/api/v1/cooperatives/{coop}/rules"), a, rules.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["household_share"].as_str(), v["rebate_rate"].as_str()), (Some("0.70"), Some("0.60")));
    let (s, v) = app.post(&format!("/api/v1/cooperatives/{coop}/rules"), a, rules).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"));

    let alliance = app.create("/api/v1/alliances", json!({"name": "惠山区农村电商联盟"})).await;
    let (s, v) = app
        .post(
            "/api/v1/stations",
            a,
            json!({"name": "桃源村电商服务站", "village_id": village, "cooperative_id": coop, "alliance_id": alliance}),
        )
        .await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::CREATED, Some("桃源村电商服务站")));
    let (s, v) = app
        .post(
            "/api/v1/channels",
            a,
            json!({"code": "pdd", "name": "拼多多", "fee_rate": "0.03", "alliance_id": alliance}),
        )
        .await;
    assert_eq!((s, v["fee_rate"].as_str()), (StatusCode::CREATED, Some("0.03")));
    let ch = v["id"].as_i64().unwrap();
    let (s, v) = app.patch(&format!("/api/v1/channels/{ch}"), a, json!({"fee_rate": "0.035"})).await;
    assert_eq!((s, v["fee_rate"].as_str(), v["code"].as_str()), (StatusCode::OK, Some("0.035"), Some("pdd")));
    let (s, v) = app
        .post("/api/v1/channels", a, json!({"code": "pdd", "name": "again", "fee_rate": "0", "alliance_id": alliance}))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"));
}

/// Exact storage of amounts on both databases: no REAL, no float, no rounding.
async fn amounts_round_trip_exactly(app: TestApp) {
    let a = &app.admin;
    for (i, amount) in ["0.10", "99999999.99", "0.01", "0.00", "1000000000000.00"].iter().enumerate() {
        let (s, v) = app
            .post(
                "/api/v1/villages",
                a,
                json!({"name": "村", "code": format!("32020610300{i}"), "income_target": amount}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, v) = app.get(&format!("/api/v1/villages/{}", v["id"]), a).await;
        assert_eq!(v["income_target"].as_str(), Some(*amount));
    }
    // JSON numbers are read as their decimal text, not as floats.
    let (_, v) =
        app.post("/api/v1/villages", a, json!({"name": "村", "code": "320206103100", "income_target": 0.1})).await;
    assert_eq!(v["income_target"], "0.10");
    let (_, v) = app
        .post(
            "/api/v1/villages",
            a,
            serde_json::from_str(r#"{"name":"村","code":"320206103101","income_target":99999999.99}"#).unwrap(),
        )
        .await;
    assert_eq!(v["income_target"], "99999999.99");
    let alliance = app.create("/api/v1/alliances", json!({"name": "联盟"})).await;
    for (code_, rate) in [("a", "0.001"), ("b", "0.000001"), ("c", "1")] {
        let (s, v) = app
            .post("/api/v1/channels", a, json!({"code": code_, "name": "x", "fee_rate": rate, "alliance_id": alliance}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, v) = app.get(&format!("/api/v1/channels/{}", v["id"]), a).await;
        let expect = if rate == "1" { "1.00" } else { rate };
        assert_eq!(v["fee_rate"].as_str(), Some(expect));
    }
    for (amount, why) in [
        ("0.001", "three decimals"),
        ("1e3", "exponent"),
        ("-1", "negative"),
        ("92233720368547758.08", "too large"),
        ("abc", "not a number"),
    ] {
        let (s, v) = app
            .post("/api/v1/villages", a, json!({"name": "村", "code": "320206103999", "income_target": amount}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {v}");
        assert_eq!(v["error"]["field"], "income_target", "{why}");
    }
    let (s, _) = app
        .post(
            "/api/v1/villages",
            a,
            serde_json::from_str(r#"{"name":"村","code":"320206103998","income_target":0.1000000000000000055511}"#)
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn validation_of_every_set_up_field(app: TestApp) {
    let a = &app.admin;
    let t = app.tenant(1).await;
    let long = "村".repeat(101);
    let villages = [
        (json!({"name": "", "code": "320206103301"}), "name"),
        (json!({"name": "   ", "code": "320206103301"}), "name"),
        (json!({"name": long, "code": "320206103301"}), "name"),
        (json!({"name": "村", "code": "32020610330"}), "code"),
        (json!({"name": "村", "code": "3202061033011"}), "code"),
        (json!({"name": "村", "code": "32020610330X"}), "code"),
        (json!({"name": "村", "code": 320206103301_i64}), "code"),
        (json!({"name": "村", "code": "320206103301", "income_target": "-5"}), "income_target"),
    ];
    for (body, field) in villages {
        let (s, v) = app.post("/api/v1/villages", a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
    let (s, v) = app.post("/api/v1/villages", a, json!({"name": "重复", "code": "320206103201"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"), "{v}");

    for (body, field) in [
        (json!({"village_id": t.village, "name": "户", "members": 0}), "members"),
        (json!({"village_id": t.village, "name": "户", "members": -1}), "members"),
        (json!({"village_id": t.village, "name": "户", "members": 101}), "members"),
        (json!({"village_id": t.village, "name": "户", "members": 1.5}), "members"),
        (json!({"village_id": 999999, "name": "户", "members": 2}), "village_id"),
        (json!({"village_id": t.village, "name": "", "members": 2}), "name"),
    ] {
        let (s, v) = app.post("/api/v1/households", a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }

    let members = format!("/api/v1/cooperatives/{}/members", t.cooperative);
    for (body, field) in [
        (json!({"household_id": t.households[0], "capital": "-0.01"}), "capital"),
        (json!({"household_id": t.households[0], "village_id": t.village, "capital": "1"}), "household_id"),
        (json!({"capital": "1"}), "household_id"),
        (json!({"household_id": 999999, "capital": "1"}), "household_id"),
        (json!({"village_id": 999999, "capital": "1"}), "village_id"),
        (json!({"household_id": t.households[0], "capital": "1.234"}), "capital"),
    ] {
        let (s, v) = app.post(&members, a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
    let (s, v) = app.post(&members, a, json!({"household_id": t.households[0], "capital": "5"})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"));
    let (s, _) =
        app.post("/api/v1/cooperatives/999999/members", a, json!({"village_id": t.village, "capital": "1"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let rules = format!("/api/v1/cooperatives/{}/rules", t.cooperative);
    let base = json!({"effective_from": "2026-06-01", "household_share": "0.70", "station_fee_rate": "0.05",
        "collective_rate": "0.05", "reserve_rate": "0.10", "rebate_rate": "0.60"});
    for (field, value, expect) in [
        ("rebate_rate", json!("0.59"), "rebate_rate"),
        ("rebate_rate", json!("1.01"), "rebate_rate"),
        ("household_share", json!("0.91"), "household_share"),
        ("household_share", json!("-0.1"), "household_share"),
        ("reserve_rate", json!("1.5"), "reserve_rate"),
        ("station_fee_rate", json!("0.0000001"), "station_fee_rate"),
        ("collective_rate", json!("abc"), "collective_rate"),
        ("effective_from", json!("2026-13-01"), "effective_from"),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let (s, v) = app.post(&rules, a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(expect)), "{body} → {v}");
    }
    // Shares summing to exactly 1 are allowed.
    let mut body = base.clone();
    body["household_share"] = json!("0.90");
    assert_eq!(app.post(&rules, a, body).await.0, StatusCode::CREATED);
    let (_, v) = app.get(&rules, a).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);

    for (body, field) in [
        (
            json!({"name": "站", "village_id": 999999, "cooperative_id": t.cooperative, "alliance_id": t.alliance}),
            "village_id",
        ),
        (
            json!({"name": "站", "village_id": t.village, "cooperative_id": 999999, "alliance_id": t.alliance}),
            "cooperative_id",
        ),
        (
            json!({"name": "站", "village_id": t.village, "cooperative_id": t.cooperative, "alliance_id": 999999}),
            "alliance_id",
        ),
    ] {
        let (s, v) = app.post("/api/v1/stations", a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
    for (body, field) in [
        (json!({"code": "Tao Bao", "name": "x", "fee_rate": "0", "alliance_id": t.alliance}), "code"),
        (json!({"code": "", "name": "x", "fee_rate": "0", "alliance_id": t.alliance}), "code"),
        (json!({"code": "jd", "name": "x", "fee_rate": "1.2", "alliance_id": t.alliance}), "fee_rate"),
        (json!({"code": "jd", "name": "x", "fee_rate": "0.02", "alliance_id": 999999}), "alliance_id"),
    ] {
        let (s, v) = app.post("/api/v1/channels", a, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
}

async fn lists_page_with_cursors(app: TestApp) {
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(
            app.create("/api/v1/villages", json!({"name": format!("村{i}"), "code": format!("3202061034{i:02}")}))
                .await,
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/villages?limit=3&cursor={c}"),
            None => "/api/v1/villages?limit=3".to_owned(),
        };
        let (s, v) = app.get(&path, &app.admin).await;
        assert_eq!(s, StatusCode::OK);
        pages += 1;
        seen.extend(v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made);
}

async fn demo_seeds_once(app: TestApp) {
    let first = hezuo_app::demo::seed(&app.app).await.unwrap();
    assert!(first.seeded);
    let second = hezuo_app::demo::seed(&app.app).await.unwrap();
    assert!(!second.seeded);
    let count = |path: &'static str| {
        let app = &app;
        async move { app.get(path, &app.admin).await.1["items"].as_array().unwrap().len() }
    };
    assert_eq!(count("/api/v1/villages").await, 3);
    assert_eq!(count("/api/v1/households?limit=100").await, 12);
    assert_eq!(count("/api/v1/stations").await, 2);
    assert_eq!(count("/api/v1/channels").await, 4);
    assert_eq!(count("/api/v1/cooperatives/1/members?limit=100").await, 15);
    assert_eq!(
        count("/api/v1/stations/1/products?limit=100").await + count("/api/v1/stations/2/products?limit=100").await,
        30
    );
    // Two lots of each product for the recent months, one of each listed product for the history.
    assert_eq!(count("/api/v1/stations/1/lots?limit=100").await, 30 + 15);
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (_, recent) = app.get(&format!("/api/v1/orders?from={}&limit=500", ago(91)), &app.admin).await;
    let recent = recent["items"].as_array().unwrap().len();
    assert!((250..=300).contains(&recent), "{recent} recent demo orders");
    let (_, history) = app.get(&format!("/api/v1/orders?to={}&limit=500", ago(94)), &app.admin).await;
    let history = history["items"].as_array().unwrap().len();
    assert!(history >= 250, "{history} orders of the two years before");
    // Village reports: last year (complete) has weak and non-weak villages, this year grows on it.
    use chrono::Datelike;
    let year = chrono::Utc::now().year();
    let (_, last) = app.get(&format!("/api/v1/reports/villages?year={}", year - 1), &app.admin).await;
    assert_eq!((last["year_complete"].as_bool(), last["weak_count"].as_i64()), (Some(true), Some(2)), "{last}");
    assert_eq!(last["villages"][0]["village"]["name"], "桃源村");
    let (_, this) = app.get(&format!("/api/v1/reports/villages/1/revenue?year={year}"), &app.admin).await;
    assert!(this["growth"].is_string(), "{this}");
    let (_, income) = app.get("/api/v1/villages/1/income", &app.admin).await;
    assert!(income["items"].as_array().unwrap().iter().any(|e| e["reverses_id"].is_i64()), "a removed entry");
    let (_, cancelled) = app.get("/api/v1/orders?status=cancelled&limit=500", &app.admin).await;
    assert!(cancelled["items"].as_array().unwrap().len() >= 5);
    app.verify().await;
    let (s, v) = app
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "staff-taoyuan", "password": hezuo_app::demo::DEMO_PASSWORD})),
        )
        .await;
    assert_eq!((s, v["role"].as_str()), (StatusCode::OK, Some("staff")));
}

db_tests!(
    create_read_update_with_chinese_names,
    amounts_round_trip_exactly,
    validation_of_every_set_up_field,
    lists_page_with_cursors,
    demo_seeds_once,
);
