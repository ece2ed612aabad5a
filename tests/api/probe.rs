//! What an outside probe found (one tenant's bulk work failing another's writes, guessable
//! passwords, inputs that must be refused, exports, timeouts), each through the HTTP API.

use hezuo_tests::{Db, Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

async fn upload(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A listed product of the tenant's station.
async fn product(app: &TestApp, t: &Tenant, name: &str) -> i64 {
    let (s, v) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": name, "unit": "kg", "price": "10.00", "status": "listed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// A lots file of `n` rows of 1 kg of `name` from the tenant's first household.
fn lots_file(t: &Tenant, name: &str, n: usize) -> Vec<u8> {
    let mut f = String::from("product_name,household_id,quantity,floor_price,received_at\n");
    for i in 0..n {
        f.push_str(&format!("{name},{},1,5.00,2026-06-01 08:{:02}:{:02}\n", t.households[0], (i / 60) % 60, i % 60));
    }
    f.into_bytes()
}

async fn import_lots(app: &TestApp, t: &Tenant, n: usize) -> (StatusCode, Value) {
    upload(app, &format!("/api/v1/stations/{}/lots:import", t.station), &t.staff_token, lots_file(t, "水蜜桃", n)).await
}

async fn stock(app: &TestApp, t: &Tenant, product: i64) -> String {
    let (s, v) = app.get(&format!("/api/v1/products/{product}"), &t.staff_token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["stock"].as_str().unwrap().to_owned()
}

/// While one tenant imports 20,000 lots and a 100,000-row statement, another tenant's writes
/// all succeed (they wait their turn; none meets a locked database).
async fn bulk_work_never_fails_another_tenants_writes(app: TestApp) {
    let (a, b) = (app.tenant(1).await, app.tenant(2).await);
    let peach = product(&app, &a, "水蜜桃").await;
    let lots = lots_file(&a, "水蜜桃", 20_000);
    let mut statement = String::from("external_id,kind,amount,fee,settled_at\n");
    for i in 0..100_000 {
        statement.push_str(&format!("TB-{i:07},sale,10.00,0.50,2026-03-10 09:00:00\n"));
    }
    let app = std::sync::Arc::new(app);
    let bulk = {
        let (app, a) = (app.clone(), a.clone());
        tokio::spawn(async move {
            let lots_path = format!("/api/v1/stations/{}/lots:import", a.station);
            let st_path = "/api/v1/reconciliation/statements?channel=taobao&format=generic";
            let (l, s) = tokio::join!(
                upload(&app, &lots_path, &a.staff_token, lots),
                upload(&app, st_path, &a.alliance_token, statement.into_bytes())
            );
            (l, s)
        })
    };
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    while !bulk.is_finished() || n < 5 {
        let started = Instant::now();
        let (s, v) = app
            .post(
                &format!("/api/v1/stations/{}/products", b.station),
                &b.staff_token,
                json!({"name": format!("白凤桃{n}"), "unit": "kg", "price": "8.00"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "another tenant's write during bulk work: {v}");
        slowest = slowest.max(started.elapsed());
        n += 1;
    }
    let ((ls, lv), (ss, sv)) = bulk.await.unwrap();
    assert_eq!(ls, StatusCode::CREATED, "{lv}");
    assert_eq!(lv["imported"], 20_000, "{lv}");
    assert_eq!(ss, StatusCode::CREATED, "{sv}");
    assert_eq!(sv["rows"], 100_000);
    assert_eq!(sv["summary"]["missing_in_books"]["count"], 100_000);
    assert_eq!(stock(&app, &a, peach).await, "20000.000");
    eprintln!("{:?}: {n} writes of another tenant during bulk work, the slowest {slowest:?}", app.db);
}

/// An order line may draw on at most 1,000 lots: beyond, 422 naming the line, nothing changed;
/// a shortfall beyond the lots read is still reported with the exact stock.
async fn an_order_line_draws_on_at_most_1000_lots(app: TestApp) {
    let a = app.tenant(1).await;
    let peach = product(&app, &a, "水蜜桃").await;
    let (s, v) = import_lots(&app, &a, 1_500).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let order = |ext: &str, qty: &str| {
        json!({"station_id": a.station, "channel": "own", "external_id": ext, "placed_at": "2026-06-02T10:00:00+08:00",
               "lines": [{"product_id": peach, "quantity": "0.5", "unit_price": "10.00"},
                         {"product_id": peach, "quantity": qty, "unit_price": "10.00"}]})
    };
    let (s, v) = app.post("/api/v1/orders", &a.staff_token, order("O-1", "1000.5")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "too_many_lots"), "{v}");
    assert_eq!(v["error"]["field"], "lines[1].quantity");
    let (s, v) = app.post("/api/v1/orders", &a.staff_token, order("O-2", "1499.6")).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("1499.500 available"), "{v}");
    assert_eq!(stock(&app, &a, peach).await, "1500.000");
    let (s, v) = app.post("/api/v1/orders", &a.staff_token, order("O-3", "999.5")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["lines"][1]["parts"].as_array().unwrap().len(), 1_000);
    assert_eq!(v["gross"], "10000.00");
    assert_eq!(stock(&app, &a, peach).await, "500.000");
}

/// An import of more than 20,000 rows is refused whole.
async fn imports_take_at_most_20000_rows(app: TestApp) {
    let a = app.tenant(1).await;
    let peach = product(&app, &a, "水蜜桃").await;
    let (s, v) = import_lots(&app, &a, 20_001).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "import_rejected"), "{v}");
    assert_eq!(v["error"]["rows"][0]["line"], 20_002, "{v}");
    assert_eq!(stock(&app, &a, peach).await, "0.000");
}

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

/// Ten failed logins for one username in 15 minutes: every login for it is refused with 429
/// and Retry-After, the right password too, also by another process on the same database;
/// other usernames are not affected; unknown usernames are limited alike.
async fn password_guessing_is_limited_per_username(app: TestApp) {
    let t = app.tenant(1).await;
    for name in ["zhang", "li.na"] {
        let (s, v) = app
            .post(
                "/api/v1/users",
                &app.admin.clone(),
                json!({"username": name, "password": "correct-horse-1", "role": "staff", "station_id": t.station}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    for _ in 0..10 {
        assert_eq!(login(&app, "zhang", "wrong-password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login(&app, "zhang", "correct-horse-1").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = retry_after(&res);
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    let v: Value = res.json().await.unwrap();
    assert_eq!(code(&v), "too_many_attempts", "{v}");
    // Refused attempts do not extend the window; the username's case does not matter.
    assert_eq!(login(&app, "Zhang", "wrong-password").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let again = retry_after(&login(&app, "zhang", "correct-horse-1").await);
    assert!(again <= retry, "Retry-After grew from {retry} to {again}");
    // Another process on the same database sees the same count.
    let other = hezuo_app::App::open(hezuo_app::Config::with_database(app.database_url())).await.unwrap();
    let req = |u: &str| hezuo_app::auth::LoginRequest { username: u.into(), password: "correct-horse-1".into() };
    assert!(matches!(other.login(req("zhang")).await, Err(hezuo_app::AppError::TooManyAttempts { .. })));
    assert!(other.login(req("li.na")).await.is_ok());
    other.db.close().await.ok();
    assert_eq!(login(&app, "li.na", "correct-horse-1").await.status(), StatusCode::OK);
    // A successful login forgets the failures before it.
    for _ in 0..2 {
        for _ in 0..9 {
            assert_eq!(login(&app, "li.na", "nope").await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(login(&app, "li.na", "correct-horse-1").await.status(), StatusCode::OK);
    }
    for _ in 0..10 {
        assert_eq!(login(&app, "nobody", "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&app, "nobody", "guess").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A burst of concurrent wrong logins gets no more than ten tries.
async fn a_burst_of_guesses_gets_ten_tries(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let tries: Vec<_> = (0..30)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { login(&app, "wang", "guess").await.status() })
        })
        .collect();
    let mut unauthorized = 0;
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(unauthorized <= 10, "{unauthorized} guesses were tried");
}

db_tests!(
    bulk_work_never_fails_another_tenants_writes,
    an_order_line_draws_on_at_most_1000_lots,
    imports_take_at_most_20000_rows,
    password_guessing_is_limited_per_username,
    a_burst_of_guesses_gets_ten_tries,
    out_of_scope_ledger_accounts_are_not_found,
    inputs_that_must_be_refused,
    unreadable_statements_are_refused,
    a_forbidden_upload_is_refused_before_its_body_is_read,
    a_products_export_of_33000_products,
    csv_exports_are_safe_for_spreadsheets,
);

/// SQLite: a write that finds the writer turn taken waits for it, however long, and succeeds
/// (before, it met SQLite's busy timeout after 10 s and answered 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_wait_their_turn_past_the_busy_timeout() {
    let app = TestApp::spawn(Db::Sqlite).await.expect("sqlite app");
    let t = app.tenant(1).await;
    let turn = app.app.write_turn().await;
    // Another connection holds SQLite's write lock as a long bulk import would.
    let hold = {
        use hezuo_db::sea_orm::{ConnectionTrait, TransactionTrait};
        let txn = app.app.db.begin().await.unwrap();
        txn.execute_unprepared("UPDATE villages SET name = name WHERE id = 0").await.unwrap();
        txn
    };
    let write = {
        let (http, base, token, station) = (app.http.clone(), app.base.clone(), t.staff_token.clone(), t.station);
        tokio::spawn(async move {
            http.post(format!("{base}/api/v1/stations/{station}/products"))
                .bearer_auth(token)
                .json(&json!({"name": "白凤桃", "unit": "kg", "price": "8.00"}))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(!write.is_finished(), "the write did not wait for its turn");
    hold.commit().await.unwrap();
    drop(turn);
    assert_eq!(write.await.unwrap(), StatusCode::CREATED);
}

/// A statement matched in chunks of two external ids has exactly the items of one matched at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_matched_in_small_chunks_sqlite() {
    let app = TestApp::spawn_with(Db::Sqlite, |c| c.statement_chunk = 2).await.expect("sqlite app");
    crate::reconciliation::every_status_from_a_crafted_statement(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn statements_matched_in_small_chunks_postgres() {
    let app = TestApp::spawn_with(Db::Postgres, |c| c.statement_chunk = 2).await.expect("HEZUO_TEST_DATABASE_URL");
    crate::reconciliation::every_status_from_a_crafted_statement(app).await;
}

/// Reads from a raw connection until the server closes it (or a generous deadline passes, so
/// that a server that never closes fails the test instead of hanging it).
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept the connection open; it sent {:?}", String::from_utf8_lossy(&got));
    got
}

/// Clients that open connections and never finish their headers are cut off, and while they
/// hold every connection slot, a real request waits and is then served.
async fn slow_clients_do_not_hold_the_server(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..30 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        idle.push(s);
    }
    let (s, v) = app.get("/api/v1/villages", &app.admin.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for s in &mut idle {
        let got = closed_by_server(s).await;
        assert!(!String::from_utf8_lossy(&got).contains("200 OK"), "an unfinished request was answered");
    }
    // A keep-alive connection that stays idle after its response is closed too.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let got = closed_by_server(&mut s).await;
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
}

/// A request slower than the time limit (here its body trickles in) is answered 503
/// `request_timeout` in the error envelope.
async fn a_request_over_the_time_limit_answers_in_the_error_shape(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    let t = app.tenant(1).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/stations/{}/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name\"",
        t.station, t.staff_token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let got = String::from_utf8_lossy(&closed_by_server(&mut s).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(got.contains("\"code\":\"request_timeout\""), "{got}");
    let (s, v) = app.get(&format!("/api/v1/stations/{}/products", t.station), &t.staff_token).await;
    assert_eq!((s, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");
}

/// An alliance asking for the ledger account of another tenant's household, village, station,
/// cooperative or channel gets 404, not an empty account.
async fn out_of_scope_ledger_accounts_are_not_found(app: TestApp) {
    let (a, b) = (app.tenant(1).await, app.tenant(2).await);
    for account in [
        format!("household:{}", b.households[0]),
        format!("village:{}", b.village),
        format!("station:{}", b.station),
        format!("coop:{}:pool", b.cooperative),
        "channel:jd".to_owned(),
        "fees:channel:jd".to_owned(),
        "household:999999".to_owned(),
    ] {
        let (s, v) = app.get(&format!("/api/v1/ledger/accounts/{account}"), &a.alliance_token).await;
        assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "{account}: {v}");
    }
    for account in [
        format!("household:{}", a.households[0]),
        format!("village:{}", a.village),
        format!("station:{}", a.station),
        format!("coop:{}:reserve", a.cooperative),
        "channel:taobao".to_owned(),
        "fees:channel:own".to_owned(),
    ] {
        let (s, v) = app.get(&format!("/api/v1/ledger/accounts/{account}"), &a.alliance_token).await;
        assert_eq!((s, v["balance"].as_str()), (StatusCode::OK, Some("0.00")), "{account}: {v}");
    }
}

/// Both databases, with the limits of these tests: few connection slots, a short time limit.
macro_rules! limited_tests {
    ($($name:ident),*) => {
        mod limited {
            $(
                mod $name {
                    use hezuo_tests::{Db, TestApp};
                    fn tweak(c: &mut hezuo_app::Config) {
                        c.max_connections = 20;
                        c.request_timeout = std::time::Duration::from_secs(2);
                    }
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn sqlite() {
                        super::super::$name(TestApp::spawn_with(Db::Sqlite, tweak).await.expect("sqlite app")).await;
                    }
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    #[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
                    async fn postgres() {
                        let app = TestApp::spawn_with(Db::Postgres, tweak).await.expect("HEZUO_TEST_DATABASE_URL");
                        super::super::$name(app).await;
                    }
                }
            )*
        }
    };
}

limited_tests!(slow_clients_do_not_hold_the_server, a_request_over_the_time_limit_answers_in_the_error_shape);

/// What serde would take but the API must not: arrays for objects, serde's private number
/// token as money, text that is only invisible or bidirectional-control characters. Each is
/// refused in the error shape and stores nothing.
async fn inputs_that_must_be_refused(app: TestApp) {
    let t = app.tenant(1).await;
    let admin = app.admin.clone();
    let (s, v) = app
        .post("/api/v1/users", &admin, json!({"username": "zhao", "password": "correct-horse-1", "role": "admin"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let user = v["id"].as_i64().unwrap();
    let (s, v) = app.call("POST", "/api/v1/auth/login", None, Some(&json!(["zhao", "correct-horse-1"]))).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{v}");
    let (s, v) = app.call("PATCH", &format!("/api/v1/users/{user}"), Some(&admin), Some(&json!([null, true]))).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{v}");
    assert_eq!(login(&app, "zhao", "correct-horse-1").await.status(), StatusCode::OK, "the user was disabled");

    let products = format!("/api/v1/stations/{}/products", t.station);
    let refused = [
        (json!({"name": "桃", "unit": "kg", "price": {"$serde_json::private::Number": "12.5"}}), "invalid_body", None),
        (
            json!({"name": "桃", "unit": "kg", "price": {"\u{24}serde_json::private::Number": "1"}}),
            "invalid_body",
            None,
        ),
        (json!({"name": "\u{200B}\u{200C}", "unit": "kg", "price": "1.00"}), "invalid_field", Some("name")),
        (json!({"name": "桃\u{202E}子", "unit": "kg", "price": "1.00"}), "invalid_field", Some("name")),
        (json!({"name": "\u{3164}", "unit": "kg", "price": "1.00"}), "invalid_field", Some("name")),
    ];
    for (body, want, field) in refused {
        let (s, v) = app.post(&products, &t.staff_token, body.clone()).await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, want), "{body}: {v}");
        assert_eq!(v["error"]["field"].as_str(), field, "{v}");
    }
    let (s, v) = app.get(&products, &t.staff_token).await;
    assert_eq!((s, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");
    let (s, v) = app.post("/api/v1/villages", &admin, json!({"name": "\u{FEFF}", "code": "320206103299"})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")), "{v}");

    let peach = product(&app, &t, "水蜜桃").await;
    let (s, v) = import_lots(&app, &t, 10).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let order = |ext: &str| {
        json!({"station_id": t.station, "channel": "own", "external_id": ext, "placed_at": "2026-06-02T10:00:00+08:00",
               "lines": [{"product_id": peach, "quantity": "1", "unit_price": "10.00"}]})
    };
    for ext in ["\u{200B}", "\u{202E}TB-1", "\u{2066}\u{2069}"] {
        let (s, v) = app.post("/api/v1/orders", &t.staff_token, order(ext)).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("external_id")), "{v}");
    }
    let (s, v) = app
        .post(
            "/api/v1/orders",
            &t.staff_token,
            json!({"station_id": t.station, "channel": "own", "external_id": "O-1", "placed_at": "2026-06-02T10:00:00+08:00",
                   "lines": [[peach, "1", "10.00"]]}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"), "{v}");
    assert_eq!(stock(&app, &t, peach).await, "10.000");
    let (s, o) = app.post("/api/v1/orders", &t.staff_token, order("O-2")).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let (s, v) = app
        .post(
            &format!("/api/v1/orders/{}/refunds", o["id"]),
            &t.staff_token,
            json!({"line_id": o["lines"][0]["id"], "amount": "1.00", "quantity": "0", "restock": false, "reason": "\u{200B}"}),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    let (_, v) = app.get(&format!("/api/v1/orders/{}", o["id"]), &t.staff_token).await;
    assert_eq!(v["lines"][0]["refunded"], "0.00", "{v}");
}

/// A statement with no readable row, or mostly junk, is refused whole and stores nothing; a
/// statement with a few bad rows keeps only the first 1,000 reasons.
async fn unreadable_statements_are_refused(app: TestApp) {
    let t = app.tenant(1).await;
    let path = "/api/v1/reconciliation/statements?channel=taobao&format=generic";
    let header = "external_id,kind,amount,fee,settled_at\n";
    let mut junk = String::from(header);
    for i in 0..50_000 {
        junk.push_str(&format!("TB-{i},refund?,x,y,yesterday\n"));
    }
    let mut mostly_junk = junk.clone();
    mostly_junk.push_str("TB-OK,sale,10.00,0.50,2026-03-10 09:00:00\n");
    let mut few_good = String::from(header);
    for i in 0..1_500 {
        few_good.push_str(&format!("TB-{i},sale,10.00,0.50,2026-03-10 09:00:00\n"));
    }
    for i in 0..1_200 {
        few_good.push_str(&format!("BAD-{i},sale,ten,0.50,2026-03-10 09:00:00\n"));
    }
    for body in [header.to_owned(), junk, mostly_junk] {
        let (s, v) = upload(&app, path, &t.alliance_token, body.into_bytes()).await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "statement_unreadable"), "{v}");
    }
    let (s, v) = app.get("/api/v1/reconciliation/statements", &t.alliance_token).await;
    assert_eq!((s, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");
    let (s, v) = upload(&app, path, &t.alliance_token, few_good.into_bytes()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!((v["rows"].as_i64(), v["rejected"].as_i64()), (Some(1_500), Some(1_200)), "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1_000);
    use hezuo_db::sea_orm::{EntityTrait, PaginatorTrait};
    let kept = hezuo_db::entities::statement_error::Entity::find().count(&app.app.db).await.unwrap();
    assert_eq!(kept, 1_000);
    let rows = hezuo_db::entities::statement_row::Entity::find().count(&app.app.db).await.unwrap();
    assert_eq!(rows, 1_500, "rows of the refused files were left behind");
}

/// Staff may not import statements: the answer is 403 as soon as the headers are in, without
/// reading the (announced 200 MiB) body.
async fn a_forbidden_upload_is_refused_before_its_body_is_read(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = app.tenant(1).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/reconciliation/statements?channel=taobao&format=generic HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Length: 209715200\r\n\r\nexternal_id,",
        t.staff_token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut got = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut got))
        .await
        .expect("no answer while the body was still to come")
        .unwrap();
    let got = String::from_utf8_lossy(&got[..n]);
    assert!(got.starts_with("HTTP/1.1 403"), "{got}");
}

async fn get_text(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.expect("get");
    (res.status(), res.text().await.expect("body"))
}

/// A station with more products than a query may bind exports them all.
async fn a_products_export_of_33000_products(app: TestApp) {
    let t = app.tenant(1).await;
    let path = format!("/api/v1/stations/{}/products:import", t.station);
    for (from, n) in [(0, 20_000), (20_000, 13_000)] {
        let mut f = String::from("name,unit,price,status\n");
        for i in from..from + n {
            f.push_str(&format!("产品{i},kg,1.00,listed\n"));
        }
        let (s, v) = upload(&app, &path, &t.staff_token, f.into_bytes()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, csv) = get_text(&app, &format!("/api/v1/stations/{}/products?format=csv", t.station), &t.staff_token).await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    assert_eq!(csv.lines().count(), 33_001);
}

/// Cells a spreadsheet would run as formulas are exported with a leading `'`, in every CSV;
/// negative amounts stay numbers.
async fn csv_exports_are_safe_for_spreadsheets(app: TestApp) {
    let t = app.tenant(1).await;
    let (s, v) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "=HYPERLINK(\"http://evil\")", "unit": "kg", "price": "1.00", "category": "+1+1",
                   "description": "@SUM(A1)"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, csv) = get_text(&app, &format!("/api/v1/stations/{}/products?format=csv", t.station), &t.staff_token).await;
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{row}");
    assert!(row.contains(",'+1+1,") && row.contains(",'@SUM(A1),"), "{row}");

    // Lots carry no client text, only numbers, ids and times: exported as they are.
    product(&app, &t, "水蜜桃").await;
    let (s, v) = import_lots(&app, &t, 1).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, csv) = get_text(&app, &format!("/api/v1/stations/{}/lots?format=csv", t.station), &t.staff_token).await;
    assert!(!csv.contains('\''), "{csv}");

    let statement = "external_id,kind,amount,fee,settled_at\n-1+1,sale,10.00,0.50,2026-03-10 09:00:00\n=cmd,sale,1.00,0,2026-03-10 09:00:00\n";
    let (s, v) = upload(
        &app,
        "/api/v1/reconciliation/statements?channel=taobao&format=generic",
        &t.alliance_token,
        statement.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, csv) =
        get_text(&app, &format!("/api/v1/reconciliation/statements/{}/items?format=csv", v["id"]), &t.alliance_token)
            .await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows[0], "1,'-1+1,,missing_in_books,9.50,,9.50,1,,", "{csv}");
    assert_eq!(rows[1], "2,'=cmd,,missing_in_books,1.00,,1.00,1,,", "{csv}");
    let statement = v["id"].as_i64().unwrap();
    let (_, v) = app.get(&format!("/api/v1/reconciliation/statements/{statement}/items"), &t.alliance_token).await;
    let id = v["items"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(&format!("/api/v1/reconciliation/items/{id}/resolve"), &t.alliance_token, json!({"note": "@备注"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, csv) =
        get_text(&app, &format!("/api/v1/reconciliation/statements/{statement}/items?format=csv"), &t.alliance_token)
            .await;
    assert!(csv.lines().nth(1).unwrap().contains(",'@备注,"), "{csv}");
}
