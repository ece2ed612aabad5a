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

db_tests!(health_ready_metrics_docs);

#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("openapi", hezuo_server::openapi_document());
}
