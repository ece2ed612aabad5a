use hezuo_app::Role;
use hezuo_app::auth::ScopeIds;
use hezuo_tests::{TestApp, code, db_tests, json};
use reqwest::StatusCode;

async fn login_and_tokens(app: TestApp) {
    let t = app.tenant(1).await;
    let (s, _) = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": "wang.staff", "password": "peach-2026!", "role": "staff", "station_id": t.station}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let (s, v) = app
        .call("POST", "/api/v1/auth/login", None, Some(&json!({"username": "wang.staff", "password": "peach-2026!"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["role"], "staff");
    let token = v["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 3 + 64, "at least 256 bits of randomness: {token}");
    let expires = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    let hours = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((11 * 60..=12 * 60).contains(&hours), "expires in about 12 h, got {hours} min");

    // The token works and is scoped to the station.
    let (s, v) = app.get(&format!("/api/v1/stations/{}", t.station), &token).await;
    assert_eq!((s, v["id"].as_i64()), (StatusCode::OK, Some(t.station)));

    // Only a hash is stored.
    use hezuo_db::entities::token as tok;
    use hezuo_db::sea_orm::EntityTrait;
    let rows = tok::Entity::find().all(&app.app.db).await.unwrap();
    assert!(rows.iter().all(|r| r.token_hash != token && r.token_hash.len() == 64));

    for (user, pass) in [("wang.staff", "wrong-password"), ("nobody", "peach-2026!")] {
        let (s, v) =
            app.call("POST", "/api/v1/auth/login", None, Some(&json!({"username": user, "password": pass}))).await;
        assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }

    // Missing, malformed and unknown tokens.
    let (s, v) = app.call("GET", "/api/v1/villages", None, None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, _) = app.get("/api/v1/villages", "hz_0000").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let res = app
        .http
        .get(format!("{}/api/v1/villages", app.base))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");

    // A bad token is a 401 even when the body is bad too.
    let (s, _) = app.call("POST", "/api/v1/villages", Some("nope"), Some(&json!({"x": 1}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Expired tokens stop working.
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let expired = app.app.create_token(Role::Admin, ScopeIds::default(), "old", Some(past)).await.unwrap().token;
    let (s, _) = app.get("/api/v1/villages", &expired).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Disabling the user revokes its tokens at once and blocks log-in.
    let (_, users) = app.get("/api/v1/users", &app.admin).await;
    let uid = users["items"][0]["id"].as_i64().unwrap();
    let (s, v) = app.patch(&format!("/api/v1/users/{uid}"), &app.admin, json!({"disabled": true})).await;
    assert_eq!((s, v["disabled"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, _) = app.get(&format!("/api/v1/stations/{}", t.station), &token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .call("POST", "/api/v1/auth/login", None, Some(&json!({"username": "wang.staff", "password": "peach-2026!"})))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn user_validation(app: TestApp) {
    let t = app.tenant(1).await;
    let cases = [
        (json!({"username": "ab", "password": "long-enough", "role": "admin"}), "username"),
        (json!({"username": "有中文", "password": "long-enough", "role": "admin"}), "username"),
        (json!({"username": "abc", "password": "short", "role": "admin"}), "password"),
        (json!({"username": "abc", "password": "long-enough", "role": "staff"}), "station_id"),
        (json!({"username": "abc", "password": "long-enough", "role": "staff", "station_id": 999}), "station_id"),
        (json!({"username": "abc", "password": "long-enough", "role": "admin", "village_id": t.village}), "village_id"),
        (
            json!({"username": "abc", "password": "long-enough", "role": "village", "village_id": t.village, "station_id": t.station}),
            "station_id",
        ),
    ];
    for (body, field) in cases {
        let (s, v) = app.post("/api/v1/users", &app.admin, body.clone()).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
    }
    let (s, v) = app
        .post("/api/v1/users", &app.admin, json!({"username": "abc", "password": "long-enough", "role": "king"}))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("role")));
    let ok = json!({"username": "abc", "password": "long-enough", "role": "village", "village_id": t.village});
    assert_eq!(app.post("/api/v1/users", &app.admin, ok.clone()).await.0, StatusCode::CREATED);
    let (s, v) = app.post("/api/v1/users", &app.admin, ok).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "already_exists"));
    let (_, list) = app.get("/api/v1/users", &app.admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("password_hash").is_none());
}

db_tests!(login_and_tokens, user_validation);
