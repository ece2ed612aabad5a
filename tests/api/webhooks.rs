//! Outgoing webhooks through the HTTP API (PLATFORMS.md §5): endpoints and their scope, the
//! address checks of their URLs, deliveries written with the change they report (none for a
//! change that rolled back), signed per Standard Webhooks and checked by a receiver on
//! 127.0.0.1, retries with the same `webhook-id`, `dead`, 410, redelivery, and the metrics.

use crate::orders::{World, order_at, spec_world};
use hezuo_tests::receiver::Receiver;
use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// Runs the delivery worker of `app` until the guard is dropped.
struct Worker(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

fn worker(app: &hezuo_app::App) -> Worker {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hezuo_app::webhooks::run_worker(app.clone(), async move {
        let _ = stopped.await;
    }));
    Worker(Some(stop))
}

async fn alliance_token(app: &TestApp, w: &World) -> String {
    use hezuo_app::{Role, auth::ScopeIds};
    app.token(Role::Alliance, ScopeIds { alliance_id: Some(w.alliance), ..Default::default() }).await
}

/// Registers an endpoint for `events` at the receiver, which then verifies with its secret.
async fn endpoint(app: &TestApp, token: &str, rx: &Receiver, events: &[&str]) -> i64 {
    let (s, v) = app.post("/api/v1/webhooks", token, json!({"url": rx.url(), "events": events})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    rx.set_secret(v["secret"].as_str().unwrap());
    v["id"].as_i64().unwrap()
}

async fn place(app: &TestApp, w: &World, ext: &str, qty: &str) -> Value {
    let (s, o) = app
        .post("/api/v1/orders", &w.staff, order_at(w, "taobao", ext, qty, "20.00", "2026-11-28T10:00:00+08:00"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o
}

async fn deliveries(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/webhooks/{id}/deliveries?limit=500"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

/// Waits (up to 30 s) until the endpoint's deliveries satisfy `done`.
async fn settle(app: &TestApp, token: &str, id: i64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let d = deliveries(app, token, id).await;
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("deliveries never settled: {:#?}", deliveries(app, token, id).await);
}

fn statuses(d: &[Value]) -> Vec<(&str, &str, i64)> {
    d.iter()
        .map(|d| (d["event"].as_str().unwrap(), d["status"].as_str().unwrap(), d["attempts"].as_i64().unwrap()))
        .collect()
}

async fn metrics(app: &TestApp) -> String {
    let (s, v) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    v.as_str().unwrap_or_default().to_owned()
}

/// Waits (up to 10 s) until `/metrics` has every line of `lines` (an attempt is counted just
/// after its record commits).
async fn metrics_show(app: &TestApp, lines: &[&str]) {
    for _ in 0..100 {
        let text = metrics(app).await;
        if lines.iter().all(|l| text.lines().any(|t| t == *l)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{lines:?} not in {}", metrics(app).await);
}

async fn endpoints_scope_and_addresses(app: TestApp) {
    let t = app.tenant(1).await;
    let other = app.tenant(2).await;
    let rx = Receiver::start().await;
    let body = |url: &str| json!({"url": url, "events": ["order.created"]});

    let (s, v) = app.post("/api/v1/webhooks", &t.alliance_token, body(rx.url())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let secret = v["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44, "{secret}");
    assert_eq!(
        (v["webhook"]["alliance_id"].as_i64(), v["webhook"]["events"].clone(), v["webhook"]["enabled"].as_bool()),
        (Some(t.alliance), json!(["order.created"]), Some(true))
    );
    // Shown once: never again, and stored sealed.
    let (s, shown) = app.get(&format!("/api/v1/webhooks/{id}"), &t.alliance_token).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!shown.to_string().contains(&secret[6..]), "{shown}");
    let (_, list) = app.get("/api/v1/webhooks", &app.admin).await;
    assert!(!list.to_string().contains(&secret[6..]) && list["items"].as_array().unwrap().len() == 1, "{list}");
    let stored = app.rows("SELECT secret FROM webhook_endpoints").await;
    assert!(stored[0][0].starts_with("v1:") && !stored[0][0].contains(&secret[6..]), "{stored:?}");

    // Alliances their own, admins any (naming the alliance); nobody else.
    for token in [&t.staff_token, &t.village_token] {
        let (s, _) = app.post("/api/v1/webhooks", token, body(rx.url())).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    for path in [format!("/api/v1/webhooks/{id}"), format!("/api/v1/webhooks/{id}/deliveries")] {
        let (s, _) = app.get(&path, &other.alliance_token).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = app.patch(&format!("/api/v1/webhooks/{id}"), &other.alliance_token, json!({"enabled": false})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/api/v1/webhooks", &other.alliance_token).await;
    assert_eq!(list["items"], json!([]));
    let (s, v) = app.post("/api/v1/webhooks", &app.admin, body(rx.url())).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("alliance_id")), "{v}");
    let mut named = body(rx.url());
    named["alliance_id"] = json!(t.alliance);
    let (s, v) = app.post("/api/v1/webhooks", &other.alliance_token, named.clone()).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("alliance_id")), "{v}");
    let (s, v) = app.post("/api/v1/webhooks", &app.admin, named).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Bad events and URLs: refused, naming the field; nothing stored.
    let before = app.rows("SELECT CAST(count(*) AS TEXT) FROM webhook_endpoints").await;
    for (body, field, want) in [
        (json!({"url": rx.url(), "events": []}), "events", "invalid_field"),
        (json!({"url": rx.url(), "events": ["order.shipped"]}), "events[0]", "invalid_field"),
        (json!({"url": rx.url(), "events": ["order.created", "order.created"]}), "events[1]", "invalid_field"),
        (body("ftp://127.0.0.1/hooks"), "url", "invalid_field"),
        (body("https://user:pw@127.0.0.1/hooks"), "url", "invalid_field"),
        // Addresses a webhook may never reach: refused without connecting to them (the private
        // ranges are unit-tested in hezuo-platforms' address filter, without naming them here).
        (body("http://169.254.169.254/latest/meta-data"), "url", "address_not_allowed"),
        (body("http://100.64.0.1/hooks"), "url", "address_not_allowed"),
        (body("http://[::1]:9/hooks"), "url", "address_not_allowed"),
        (body("http://127.0.0.2:9/hooks"), "url", "address_not_allowed"),
        (body("http://no-such-host.invalid/hooks"), "url", "address_not_allowed"),
    ] {
        let (s, v) = app.post("/api/v1/webhooks", &t.alliance_token, body.clone()).await;
        assert_eq!(
            (s, code(&v), v["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, want, Some(field)),
            "{body}: {v}"
        );
        let (s, v) = app.patch(&format!("/api/v1/webhooks/{id}"), &t.alliance_token, json!({"url": body["url"]})).await;
        if field == "url" {
            assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, want), "{body}: {v}");
        }
    }
    assert_eq!(app.rows("SELECT CAST(count(*) AS TEXT) FROM webhook_endpoints").await, before);
    let (_, shown_after) = app.get(&format!("/api/v1/webhooks/{id}"), &t.alliance_token).await;
    assert_eq!(shown_after, shown, "nothing changed");

    // Unknown ids and a path that is not a redelivery.
    let (s, _) = app.get("/api/v1/webhooks/999999", &app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.post(&format!("/api/v1/webhooks/{id}/deliveries/1:resend"), &app.admin, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.post(&format!("/api/v1/webhooks/{id}/deliveries/999999:redeliver"), &app.admin, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn every_event_delivered_signed_once(app: TestApp) {
    let w = spec_world(&app).await;
    let alliance = alliance_token(&app, &w).await;
    let stranger = app.tenant(3).await;
    let rx = Receiver::start().await;
    let id = endpoint(
        &app,
        &alliance,
        &rx,
        &["order.created", "order.refunded", "order.cancelled", "period.closed", "statement.imported"],
    )
    .await;
    // Another alliance's endpoint hears nothing of this one's orders.
    let rx_other = Receiver::start().await;
    let other_id = endpoint(&app, &stranger.alliance_token, &rx_other, &["order.created"]).await;
    let _worker = worker(&app.app);

    let o = place(&app, &w, "TB-1", "2").await;
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].id, format!("msg_order_created_{}", o["id"]));
    assert!(got[0].verified, "{:?}", got[0]);
    assert_eq!((got[0].body["type"].as_str(), got[0].answered), (Some("order.created"), 200));
    // The data is the order exactly as the API shows it.
    let (_, shown) = app.get(&format!("/api/v1/orders/{}", o["id"]), &w.staff).await;
    assert_eq!(got[0].body["data"], shown);
    assert_eq!(got[0].body["data"]["lines"][0]["parts"][0]["household"], "26.60");

    // A replay is the same order: nothing new to tell.
    let (s, _) = app
        .post("/api/v1/orders", &w.staff, order_at(&w, "taobao", "TB-1", "2", "20.00", "2026-11-28T10:00:00+08:00"))
        .await;
    assert_eq!(s, StatusCode::OK);
    // An order refused (more than the stock) and an order that rolled back (the twin of a
    // concurrent identical request, which loses on the unique key or finds the stock taken)
    // send nothing.
    let (s, _) = app
        .post(
            "/api/v1/orders",
            &w.staff,
            order_at(&w, "taobao", "TB-big", "1000", "20.00", "2026-11-28T10:00:00+08:00"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let twin = order_at(&w, "taobao", "TB-twin", "1", "20.00", "2026-11-28T10:00:00+08:00");
    let sends: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, token, body) =
                (app.http.clone(), format!("{}/api/v1/orders", app.base), w.staff.clone(), twin.clone());
            tokio::spawn(async move { http.post(url).bearer_auth(token).json(&body).send().await.unwrap().status() })
        })
        .collect();
    let mut created = 0;
    for s in sends {
        created += usize::from(s.await.unwrap() == StatusCode::CREATED);
    }
    assert_eq!(created, 1);

    // A refund and a cancellation.
    let line = o["lines"][0]["id"].as_i64().unwrap();
    let (s, refund) = app
        .post(
            &format!("/api/v1/orders/{}/refunds", o["id"]),
            &w.staff,
            json!({"line_id": line, "amount": "5.00", "quantity": "0", "restock": false, "reason": "差价"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{refund}");
    let c = place(&app, &w, "TB-3", "1").await;
    let (s, cancelled) = app.post(&format!("/api/v1/orders/{}/cancel", c["id"]), &w.staff, json!({})).await;
    assert_eq!(s, StatusCode::OK);

    // November closes; a statement is imported.
    app.set_time(Some("2026-12-02T09:00:00+08:00"));
    let (s, close) =
        app.post(&format!("/api/v1/cooperatives/{}/periods/2026-11/close", w.coop), &app.admin, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{close}");
    app.set_time(None);
    let url = format!("{}/api/v1/reconciliation/statements?channel=taobao&format=generic", app.base);
    let res = app
        .http
        .post(url)
        .bearer_auth(&alliance)
        .header("content-type", "text/csv")
        .body("external_id,kind,amount,fee,settled_at\nTB-1,sale,40.00,2.00,2026-11-29 10:00:00\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let statement: Value = res.json().await.unwrap();

    let got = rx.wait_for(7).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_all = rx.received();
    assert_eq!(got_all.len(), got.len(), "nothing more arrives");
    let mut seen: Vec<(String, String)> =
        got.iter().map(|d| (d.body["type"].as_str().unwrap().to_owned(), d.id.clone())).collect();
    seen.sort();
    let twin_id = app.rows("SELECT CAST(id AS TEXT) FROM orders WHERE external_id = 'TB-twin'").await;
    let close_id = app.rows("SELECT CAST(id AS TEXT) FROM period_closes").await;
    let mut want = vec![
        ("order.created".to_owned(), format!("msg_order_created_{}", o["id"])),
        ("order.created".to_owned(), format!("msg_order_created_{}", twin_id[0][0])),
        ("order.created".to_owned(), format!("msg_order_created_{}", c["id"])),
        ("order.refunded".to_owned(), format!("msg_order_refunded_{}", refund["id"])),
        ("order.cancelled".to_owned(), format!("msg_order_cancelled_{}", c["id"])),
        ("period.closed".to_owned(), format!("msg_period_closed_{}", close_id[0][0])),
        ("statement.imported".to_owned(), format!("msg_statement_imported_{}", statement["id"])),
    ];
    want.sort();
    assert_eq!(seen, want);
    assert!(got.iter().all(|d| d.verified && d.answered == 200), "{got:#?}");
    let body_of = |t: &str| got.iter().find(|d| d.body["type"] == t).unwrap().body["data"].clone();
    assert_eq!(body_of("order.refunded"), refund);
    assert_eq!(body_of("order.cancelled"), cancelled);
    assert_eq!(body_of("period.closed"), close);
    assert_eq!(body_of("statement.imported"), statement);
    assert!(rx_other.received().is_empty());
    assert!(deliveries(&app, &stranger.alliance_token, other_id).await.is_empty());

    // The log: each delivered at the first attempt.
    let d = deliveries(&app, &alliance, id).await;
    assert_eq!(d.len(), 7);
    for d in &d {
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_i64(), d["last_status_code"].as_i64()),
            (Some("delivered"), Some(1), Some(200)),
            "{d}"
        );
        assert_eq!(
            (d["next_attempt_at"].clone(), d["attempt_log"][0]["status_code"].as_i64()),
            (Value::Null, Some(200))
        );
    }
    metrics_show(
        &app,
        &[
            "hezuo_webhook_deliveries_total{outcome=\"delivered\"} 7",
            "hezuo_webhook_delivery_duration_seconds_count{outcome=\"delivered\"} 7",
        ],
    )
    .await;
}

async fn retries_dead_gone_and_redelivery(app: TestApp) {
    let w = spec_world(&app).await;
    let alliance = alliance_token(&app, &w).await;
    let rx = Receiver::start().await;
    let id = endpoint(&app, &alliance, &rx, &["order.created"]).await;
    let _worker = worker(&app.app);

    // Failures are retried (schedule 1 s, 1 s in tests) with the same webhook-id.
    rx.answer(&[500, 502]);
    let o = place(&app, &w, "R-1", "1").await;
    let got = rx.wait_for(3).await;
    let msg = format!("msg_order_created_{}", o["id"]);
    assert!(got.iter().all(|d| d.id == msg && d.verified), "{got:#?}");
    assert_eq!(got.iter().map(|d| d.answered).collect::<Vec<_>>(), [500, 502, 200]);
    let d = settle(&app, &alliance, id, |d| d.first().is_some_and(|d| d["status"] == "delivered")).await;
    let codes: Vec<i64> =
        d[0]["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!((codes, d[0]["attempts"].as_i64()), (vec![500, 502, 200], Some(3)));

    // When the schedule runs out the delivery is dead: one attempt and two retries.
    rx.answer(&[500, 500, 500]);
    let o2 = place(&app, &w, "R-2", "1").await;
    let d = settle(&app, &alliance, id, |d| d.len() == 2 && d[1]["status"] == "dead").await;
    assert_eq!((d[1]["attempts"].as_i64(), d[1]["next_attempt_at"].clone()), (Some(3), Value::Null), "{}", d[1]);
    assert_eq!(rx.received().len(), 6);
    // Redelivered by hand: again, with the same id, and delivered.
    let delivery = d[1]["id"].as_i64().unwrap();
    let (s, v) =
        app.post(&format!("/api/v1/webhooks/{id}/deliveries/{delivery}:redeliver"), &alliance, json!({})).await;
    assert_eq!(
        (s, v["status"].as_str(), v["msg_id"].clone()),
        (StatusCode::ACCEPTED, Some("pending"), d[1]["msg_id"].clone()),
        "{v}"
    );
    let got = rx.wait_for(7).await;
    assert_eq!((got[6].id.clone(), got[6].answered), (format!("msg_order_created_{}", o2["id"]), 200));
    let d = settle(&app, &alliance, id, |d| d[1]["status"] == "delivered").await;
    assert_eq!(d[1]["attempts"].as_i64(), Some(4));

    // 410 Gone disables the endpoint at once; what it had still to receive is dead.
    rx.answer(&[410]);
    place(&app, &w, "R-3", "1").await;
    let d = settle(&app, &alliance, id, |d| d.len() == 3 && d[2]["status"] == "dead").await;
    assert_eq!(d[2]["last_status_code"].as_i64(), Some(410));
    let (_, e) = app.get(&format!("/api/v1/webhooks/{id}"), &alliance).await;
    assert_eq!(
        (e["enabled"].as_bool(), e["disabled_reason"].as_str()),
        (Some(false), Some("the endpoint answered 410 Gone"))
    );
    // A disabled endpoint gets no new deliveries, and none can be redelivered to it.
    place(&app, &w, "R-4", "1").await;
    assert_eq!(deliveries(&app, &alliance, id).await.len(), 3);
    let dead = d[2]["id"].as_i64().unwrap();
    let (s, v) = app.post(&format!("/api/v1/webhooks/{id}/deliveries/{dead}:redeliver"), &alliance, json!({})).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "endpoint_disabled"));
    // Enabled again, it hears of what follows, and the dead delivery can be sent.
    let (s, e) = app.patch(&format!("/api/v1/webhooks/{id}"), &alliance, json!({"enabled": true})).await;
    assert_eq!((s, e["enabled"].as_bool(), e["disabled_reason"].clone()), (StatusCode::OK, Some(true), Value::Null));
    let o5 = place(&app, &w, "R-5", "1").await;
    let (s, _) = app.post(&format!("/api/v1/webhooks/{id}/deliveries/{dead}:redeliver"), &alliance, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let d =
        settle(&app, &alliance, id, |d| d.len() == 4 && d.iter().filter(|d| d["status"] == "delivered").count() == 4)
            .await;
    assert_eq!(
        statuses(&d),
        [
            ("order.created", "delivered", 3),
            ("order.created", "delivered", 4),
            ("order.created", "delivered", 2),
            ("order.created", "delivered", 1)
        ]
    );
    assert_eq!(d[3]["msg_id"].as_str(), Some(format!("msg_order_created_{}", o5["id"]).as_str()));

    metrics_show(
        &app,
        &[
            "hezuo_webhook_deliveries_total{outcome=\"failed\"} 4",
            "hezuo_webhook_deliveries_total{outcome=\"dead\"} 1",
            "hezuo_webhook_deliveries_total{outcome=\"gone\"} 1",
            "hezuo_webhook_deliveries_total{outcome=\"delivered\"} 4",
        ],
    )
    .await;
}

/// Addresses are checked at every connection too: an endpoint saved while its address was
/// admitted is not reached once it is not (a name may resolve elsewhere later).
async fn refused_at_connection(app: TestApp) {
    let w = spec_world(&app).await;
    let alliance = alliance_token(&app, &w).await;
    let rx = Receiver::start().await;
    let id = endpoint(&app, &alliance, &rx, &["order.created"]).await;
    place(&app, &w, "S-1", "1").await;
    // A second process on the same database that admits no private address.
    let mut config = (*app.app.config).clone();
    config.webhook_allow_nets = hezuo_platforms::AllowList::default();
    let strict = hezuo_app::App::open(config).await.unwrap();
    let _worker = worker(&strict);
    let d = settle(&app, &alliance, id, |d| d.first().is_some_and(|d| d["attempts"].as_i64() >= Some(1))).await;
    assert_eq!((d[0]["status"].as_str(), d[0]["last_status_code"].clone()), (Some("failed"), Value::Null), "{}", d[0]);
    assert!(
        d[0]["attempt_log"][0]["error"].as_str().unwrap().contains("127.0.0.1 is not a public address"),
        "{}",
        d[0]
    );
    assert!(rx.received().is_empty());
    drop(_worker);
    strict.db.close().await.unwrap();
}

/// Several replicas deliver each message once per attempt: two workers on one database, each
/// with its own connections, claim under the lease and never send one delivery twice.
async fn two_workers_send_each_delivery_once(app: TestApp) {
    let w = spec_world(&app).await;
    let alliance = alliance_token(&app, &w).await;
    let (rx1, rx2) = (Receiver::start().await, Receiver::start().await);
    endpoint(&app, &alliance, &rx1, &["order.created"]).await;
    endpoint(&app, &alliance, &rx2, &["order.created"]).await;
    let second = hezuo_app::App::open((*app.app.config).clone()).await.unwrap();
    let (_a, _b) = (worker(&app.app), worker(&second));
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(format!("msg_order_created_{}", place(&app, &w, &format!("P-{i}"), "1").await["id"]));
    }
    for rx in [&rx1, &rx2] {
        rx.wait_for(30).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for rx in [&rx1, &rx2] {
        let mut got: Vec<String> = rx.received().into_iter().filter(|d| d.verified).map(|d| d.id).collect();
        got.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(got, want, "each order once at each endpoint");
    }
    let attempts = app.rows("SELECT CAST(count(*) AS TEXT) FROM webhook_attempts").await;
    assert_eq!(attempts, [["60"]]);
    drop((_a, _b));
    second.db.close().await.unwrap();
}

/// An endpoint whose every delivery has failed for the configured time (5 days; here 2 s) is
/// disabled, and what it still had to receive is dead.
async fn failing_for_long_disables(app: TestApp) {
    let w = spec_world(&app).await;
    let alliance = alliance_token(&app, &w).await;
    let rx = Receiver::start().await;
    let id = endpoint(&app, &alliance, &rx, &["order.created"]).await;
    rx.answer(&[500; 20]);
    let _worker = worker(&app.app);
    place(&app, &w, "F-1", "1").await;
    let d = settle(&app, &alliance, id, |d| d.first().is_some_and(|d| d["status"] == "dead")).await;
    let (_, e) = app.get(&format!("/api/v1/webhooks/{id}"), &alliance).await;
    assert_eq!(
        (e["enabled"].as_bool(), e["disabled_reason"].as_str()),
        (Some(false), Some("every delivery failed for the configured time")),
        "{e} {}",
        d[0]
    );
    assert!(d[0]["attempts"].as_i64().unwrap() >= 2, "{}", d[0]);
    assert!(rx.received().iter().all(|r| r.answered == 500));
}

fn failing_config(c: &mut hezuo_app::Config) {
    c.webhook_retry_schedule = "1,1,1,1,1,1,1,1".parse().unwrap();
    c.webhook_disable_after = Duration::from_secs(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_for_long_disables_sqlite() {
    failing_for_long_disables(TestApp::spawn_with(hezuo_tests::Db::Sqlite, failing_config).await.expect("sqlite"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn failing_for_long_disables_postgres() {
    let app = TestApp::spawn_with(hezuo_tests::Db::Postgres, failing_config).await.expect("HEZUO_TEST_DATABASE_URL");
    failing_for_long_disables(app).await;
}

db_tests!(
    two_workers_send_each_delivery_once,
    endpoints_scope_and_addresses,
    every_event_delivered_signed_once,
    retries_dead_gone_and_redelivery,
    refused_at_connection,
);
