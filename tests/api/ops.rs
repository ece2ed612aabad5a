use hezuo_tests::{TestApp, db_tests};
use reqwest::StatusCode;

async fn health_ready_metrics_docs(app: TestApp) {
    let (s, v) = app.call("GET", "/healthz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = app.call("GET", "/readyz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ready")));

    // A request so that the route shows up with its count.
    let (s, _) = app.get("/api/v1/villages", &app.admin).await;
    assert_eq!(s, StatusCode::OK);
    let res = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"hezuo_http_requests_total{method="GET",route="/api/v1/villages",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_server_request_duration_seconds_bucket{le="0.005",http_request_method="GET",http_route="/api/v1/villages",http_response_status_code="200"}"#),
        "{text}"
    );

    let res = app.http.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    for path in ["/api/v1/villages", "/api/v1/auth/login", "/api/v1/cooperatives/{id}/rules", "/api/v1/users/{id}"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }

    // The interactive docs and their assets come from the binary itself.
    let res = app.http.get(format!("{}/docs/", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let res = app.http.get(format!("{}/docs/swagger-ui-bundle.js", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().len() > 100_000);

    // Every response carries a request id.
    let res = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert!(res.headers().get("x-request-id").is_some_and(|v| v.len() >= 32));
}

/// A shutdown: `/readyz` answers 503 at once, new connections are refused, a request under
/// way (here an order whose body is still arriving) is finished and answered, and the server
/// ends within its grace period even when a client never finishes its request.
async fn shutdown_finishes_what_is_under_way(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = crate::orders::spec_world(&app).await;
    let mut config = (*app.app.config).clone();
    config.shutdown_grace = std::time::Duration::from_secs(2);
    let served = hezuo_app::App::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hezuo_server::serve(listener, served.clone(), async move {
        let _ = stopped.await;
    }));

    let body = hezuo_tests::json!({"station_id": w.station, "channel": "own", "external_id": "SHUT-1",
        "placed_at": "2026-11-28T10:00:00+08:00", "lines": [{"product_id": w.peach, "quantity": "2", "unit_price": "20.00"}]})
    .to_string();
    let head = format!(
        "POST /api/v1/orders HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        w.staff,
        body.len()
    );
    let mut order = tokio::net::TcpStream::connect(addr).await.unwrap();
    order.write_all(head.as_bytes()).await.unwrap();
    order.write_all(&body.as_bytes()[..10]).await.unwrap();
    // A client that never finishes its request.
    let mut stuck = tokio::net::TcpStream::connect(addr).await.unwrap();
    stuck.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(served.stopping());
    // The same process seen through another listener: not ready any more.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let probe_url = format!("http://{}/readyz", probe.local_addr().unwrap());
    tokio::spawn(hezuo_server::serve(probe, served.clone(), std::future::pending()));
    let res = app.http.get(probe_url).send().await.unwrap();
    let status = res.status();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (status, v["error"]["message"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("shutting down")),
        "{v}"
    );
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "new connections are refused");

    order.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = Vec::new();
    order.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let stored = app.rows("SELECT CAST(gross AS TEXT) FROM orders WHERE external_id = 'SHUT-1'").await;
    assert_eq!(stored, [["4000"]], "booked once, 40.00");

    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("ended within the grace")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "{:?}", started.elapsed());
    drop(stuck);
    served.db.close().await.unwrap();
}

/// Another server over the same database with `tweak`ed settings; its base URL.
async fn serve_with(app: &TestApp, tweak: impl FnOnce(&mut hezuo_app::Config)) -> String {
    let mut config = (*app.app.config).clone();
    tweak(&mut config);
    let served = hezuo_app::App::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hezuo_server::serve(listener, served, std::future::pending()));
    base
}

/// A GET of the villages with `token` and an optional `X-Forwarded-For`: the status, the
/// Retry-After header and the error code.
async fn villages(
    app: &TestApp,
    base: &str,
    token: &str,
    forwarded: Option<&str>,
) -> (StatusCode, Option<u64>, String) {
    let mut req = app.http.get(format!("{base}/api/v1/villages")).bearer_auth(token);
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let v: serde_json::Value = res.json().await.unwrap();
    (status, retry, v["error"]["code"].as_str().unwrap_or("").to_owned())
}

