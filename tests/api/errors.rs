//! The error envelope for every kind of bad request: never axum's plain text, never a 500.

use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;

async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let mut req = app
        .http
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{}", app.base, path))
        .bearer_auth(&app.admin)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, value)
}

async fn bad_bodies_get_the_envelope(app: TestApp) {
    let json_ct = Some("application/json");
    let (s, v) = raw(&app, "POST", "/api/v1/villages", json_ct, b"{\"name\": ".to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "malformed_json"));
    let (s, v) =
        raw(&app, "POST", "/api/v1/villages", json_ct, b"{\"name\":\"a\",\"code\":\"320206103201\"} x".to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "malformed_json"));
    let (s, v) = raw(&app, "POST", "/api/v1/villages", json_ct, vec![0xff, 0xfe]).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "malformed_json"));

    let body = br#"{"name":"a","code":"320206103201"}"#.to_vec();
    let (s, v) = raw(&app, "POST", "/api/v1/villages", Some("text/plain"), body.clone()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let (s, v) = raw(&app, "POST", "/api/v1/villages", None, body.clone()).await;
    assert_eq!((s, code(&v)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));

    let (s, v) =
        app.post("/api/v1/villages", &app.admin, json!({"name": "a", "code": "320206103201", "mayor": "x"})).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", Some("mayor"))
    );
    let (s, v) = app.post("/api/v1/villages", &app.admin, json!({"name": "a"})).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", Some("code"))
    );
    let (s, v) = app.post("/api/v1/villages", &app.admin, json!({"name": 5, "code": "320206103201"})).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", Some("name"))
    );
    let (s, v) = app.post("/api/v1/villages", &app.admin, json!([1, 2])).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"));

    // Over the 1 MiB JSON limit.
    let big = format!(r#"{{"name":"{}","code":"320206103201"}}"#, "桃".repeat(400_000));
    let (s, v) = raw(&app, "POST", "/api/v1/villages", json_ct, big.into_bytes()).await;
    assert_eq!((s, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));

    // Nothing of the above was created.
    let (_, list) = app.get("/api/v1/villages", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

async fn bad_paths_and_queries_get_the_envelope(app: TestApp) {
    let (s, v) = app.get("/api/v1/nowhere", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = app.get("/api/v1/villages/abc", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = app.get("/api/v1/villages/99999999999999999999", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = app.get("/api/v1/villages/42", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = app.call("DELETE", "/api/v1/villages", Some(&app.admin), None).await;
    assert_eq!((s, code(&v)), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    let (s, v) = app.get("/api/v1/villages?limit=0", &app.admin).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("limit"))
    );
    let (s, v) = app.get("/api/v1/villages?limit=501", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
    let (s, v) = app.get("/api/v1/villages?cursor=zzz", &app.admin).await;
    assert_eq!(
        (s, code(&v), v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("cursor"))
    );
    let (s, v) = app.get("/api/v1/households?village_id=x", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"));
}

db_tests!(bad_bodies_get_the_envelope, bad_paths_and_queries_get_the_envelope);
