//! Platform feeds through the HTTP API (PLATFORMS.md, API.md "Platform feeds and webhooks"):
//! settings with write-only secrets, scope, the address checks of the base URL, and runs
//! against fake platforms on 127.0.0.1 that check every signature, window and page.

use chrono::{DateTime, TimeDelta, Utc};
use hezuo_core::Money;
use hezuo_platforms::Credentials;
use hezuo_tests::fake_platform::{FakeLine, FakeOrder, FakePlatform, FakeRefund, FakeStatus, Kind, List};
use hezuo_tests::{Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;

fn feed_body(base_url: &str) -> Value {
    json!({"platform": "taobao", "base_url": base_url, "app_key": "12345678", "app_secret": "s3cret-app-secret",
           "access_token": "sess-token-1", "enabled": false, "interval_seconds": 300,
           "start_at": "2026-11-01T00:00:00+08:00"})
}

async fn settings_secrets_and_scope(app: TestApp) {
    let t = app.tenant(1).await;
    let other = app.tenant(2).await;
    let taobao = t.channels[1];
    let path = format!("/api/v1/channels/{taobao}/feed");
    let (s, v) = app.get(&path, &t.alliance_token).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "no feed yet: {v}");

    let (s, v) = app.put(&path, &t.alliance_token, feed_body("http://127.0.0.1:9")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["platform"].as_str(), v["app_secret_set"].as_bool(), v["access_token_set"].as_bool()),
        (Some("taobao"), Some(true), Some(true))
    );
    assert_eq!(v["cursor"], "2026-10-31T16:00:00Z");
    let text = v.to_string();
    assert!(!text.contains("s3cret-app-secret") && !text.contains("sess-token-1"), "{text}");
    let (_, v) = app.get(&path, &app.admin).await;
    assert!(!v.to_string().contains("s3cret"), "{v}");

    // Stored sealed: the database never holds the secret in clear.
    let stored = app.rows("SELECT app_secret, access_token FROM feeds").await;
    assert!(stored.iter().flatten().all(|c| c.starts_with("v1:") && !c.contains("s3cret")), "{stored:?}");

    // Only the alliance (its own channels) and admins.
    for token in [&t.staff_token, &t.village_token] {
        let (s, _) = app.put(&path, token, feed_body("http://127.0.0.1:9")).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = app.get(&path, &other.alliance_token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.post(&format!("{path}:sync"), &other.alliance_token, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn bad_settings_change_nothing(app: TestApp) {
    let t = app.tenant(1).await;
    let path = format!("/api/v1/channels/{}/feed", t.channels[1]);
    let with = |k: &str, v: Value| {
        let mut b = feed_body("http://127.0.0.1:9");
        b[k] = v;
        b
    };
    for (body, field, want) in [
        (with("platform", json!("jd")), "platform", "invalid_field"),
        (with("interval_seconds", json!(59)), "interval_seconds", "invalid_field"),
        (with("app_secret", json!(" padded ")), "app_secret", "invalid_field"),
        (with("app_key", json!("")), "app_key", "invalid_field"),
        (with("base_url", json!("ftp://127.0.0.1/")), "base_url", "invalid_field"),
        (with("base_url", json!("not a url")), "base_url", "invalid_field"),
        // The addresses a feed may never reach, written in the URL: refused without connecting.
        (with("base_url", json!("http://169.254.169.254/latest")), "base_url", "address_not_allowed"),
        (with("base_url", json!("http://[::1]:9/")), "base_url", "address_not_allowed"),
        (with("base_url", json!("http://[::ffff:127.0.0.2]:9/")), "base_url", "address_not_allowed"),
        (with("base_url", json!("http://127.0.0.2:9/")), "base_url", "address_not_allowed"),
        (with("base_url", json!("https://user:pw@127.0.0.1:9/")), "base_url", "invalid_field"),
    ] {
        let (s, v) = app.put(&path, &t.alliance_token, body.clone()).await;
        assert_eq!(
            (s, code(&v), v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, want, Some(field)),
            "{body}: {v}"
        );
        assert!(!v.to_string().contains("s3cret"), "{v}");
    }
    assert_eq!(app.rows("SELECT id FROM feeds").await.len(), 0);
}

async fn no_key_no_secrets(app: TestApp) {
    let t = app.tenant(1).await;
    let path = format!("/api/v1/channels/{}/feed", t.channels[1]);
    let (s, v) = app.put(&path, &t.alliance_token, feed_body("http://127.0.0.1:9")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "secret_key_missing"), "{v}");
    assert_eq!(app.rows("SELECT id FROM feeds").await.len(), 0);
}

/// A shop of tenant 1 on a platform: a listed product with merchant code `TAO-1` and 1,000
/// units in stock, a channel for the platform, and its feed pointed at a fake platform.
struct Shop {
    t: Tenant,
    fake: FakePlatform,
    channel: i64,
    code: &'static str,
    product: i64,
}

fn credentials() -> Credentials {
    Credentials::new("app-1", "secret-of-the-shop", Some("token-of-the-shop".into()))
}

fn cents(c: i64) -> Money {
    Money::from_cents(c)
}

/// A product of the station with merchant code `sku` and `stock` units from household 0.
async fn stocked(app: &TestApp, t: &Tenant, sku: &str, stock: &str) -> i64 {
    let (s, p) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": format!("商品{sku}"), "unit": "件", "price": "9.90", "status": "listed", "sku": sku}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let id = p["id"].as_i64().unwrap();
    let (s, l) = app
        .post(
            &format!("/api/v1/products/{id}/lots"),
            &t.staff_token,
            json!({"household_id": t.households[0], "quantity": stock, "floor_price": "0"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{l}");
    id
}

async fn shop(app: &TestApp, t: &Tenant, kind: Kind, start_at: DateTime<Utc>, product: i64) -> Shop {
    let code = kind.name();
    let channel = match code {
        "taobao" => t.channels[1],
        _ => {
            app.create(
                "/api/v1/channels",
                json!({"code": code, "name": code, "fee_rate": "0.05", "alliance_id": t.alliance}),
            )
            .await
        }
    };
    let fake = FakePlatform::start(kind, credentials()).await;
    let mut body = feed_body(&fake.base_url());
    body["platform"] = json!(code);
    body["app_key"] = json!("app-1");
    body["app_secret"] = json!("secret-of-the-shop");
    body["access_token"] = json!("token-of-the-shop");
    body["start_at"] = json!(start_at.to_rfc3339());
    let (s, v) = app.put(&format!("/api/v1/channels/{channel}/feed"), &t.alliance_token, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    Shop { t: t.clone(), fake, channel, code, product }
}

impl Shop {
    async fn sync(&self, app: &TestApp) -> Value {
        let (s, v) =
            app.post(&format!("/api/v1/channels/{}/feed:sync", self.channel), &self.t.alliance_token, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(self.fake.rejected(), 0, "every request signed and within the limits: {:?}", self.fake.requests());
        v
    }

    async fn feed(&self, app: &TestApp) -> Value {
        app.get(&format!("/api/v1/channels/{}/feed", self.channel), &self.t.alliance_token).await.1
    }

    /// The booked order of a platform order id, if any.
    async fn order(&self, app: &TestApp, external_id: &str) -> Option<Value> {
        let (_, list) = app
            .get(&format!("/api/v1/orders?station_id={}&channel={}&limit=500", self.t.station, self.code), &app.admin)
            .await;
        let id = list["items"].as_array()?.iter().find(|o| o["external_id"] == external_id)?["id"].as_i64()?;
        Some(app.get(&format!("/api/v1/orders/{id}"), &app.admin).await.1)
    }

    async fn orders(&self, app: &TestApp) -> usize {
        let (_, list) = app
            .get(&format!("/api/v1/orders?station_id={}&channel={}&limit=500", self.t.station, self.code), &app.admin)
            .await;
        list["items"].as_array().map_or(0, Vec::len)
    }

    async fn stock(&self, app: &TestApp) -> String {
        app.get(&format!("/api/v1/products/{}", self.product), &app.admin).await.1["stock"].as_str().unwrap().to_owned()
    }
}

/// One paid one-line order of `TAO-1`.
fn paid(id: &str, qty: u32, amount: i64, at: DateTime<Utc>) -> FakeOrder {
    FakeOrder::new(id, FakeStatus::Paid, at).line(FakeLine::new(format!("{id}-1"), "TAO-1", qty, cents(amount)))
}

async fn every_order_exactly_once_on_every_platform(app: TestApp) {
    let t = app.tenant(1).await;
    let product = stocked(&app, &t, "TAO-1", "1000").await;
    let now = Utc::now();
    let start = now - TimeDelta::hours(2);
    for kind in Kind::ALL {
        let shop = shop(&app, &t, kind, start, product).await;
        // 120 orders over the last two hours: several windows of every platform, two pages.
        for i in 0..120 {
            let at = start + TimeDelta::seconds(30 + i * 55);
            shop.fake.put_order(paid(&format!("{}-{i:04}", kind.name()), 1, 990, at));
        }
        let run = shop.sync(&app).await;
        assert_eq!((run["orders_created"].as_i64(), run["parked"].as_i64()), (Some(120), Some(0)), "{kind:?}: {run}");
        assert!(run["error"].is_null(), "{run}");
        let requests = shop.fake.requests();
        let windows: std::collections::BTreeSet<_> = requests.iter().filter_map(|r| r.start).collect();
        // Taobao and Pinduoduo: 25-minute windows; Douyin's day covers the two hours at once.
        let want = if kind == Kind::Douyin { 1 } else { 5 };
        assert!(windows.len() >= want, "{kind:?}: {want} windows or more, got {}", windows.len());
        // Pages are read last to first: a window with two pages asks page 2 before page 1 again.
        let pages: Vec<u32> = requests
            .iter()
            .filter(|r| r.list == Some(List::Orders) && r.start == requests.iter().filter(|r| r.list == Some(List::Orders)).find(|r| matches!(r.outcome, hezuo_tests::fake_platform::Outcome::Answered { total, .. } if total > 100)).and_then(|r| r.start))
            .filter_map(|r| r.page)
            .collect();
        let first = kind.first_page();
        if !pages.is_empty() {
            assert_eq!(pages, vec![first, first + 1, first], "{kind:?}");
        }
        assert_eq!(shop.orders(&app).await, 120, "{kind:?}");
        // The next run finds nothing new; a replay from the start books nothing twice.
        let again = shop.sync(&app).await;
        assert_eq!(again["orders_created"].as_i64(), Some(0), "{again}");
        let feed = shop.feed(&app).await;
        assert!(feed["cursor"].as_str().unwrap() > (now - TimeDelta::minutes(3)).to_rfc3339().as_str(), "{feed}");
    }
    // 360 units sold at 9.90: stock and the channels' balances exact.
    let stock = app.get(&format!("/api/v1/products/{product}"), &app.admin).await.1;
    assert_eq!(stock["stock"], "640.000");
    for code in ["taobao", "pdd", "douyin"] {
        let (_, b) = app.get(&format!("/api/v1/ledger/accounts/channel:{code}"), &app.admin).await;
        assert_eq!(b["balance"], "-1188.00", "{code}: {b}");
    }
    // Counted on /metrics: two runs per platform, both whole; 120 orders booked; none parked.
    let (_, metrics) = app.call("GET", "/metrics", None, None).await;
    let metrics: Vec<&str> = metrics.as_str().unwrap_or_default().lines().collect();
    for p in ["taobao", "pdd", "douyin"] {
        for line in [
            format!("hezuo_feed_runs_total{{platform=\"{p}\",outcome=\"ok\"}} 2"),
            format!("hezuo_feed_items_total{{platform=\"{p}\",result=\"booked\"}} 120"),
            format!("hezuo_feed_parked{{platform=\"{p}\"}} 0"),
        ] {
            assert!(metrics.contains(&line.as_str()), "{line} not in {metrics:#?}");
        }
    }
    app.verify().await;
}

async fn states_parking_and_refunds(app: TestApp) {
    let t = app.tenant(1).await;
    let product = stocked(&app, &t, "TAO-1", "100").await;
    let now = Utc::now();
    let start = now - TimeDelta::hours(1);
    let at = |m: i64| start + TimeDelta::minutes(m);
    let shop = shop(&app, &t, Kind::Taobao, start, product).await;
    let f = &shop.fake;
    f.put_order(FakeOrder::new("T-UNPAID", FakeStatus::Unpaid, at(1)).line(FakeLine::new(
        "u1",
        "TAO-1",
        1,
        cents(990),
    )));
    f.put_order(FakeOrder::new("T-NEWSKU", FakeStatus::Paid, at(2)).line(FakeLine::new("n1", "NEW-1", 2, cents(3000))));
    f.put_order(paid("T-CLOSE", 3, 2970, at(3)));
    f.put_order(paid("T-KEEP", 2, 1980, at(4)));
    // A refund of an order the platform lists only later.
    f.put_refund(FakeRefund::new("R-EARLY", "T-LATE", cents(500), at(5)));
    f.put_refund(FakeRefund::new("R-FAILED", "T-KEEP", cents(100), at(6)).succeeded(false));
    f.put_refund(FakeRefund::new("R-KEEP", "T-KEEP", cents(490), at(7)).line("T-KEEP-1").returned(1));

    let run = shop.sync(&app).await;
    assert_eq!(
        (run["orders_created"].as_i64(), run["refunds"].as_i64(), run["parked"].as_i64()),
        (Some(2), Some(1), Some(2)),
        "{run}"
    );
    assert!(shop.order(&app, "T-UNPAID").await.is_none(), "unpaid: skipped");
    let feed = shop.feed(&app).await;
    let parked: Vec<(String, String)> = feed["parked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["external_id"].as_str().unwrap().to_owned(), p["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        parked,
        vec![
            ("T-NEWSKU".to_owned(), "unknown sku \"NEW-1\"".to_owned()),
            ("R-EARLY".to_owned(), "refund of order T-LATE which is not booked (yet)".to_owned())
        ]
    );
    // R-KEEP: 4.90 of T-KEEP's line, one unit back (not restocked); R-FAILED not booked.
    let keep = shop.order(&app, "T-KEEP").await.unwrap();
    assert_eq!(
        (keep["refunded"].as_str(), keep["lines"][0]["returned"].as_str()),
        (Some("4.90"), Some("1.000")),
        "{keep}"
    );
    assert_eq!(shop.stock(&app).await, "95.000");

    // The buyer pays, the sku is set up, the late order arrives, T-CLOSE is closed after payment,
    // and an older update of T-KEEP (a status going backwards) arrives late.
    let later = Utc::now() - TimeDelta::seconds(90);
    f.update_order("T-UNPAID", |o| {
        o.status = FakeStatus::Paid;
        o.modified = later;
        o.paid_at = Some(later);
    });
    stocked(&app, &t, "NEW-1", "10").await;
    f.put_order(paid("T-LATE", 1, 990, later));
    f.update_order("T-CLOSE", |o| {
        o.status = FakeStatus::ClosedAfterPayment;
        o.modified = later;
    });
    f.update_order("T-KEEP", |o| {
        o.status = FakeStatus::ClosedAfterPayment;
        o.modified = at(4) - TimeDelta::minutes(1);
    });
    // Read everything again from the start: replays change nothing.
    let mut body = feed_body(&f.base_url());
    body["app_key"] = json!("app-1");
    body["app_secret"] = json!("secret-of-the-shop");
    body["access_token"] = json!("token-of-the-shop");
    body["start_at"] = json!((start - TimeDelta::minutes(1)).to_rfc3339());
    let (s, v) = app.put(&format!("/api/v1/channels/{}/feed", shop.channel), &t.alliance_token, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let run = shop.sync(&app).await;
    assert_eq!(
        (
            run["orders_created"].as_i64(),
            run["orders_cancelled"].as_i64(),
            run["refunds"].as_i64(),
            run["parked"].as_i64()
        ),
        (Some(3), Some(1), Some(1), Some(0)),
        "{run}"
    );
    assert!(shop.feed(&app).await["parked"].as_array().unwrap().is_empty());
    let close = shop.order(&app, "T-CLOSE").await.unwrap();
    assert_eq!((close["status"].as_str(), close["refunded"].as_str()), (Some("cancelled"), Some("29.70")));
    let keep = shop.order(&app, "T-KEEP").await.unwrap();
    assert_eq!((keep["status"].as_str(), keep["refunded"].as_str()), (Some("placed"), Some("4.90")), "never backwards");
    let late = shop.order(&app, "T-LATE").await.unwrap();
    assert_eq!(late["refunded"], "5.00", "the parked refund booked once its order came");
    // Stock: 100 − 3 (T-CLOSE) − 2 (T-KEEP; its returned unit is not restocked) − 1 (paid
    // later) − 1 (T-LATE) + 3 (T-CLOSE cancelled, restocked) = 96.
    assert_eq!(shop.stock(&app).await, "96.000");
    let (_, b) = app.get("/api/v1/ledger/accounts/channel:taobao", &app.admin).await;
    // Sold: 19.80 + 9.90 + 9.90 + 30.00 (NEW-1) = 69.60; refunded 4.90 + 5.00.
    assert_eq!(b["balance"], "-59.70", "{b}");
    app.verify().await;
}

async fn a_run_cut_off_and_two_runs_at_once(app: TestApp) {
    let t = app.tenant(1).await;
    let product = stocked(&app, &t, "TAO-1", "100").await;
    let now = Utc::now();
    let start = now - TimeDelta::hours(2);
    let shop = shop(&app, &t, Kind::Taobao, start, product).await;
    for i in 0..40 {
        shop.fake.put_order(paid(&format!("T-{i:03}"), 1, 990, start + TimeDelta::minutes(3 * i + 1)));
    }
    // The platform goes away after a few calls: the run stops, what it committed stays, the
    // cursor stays at the last window committed whole.
    let fake = shop.fake;
    let sync_path = format!("/api/v1/channels/{}/feed:sync", shop.channel);
    let (s, run) = {
        let sync = app.post(&sync_path, &t.alliance_token, json!({}));
        let cut = async move {
            while fake.requests().len() < 3 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            fake.stop().await;
        };
        tokio::join!(sync, cut).0
    };
    assert_eq!(s, StatusCode::OK, "{run}");
    assert!(run["error"].is_string(), "{run}");
    let booked_first = run["orders_created"].as_i64().unwrap();
    assert!(booked_first < 40, "{run}");
    let feed = app.get(&format!("/api/v1/channels/{}/feed", shop.channel), &t.alliance_token).await.1;
    let cursor: DateTime<Utc> = feed["cursor"].as_str().unwrap().parse().unwrap();
    assert!(cursor < now - TimeDelta::minutes(30), "the cursor stays behind: {feed}");
    assert_eq!(feed["last_run"]["error"], run["error"]);
    assert!(
        !run["error"].as_str().unwrap().contains("secret-of-the-shop")
            && !run["error"].as_str().unwrap().contains("token-of-the-shop")
    );

    // The platform is back (at another address): the next run books the rest, nothing twice.
    let fake = FakePlatform::start(Kind::Taobao, credentials()).await;
    for i in 0..40 {
        fake.put_order(paid(&format!("T-{i:03}"), 1, 990, start + TimeDelta::minutes(3 * i + 1)));
    }
    app.rows(&format!("UPDATE feeds SET base_url = '{}' WHERE channel_id = {}", fake.base_url(), shop.channel)).await;
    // Two runs at once: one of them is told another runs. A throttled first call (the
    // platform asks for a second) keeps the first run going meanwhile.
    fake.throttle_next(1);
    let path = format!("/api/v1/channels/{}/feed:sync", shop.channel);
    let (a, b) = tokio::join!(app.post(&path, &t.alliance_token, json!({})), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post(&path, &t.alliance_token, json!({})).await
    });
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    assert_eq!(code(&b.1), "feed_busy");
    assert_eq!(fake.rejected(), 0);
    let done = a.1;
    assert!(done["error"].is_null(), "{done}");
    assert_eq!(done["orders_created"].as_i64().unwrap() + booked_first, 40, "{done}");
    let (_, list) = app.get(&format!("/api/v1/orders?station_id={}&limit=500", t.station), &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 40);
    assert_eq!(app.get(&format!("/api/v1/products/{product}"), &app.admin).await.1["stock"], "60.000");

    // An address written into the feed that outgoing calls may not reach is refused at the
    // call, before any connection.
    app.rows(&format!(
        "UPDATE feeds SET base_url = 'http://127.0.0.2:{}' WHERE channel_id = {}",
        fake.addr().port(),
        shop.channel
    ))
    .await;
    let (s, run) = app.post(&path, &t.alliance_token, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(run["error"].as_str().unwrap().contains("not a public address"), "{run}");
    app.verify().await;
}

/// The scheduler `hezuo serve` runs: an enabled feed is run when due, a disabled one never.
async fn the_scheduler_runs_enabled_feeds(app: TestApp) {
    let t = app.tenant(1).await;
    let product = stocked(&app, &t, "TAO-1", "10").await;
    let start = Utc::now() - TimeDelta::minutes(30);
    let shop = shop(&app, &t, Kind::Pdd, start, product).await;
    shop.fake.put_order(paid("P-1", 2, 1980, start + TimeDelta::minutes(5)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(hezuo_app::feeds::run_scheduler(app.app.clone(), async {
        let _ = stopped.await;
    }));
    // Disabled (as saved): the scheduler leaves it alone.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(shop.orders(&app).await, 0);
    assert!(shop.fake.requests().is_empty());

    let mut body = feed_body(&shop.fake.base_url());
    body["platform"] = json!("pdd");
    body["app_key"] = json!("app-1");
    body["app_secret"] = json!("secret-of-the-shop");
    body["access_token"] = json!("token-of-the-shop");
    body["start_at"] = json!(start.to_rfc3339());
    body["enabled"] = json!(true);
    let (s, v) = app.put(&format!("/api/v1/channels/{}/feed", shop.channel), &t.alliance_token, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut waited = 0;
    while shop.orders(&app).await == 0 && waited < 150 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(shop.orders(&app).await, 1, "booked by the scheduler");
    let mut feed = shop.feed(&app).await;
    while feed["last_run"]["finished_at"].is_null() && waited < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
        feed = shop.feed(&app).await;
    }
    let finished: DateTime<Utc> = feed["last_run"]["finished_at"].as_str().unwrap().parse().unwrap();
    let next: DateTime<Utc> = feed["next_run_at"].as_str().unwrap().parse().unwrap();
    assert_eq!((next - finished).num_seconds(), 300, "the next run at the feed's interval: {feed}");
    assert_eq!(feed["last_run"]["orders_created"], 1);
    assert_eq!(shop.fake.rejected(), 0);
    let _ = stop.send(());
    scheduler.await.unwrap();
    assert_eq!(shop.stock(&app).await, "8.000");
}

/// A run ends at its time budget however far behind the cursor is, keeps its cursor where the
/// last whole window ended, and asks for the next run at once; the next run carries on.
async fn a_run_ends_at_its_budget(app: TestApp) {
    let t = app.tenant(1).await;
    let product = stocked(&app, &t, "TAO-1", "10").await;
    let start = Utc::now() - TimeDelta::hours(1);
    let shop = shop(&app, &t, Kind::Taobao, start, product).await;
    shop.fake.put_order(paid("T-1", 1, 990, start + TimeDelta::minutes(50)));
    let before = shop.feed(&app).await["cursor"].clone();
    // The same database through an app whose runs have no time at all.
    let budget_app = hezuo_app::App::open({
        let mut c = hezuo_app::Config::with_database(app.database_url());
        c.secret_key = app.app.config.secret_key.clone();
        c.feed_allow_nets = app.app.config.feed_allow_nets.clone();
        c.postgres_warm_connections = 1;
        c.feed_run_budget = std::time::Duration::ZERO;
        c
    })
    .await
    .unwrap();
    let run = budget_app.sync_feed(&hezuo_app::Principal::Admin, shop.channel).await.unwrap();
    assert_eq!((run.caught_up, run.orders_created, run.error.is_none()), (false, 0, true), "{run:?}");
    let feed = shop.feed(&app).await;
    assert_eq!(feed["cursor"], before, "the cursor stays");
    assert_eq!(feed["next_run_at"], feed["last_run"]["finished_at"], "the next run at once: {feed}");
    budget_app.db.close().await.unwrap();

    let run = shop.sync(&app).await;
    assert_eq!((run["caught_up"].as_bool(), run["orders_created"].as_i64()), (Some(true), Some(1)), "{run}");
}

db_tests!(
    settings_secrets_and_scope,
    bad_settings_change_nothing,
    every_order_exactly_once_on_every_platform,
    states_parking_and_refunds,
    a_run_cut_off_and_two_runs_at_once,
    the_scheduler_runs_enabled_feeds,
    a_run_ends_at_its_budget,
);

#[tokio::test]
async fn no_key_no_secrets_sqlite() {
    if let Some(app) = TestApp::spawn_with(hezuo_tests::Db::Sqlite, |c| c.secret_key = None).await {
        no_key_no_secrets(app).await;
    }
}
