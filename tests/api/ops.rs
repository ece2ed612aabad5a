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
    assert!(text.contains("hezuo_http_request_duration_seconds_bucket"), "{text}");

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

db_tests!(health_ready_metrics_docs, shutdown_finishes_what_is_under_way);

#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("openapi", hezuo_server::openapi_document());
}
