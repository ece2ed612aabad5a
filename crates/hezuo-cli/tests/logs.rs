//! The service's log as a collector reads it: `HEZUO_LOG_FORMAT=json` writes one JSON object a
//! line, with the request's line (method, route, status) — and no personal data or secret: a
//! log-in (its password, a wrong one, the token it returns), an order and a refund whose reason
//! carries a phone number and an ID card number leave none of them in the log, at debug level.
#![cfg(unix)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// One HTTP/1.1 request; the status and the body.
fn call(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // The body may be chunked: take the JSON between the first '{' and the last '}'.
    let json = match (json.find('{'), json.rfind('}')) {
        (Some(a), Some(b)) => &json[a..=b],
        _ => "null",
    };
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

#[test]
fn json_logs_without_personal_data_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
    logs_without_personal_data(dir.path(), &database);
}

#[test]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
fn json_logs_without_personal_data_on_postgres() {
    use hezuo_db::sea_orm::ConnectionTrait;
    let url = std::env::var("HEZUO_TEST_DATABASE_URL").expect("built with HEZUO_TEST_DATABASE_URL; it must be set");
    let name = format!("hezuo_logs_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let admin = rt.block_on(hezuo_db::connect(&url)).expect("connect to HEZUO_TEST_DATABASE_URL");
    rt.block_on(admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))).expect("drop");
    rt.block_on(admin.execute_unprepared(&format!("CREATE DATABASE {name}"))).expect("create");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let dir = tempfile::tempdir().expect("temp dir");
    logs_without_personal_data(dir.path(), &format!("{base}/{name}"));
    rt.block_on(admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))).expect("drop");
}

fn logs_without_personal_data(dir: &std::path::Path, database: &str) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let log = dir.join("serve.log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_hezuo"))
        .args(["serve", "--demo", "--listen", &addr])
        .env("HEZUO_DATABASE_URL", database)
        .env("HEZUO_LOG_FORMAT", "json")
        .env("HEZUO_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start hezuo serve");
    let mut ready = false;
    for _ in 0..300 {
        if TcpStream::connect(&addr).is_ok() && call(&addr, "GET", "/readyz", None, "").0 == 200 {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "not ready: {}", std::fs::read_to_string(&log).unwrap_or_default());

    let wrong = "wrong-pw-13700001111";
    let (s, _) = call(
        &addr,
        "POST",
        "/api/v1/auth/login",
        None,
        &format!(r#"{{"username":"staff-taoyuan","password":"{wrong}"}}"#),
    );
    assert_eq!(s, 401);
    let (s, v) =
        call(&addr, "POST", "/api/v1/auth/login", None, r#"{"username":"staff-taoyuan","password":"hezuo-demo-2026"}"#);
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().expect("token").to_owned();
    let (s, stations) = call(&addr, "GET", "/api/v1/stations", Some(&token), "");
    assert_eq!(s, 200, "{stations}");
    let station = stations["items"][0]["id"].as_i64().expect("the staff's station");
    let (s, products) =
        call(&addr, "GET", &format!("/api/v1/stations/{station}/products?status=listed"), Some(&token), "");
    assert_eq!(s, 200, "{products}");
    let product = products["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["stock"].as_str().is_some_and(|s| s != "0" && !s.starts_with("0."))))
        .expect("a product in stock");
    let (pid, price) = (product["id"].as_i64().unwrap(), product["price"].as_str().unwrap());
    let body = format!(
        r#"{{"station_id":{station},"channel":"own","external_id":"LOG-1","placed_at":"2026-11-28T10:00:00+08:00","lines":[{{"product_id":{pid},"quantity":"1","unit_price":"{price}"}}]}}"#
    );
    let (s, order) = call(&addr, "POST", "/api/v1/orders", Some(&token), &body);
    assert_eq!(s, 201, "{order}");
    let (id, line) = (order["id"].as_i64().unwrap(), order["lines"][0]["id"].as_i64().unwrap());
    let refund = format!(
        r#"{{"line_id":{line},"amount":"{price}","quantity":"1","restock":true,"reason":"买家 13812345678 身份证 320206199001011234"}}"#
    );
    let (s, v) = call(&addr, "POST", &format!("/api/v1/orders/{id}/refunds"), Some(&token), &refund);
    assert_eq!(s, 201, "{v}");
    let _ = serve.kill();
    let _ = serve.wait();

    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["timestamp"].is_string() && l["level"].is_string()), "{text}");
    let order_line = lines.iter().find(|l| {
        let s = l.to_string();
        s.contains("/api/v1/orders") && s.contains("201") && s.contains("POST")
    });
    assert!(order_line.is_some(), "no request line for the order:\n{text}");
    for secret in ["hezuo-demo-2026", wrong, &token, "13812345678", "13700001111", "320206199001011234"] {
        assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
    }
}
