//! 平台店铺 and 接口推送 in the console: a feed set up against a fake Taobao shop on 127.0.0.1,
//! its secrets write-only, synced from the button with a parked order cleared by giving a
//! product its merchant code, 同步进行中 while a run is under way, refused addresses beside
//! their field with the networks allowed, and a webhook endpoint whose secret is shown once.

use crate::visitor::{PASSWORD, Visitor, beside, user};
use chrono::{TimeDelta, Utc};
use hezuo_core::Money;
use hezuo_platforms::Credentials;
use hezuo_tests::fake_platform::{FakeLine, FakeOrder, FakePlatform, FakeStatus, Kind};
use hezuo_tests::{TestApp, db_tests, json};
use reqwest::StatusCode;

async fn alliance_of(app: &TestApp, alliance: i64) -> Visitor {
    user(app, "lianmeng", "alliance", ("alliance_id", alliance)).await;
    let mut v = Visitor::new(app);
    assert_eq!(v.login("lianmeng", PASSWORD).await.status, StatusCode::SEE_OTHER);
    v
}

async fn a_taobao_shop_from_the_console(app: TestApp) {
    let t = app.tenant(1).await;
    let taobao = t.channels[1];
    let mut v = alliance_of(&app, t.alliance).await;
    let home = v.get("/stations").await;
    assert!(home.html.contains("href=\"/channels\"") && home.html.contains("平台店铺"), "the alliance's menu");
    let list = v.get("/channels").await;
    assert!(list.html.contains("未接入") && list.html.contains(&format!("/channels/{taobao}/feed")));

    let fake =
        FakePlatform::start(Kind::Taobao, Credentials::new("app-1", "secret-of-the-shop", Some("token-1".into())))
            .await;
    let start = Utc::now() - TimeDelta::hours(3);
    let local = start.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT%H:%M").to_string();
    let path = format!("/channels/{taobao}/feed");
    let page = v.get(&path).await;
    assert!(page.html.contains("type=\"datetime-local\"") && page.html.contains("name=\"app_secret\""));
    let base = fake.base_url();
    let form = |url: &str, secret: &'static str, token: &'static str| {
        vec![
            ("platform", "taobao".to_owned()),
            ("base_url", url.to_owned()),
            ("app_key", "app-1".to_owned()),
            ("app_secret", secret.to_owned()),
            ("access_token", token.to_owned()),
            ("interval_seconds", "300".to_owned()),
            ("start_at", local.clone()),
        ]
    };
    let pairs = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    // An address outside the allowed networks: beside the field, saying which are allowed.
    let f = pairs(&form("http://127.0.0.2:9/", "secret-of-the-shop", "token-1"));
    let p = v.post(&path, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = beside(&p, "base_url");
    assert!(e.contains("地址不允许") && e.contains("HEZUO_FEED_ALLOW_NETS") && e.contains("127.0.0.1/32"), "{e}");
    assert!(!p.html.contains("secret-of-the-shop"), "a secret is never shown back");
    assert!(app.rows("SELECT CAST(id AS TEXT) FROM feeds").await.is_empty());
    // A new feed needs its secret.
    let f = pairs(&form(&base, "", ""));
    let p = v.post(&path, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(beside(&p, "app_secret").starts_with("App Secret"), "{}", beside(&p, "app_secret"));
    let f = pairs(&form(&base, "secret-of-the-shop", "token-1"));
    let p = v.post(&path, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let page = v.get(&path).await;
    assert!(
        page.html.contains("已设置：留空则保留原值")
            && !page.html.contains("secret-of-the-shop")
            && !page.html.contains("token-1")
    );
    assert!(page.html.contains(&format!("value=\"{local}\"")), "the start in the deployment's zone");
    // Saved again with the secrets left empty: the stored ones stay (the run below signs with them).
    let f = pairs(&form(&base, "", ""));
    let p = v.post(&path, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);

    // A platform order of an unknown merchant code is parked; giving a product the code clears it.
    let at = start + TimeDelta::minutes(30);
    fake.put_order(FakeOrder::new("TB-900", FakeStatus::Paid, at).line(FakeLine::new(
        "TB-900-1",
        "TAO-9",
        2,
        Money::from_cents(1980),
    )));
    let page = v.post(&format!("{path}/sync"), &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert_eq!(fake.rejected(), 0, "every request signed with the stored secret");
    assert!(page.html.contains("同步完成：新订单 0 笔") && page.html.contains("待处理 1 笔"), "{}", page.html);
    assert!(
        page.html.contains("未知的商家编码 TAO-9") && page.html.contains("给对应商品填写该商家编码"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<dd id=\"caught-up\">已追平</dd>"), "{}", page.html);
    let (s, prod) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "白凤桃", "unit": "斤", "price": "9.90", "status": "listed", "sku": "TAO-9"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(
            &format!("/api/v1/products/{}/lots", prod["id"]),
            &t.staff_token,
            json!({"household_id": t.households[0], "quantity": "10", "floor_price": "0"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let page = v.post(&format!("{path}/sync"), &[]).await;
    assert!(
        page.html.contains("同步完成：新订单 1 笔") && page.html.contains("没有待处理的订单或退款"),
        "{}",
        page.html
    );
    let booked = app.rows("SELECT external_id, CAST(gross AS TEXT) FROM orders").await;
    assert_eq!(booked, [["TB-900".to_owned(), "1980".to_owned()]]);

    // A run under way: the second press is told 同步进行中 (409). The run reads its windows
    // again from the start, its first call throttled (the platform asks for a second).
    app.rows("UPDATE feeds SET cursor = start_at").await;
    fake.throttle_next(1);
    let mut w = alliance_again(&app).await;
    let sync = format!("{path}/sync");
    let (a, b) = tokio::join!(v.post(&sync, &[]), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        w.post(&sync, &[]).await
    });
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert!(b.html.contains("同步进行中"), "{}", b.html);

    // Another role: nothing.
    let mut staff = crate::visitor::staff_of(&app, &t, "clerk1").await;
    staff.get(&format!("/stations/{}/products", t.station)).await;
    let f = pairs(&form(&base, "another-secret", ""));
    let p = staff.post(&path, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
}

async fn alliance_again(app: &TestApp) -> Visitor {
    let mut v = Visitor::new(app);
    assert_eq!(v.login("lianmeng", PASSWORD).await.status, StatusCode::SEE_OTHER);
    v.get("/channels").await;
    v
}

async fn a_webhook_endpoint_from_the_console(app: TestApp) {
    let t = app.tenant(1).await;
    let mut v = alliance_of(&app, t.alliance).await;
    let page = v.get("/webhooks").await;
    assert!(page.html.contains("name=\"events\"") && page.html.contains("value=\"order.created\""));
    let p = v.post("/webhooks", &[("url", "http://127.0.0.2:9/hook"), ("events", "order.created")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = beside(&p, "url");
    assert!(e.contains("HEZUO_WEBHOOK_ALLOW_NETS") && e.contains("127.0.0.1/32"), "{e}");
    let p = v.post("/webhooks", &[("url", "http://127.0.0.1:9/hook")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"events-error\""), "{}", p.html);
    assert!(app.rows("SELECT CAST(id AS TEXT) FROM webhook_endpoints").await.is_empty());

    let p = v
        .post(
            "/webhooks",
            &[("url", "http://127.0.0.1:9/hook"), ("events", "order.created"), ("events", "order.refunded")],
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED);
    let secret = p.html.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(p.html.contains("它只显示这一次") && p.html.contains("data-copy=\"secret\""));
    let again = v.get("/webhooks").await;
    assert!(
        !again.html.contains(&secret) && again.html.contains("http://127.0.0.1:9/hook"),
        "the secret is shown once"
    );
    let id = app.rows("SELECT CAST(id AS TEXT) FROM webhook_endpoints").await[0][0].clone();

    // An order makes a delivery; it can be sent again; a disabled endpoint cannot.
    let (s, prod) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "大米", "unit": "kg", "price": "10.00", "status": "listed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    app.post(
        &format!("/api/v1/products/{}/lots", prod["id"]),
        &t.staff_token,
        json!({"household_id": t.households[0], "quantity": "10", "floor_price": "0"}),
    )
    .await;
    let (s, _) = app
        .post(
            "/api/v1/orders",
            &t.staff_token,
            json!({"station_id": t.station, "channel": "own", "external_id": "W-1", "placed_at": "2026-07-01T10:00:00+08:00",
                   "lines": [{"product_id": prod["id"], "quantity": "1", "unit_price": "10.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let page = v.get(&format!("/webhooks/{id}")).await;
    assert!(page.html.contains("新订单（order.created）") && page.html.contains("重新推送"), "{}", page.html);
    let delivery = app.rows("SELECT CAST(id AS TEXT) FROM webhook_deliveries").await[0][0].clone();
    let p = v.post(&format!("/webhooks/{id}/disable"), &[]).await;
    assert!(p.html.contains("已停用"), "{}", p.html);
    let p = v.post(&format!("/webhooks/{id}/deliveries/{delivery}/redeliver"), &[]).await;
    assert!(p.html.contains("未能重新推送：推送地址已停用"), "{}", p.html);
    v.post(&format!("/webhooks/{id}/enable"), &[]).await;
    let p = v.post(&format!("/webhooks/{id}/deliveries/{delivery}/redeliver"), &[]).await;
    assert!(p.html.contains(&format!("已安排重新推送（第 {delivery} 条）")), "{}", p.html);
    let state = app.rows(&format!("SELECT status FROM webhook_deliveries WHERE id = {delivery}")).await;
    assert!(["pending", "failed"].contains(&state[0][0].as_str()), "{state:?}");

    // A forged form creates nothing; another alliance sees none of it.
    v.csrf = "forged".into();
    let p = v.post("/webhooks", &[("url", "http://127.0.0.1:9/other"), ("events", "order.created")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.rows("SELECT CAST(id AS TEXT) FROM webhook_endpoints").await.len(), 1);
    let other = app.tenant(2).await;
    user(&app, "other-lm", "alliance", ("alliance_id", other.alliance)).await;
    let mut o = Visitor::new(&app);
    o.login("other-lm", PASSWORD).await;
    assert_eq!(o.get(&format!("/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);
    assert!(!o.get("/webhooks").await.html.contains("127.0.0.1:9/hook"));
}

db_tests!(a_taobao_shop_from_the_console, a_webhook_endpoint_from_the_console);