/// Per token: 3 a minute; the fourth is 429 `rate_limited` with Retry-After (20 s: one
/// request every 20 s refills), another token is not held up, probes never are. Per address:
/// 3 a minute whatever the token. Behind a trusted proxy the client is X-Forwarded-For's
/// address; from an untrusted peer the header is ignored.
async fn rate_limits(app: &TestApp) {
    let other = app.token(hezuo_app::Role::Admin, Default::default()).await;
    let base = serve_with(app, |c| (c.rate_limit_token, c.rate_limit_address) = (3, 0)).await;
    for _ in 0..3 {
        assert_eq!(villages(app, &base, &app.admin, None).await.0, StatusCode::OK);
    }
    let (s, retry, code) = villages(app, &base, &app.admin, None).await;
    assert_eq!((s, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert!(retry.is_some_and(|r| (1..=20).contains(&r)), "{retry:?}");
    assert_eq!(villages(app, &base, &other, None).await.0, StatusCode::OK);
    let res = app.http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let base = serve_with(app, |c| (c.rate_limit_token, c.rate_limit_address) = (0, 3)).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(app.token(hezuo_app::Role::Admin, Default::default()).await);
    }
    for t in &tokens[..3] {
        assert_eq!(villages(app, &base, t, Some("203.0.113.7")).await.0, StatusCode::OK);
    }
    let (s, retry, code) = villages(app, &base, &tokens[3], Some("203.0.113.8")).await;
    assert_eq!((s, code.as_str(), retry.is_some()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited", true));

    let base = serve_with(app, |c| {
        (c.rate_limit_token, c.rate_limit_address) = (0, 2);
        c.trusted_proxies = "127.0.0.1/32".parse().unwrap();
    })
    .await;
    for _ in 0..2 {
        assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.7")).await.0, StatusCode::OK);
    }
    assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.7")).await.0, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy, and one behind two proxies.
    assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.8")).await.0, StatusCode::OK);
    assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.9, 127.0.0.1")).await.0, StatusCode::OK);
    assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.9")).await.0, StatusCode::OK);
    assert_eq!(villages(app, &base, &app.admin, Some("203.0.113.9")).await.0, StatusCode::TOO_MANY_REQUESTS);
}

async fn metrics_text(app: &TestApp) -> String {
    app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap()
}

/// Waits until `/metrics` has every line of `want` (counters move after the commit).
async fn metrics_show(app: &TestApp, want: &[&str]) -> String {
    for _ in 0..100 {
        let text = metrics_text(app).await;
        if want.iter().all(|w| text.lines().any(|l| l == *w)) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = metrics_text(app).await;
    panic!("{want:?} not all in\n{text}");
}

/// Business metrics: an order booked, its replay (not counted), two refused for their reasons,
/// a refund and a cancellation; the ledger's imbalance is 0; the order writer's batches on
/// SQLite; `promtool check metrics` accepts the page.
async fn business_metrics(app: TestApp) {
    let w = crate::orders::spec_world(&app).await;
    let order = |ext: &str, qty: &str| {
        hezuo_tests::json!({"station_id": w.station, "channel": "own", "external_id": ext,
            "placed_at": "2026-11-28T10:00:00+08:00", "lines": [{"product_id": w.peach, "quantity": qty, "unit_price": "20.00"}]})
    };
    let (s, placed) = app.post("/api/v1/orders", &w.staff, order("M-1", "2")).await;
    assert_eq!(s, StatusCode::CREATED, "{placed}");
    assert_eq!(app.post("/api/v1/orders", &w.staff, order("M-1", "2")).await.0, StatusCode::OK);
    assert_eq!(app.post("/api/v1/orders", &w.staff, order("M-2", "100000")).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, second) = app.post("/api/v1/orders", &w.staff, order("M-3", "1")).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    let mut unknown = order("M-4", "1");
    unknown["station_id"] = 999_999.into();
    assert_eq!(app.post("/api/v1/orders", &w.staff, unknown).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let id = placed["id"].as_i64().unwrap();
    let refund = hezuo_tests::json!({"line_id": placed["lines"][0]["id"], "amount": "10.00", "quantity": "0", "restock": false, "reason": "破损"});
    assert_eq!(app.post(&format!("/api/v1/orders/{id}/refunds"), &w.staff, refund).await.0, StatusCode::CREATED);
    let second = second["id"].as_i64().unwrap();
    let (s, v) = app.post(&format!("/api/v1/orders/{second}/cancel"), &w.staff, hezuo_tests::json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let text = metrics_show(
        &app,
        &[
            "hezuo_orders_placed_total 2",
            r#"hezuo_orders_refused_total{reason="insufficient_stock"} 1"#,
            r#"hezuo_orders_refused_total{reason="unknown_reference"} 1"#,
            r#"hezuo_refunds_total{kind="refund"} 1"#,
            r#"hezuo_refunds_total{kind="cancel"} 1"#,
            "hezuo_period_closes_total 0",
            "hezuo_statements_imported_total 0",
            "hezuo_ledger_imbalance_cents 0",
        ],
    )
    .await;
    let batches = text.lines().find(|l| l.starts_with("hezuo_order_writer_batch_size_count")).unwrap();
    // SQLite books through the order writer (2 booked, 1 refused there); PostgreSQL has none.
    let expected = if app.db == hezuo_tests::Db::Sqlite {
        "hezuo_order_writer_batch_size_count 3"
    } else {
        "hezuo_order_writer_batch_size_count 0"
    };
    assert_eq!(batches, expected, "{text}");
    assert!(text.contains("# TYPE http_server_request_duration_seconds histogram"), "{text}");
    promtool_accepts(&text);
    rate_limits(&app).await;
}

/// `promtool check metrics` (Debian's `prometheus`) on the page: no lint problem. Skipped when
/// promtool is missing, unless `HEZUO_REQUIRE_PROMTOOL` is set (CI).
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(std::env::var_os("HEZUO_REQUIRE_PROMTOOL").is_none(), "promtool: {e}");
            eprintln!("promtool missing: metrics lint skipped");
            return;
        }
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics:\n{said}");
}

db_tests!(health_ready_metrics_docs, shutdown_finishes_what_is_under_way, business_metrics);

#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("openapi", hezuo_server::openapi_document());
}
