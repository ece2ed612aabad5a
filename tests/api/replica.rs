//! The read replica (`HEZUO_READ_DATABASE_URL`) against a real PostgreSQL streaming replica:
//! `.ci/pg-replica` makes one on port 5433 from the test cluster with `pg_basebackup -R` and
//! names it in `HEZUO_TEST_REPLICA_URL` (server, no database) and `HEZUO_TEST_REPLICA_CLUSTER`
//! (`<version> <name>` for pg_ctlcluster). Lists go to the replica while it keeps up; a caller
//! sees its own writes at once; a paused replay (lag) and a stopped replica send reads to the
//! primary; `/readyz` says which.

use hezuo_tests::{Db, Tenant, TestApp, json};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// The replica's server, or `None` (the test is skipped unless `HEZUO_REQUIRE_REPLICA` is set).
fn replica() -> Option<(String, String)> {
    let url = std::env::var("HEZUO_TEST_REPLICA_URL").ok().filter(|u| !u.is_empty());
    let cluster = std::env::var("HEZUO_TEST_REPLICA_CLUSTER").ok().filter(|c| !c.is_empty());
    match (url, cluster) {
        (Some(u), Some(c)) => Some((u, c)),
        _ => {
            assert!(
                std::env::var_os("HEZUO_REQUIRE_REPLICA").is_none(),
                "HEZUO_REQUIRE_REPLICA is set but HEZUO_TEST_REPLICA_URL / HEZUO_TEST_REPLICA_CLUSTER are not"
            );
            eprintln!("replica tests skipped: no HEZUO_TEST_REPLICA_URL (see .ci/pg-replica)");
            None
        }
    }
}

/// However the test ends: the replica cluster started, and its replay resumed.
struct Restart {
    cluster: String,
    server: String,
}

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = ctl(&self.cluster, "start");
        let _ = std::process::Command::new("psql")
            .args([&format!("{}/postgres", self.server), "-qAtc", "SELECT pg_wal_replay_resume()"])
            .status();
    }
}

fn ctl(cluster: &str, action: &str) -> std::process::ExitStatus {
    let mut args: Vec<&str> = vec!["--skip-systemctl-redirect"];
    args.extend(cluster.split_whitespace());
    args.push(action);
    if action == "stop" {
        args.extend(["-m", "fast"]);
    }
    std::process::Command::new("pg_ctlcluster").args(&args).status().expect("pg_ctlcluster runs")
}

async fn readyz(app: &TestApp) -> Value {
    let (s, v) = app.call("GET", "/readyz", None, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Waits (up to a minute) until `/readyz` shows the replica in `state`.
async fn until_replica(app: &TestApp, state: &str) -> Value {
    for _ in 0..600 {
        let v = readyz(app).await;
        if v["replica"]["state"] == state {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the replica never became {state}: {}", readyz(app).await);
}

async fn order(app: &TestApp, t: &Tenant, product: i64, external_id: &str) -> i64 {
    let body = json!({"station_id": t.station, "channel": "own", "external_id": external_id,
        "placed_at": "2026-11-28T10:00:00+08:00", "lines": [{"product_id": product, "quantity": "1", "unit_price": "20.00"}]});
    let (s, v) = app.post("/api/v1/orders", &t.staff_token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// The external ids of the station's orders as `token` lists them.
async fn listed(app: &TestApp, t: &Tenant, token: &str) -> Vec<String> {
    let (s, v) = app.get(&format!("/api/v1/orders?station_id={}&limit=100", t.station), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap().to_owned()).collect()
}

/// The station's sales total as `token` reads the report.
async fn sales_total(app: &TestApp, t: &Tenant, token: &str) -> String {
    let path = format!("/api/v1/reports/stations/{}/sales?from=2026-11-01&to=2026-11-30", t.station);
    let (s, v) = app.get(&path, token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["totals"]["gross"].as_str().unwrap().to_owned()
}

/// Runs a statement on the replica's copy of the test database, as the superuser.
async fn on_replica(url: &str, sql: &str) {
    let db = hezuo_db::connect(url).await.expect("connect to the replica");
    use hezuo_db::sea_orm::ConnectionTrait;
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_and_fall_back() {
    let Some((server, cluster)) = replica() else { return };
    let _restart = Restart { cluster: cluster.clone(), server: server.trim_end_matches('/').to_owned() };
    // Replay running, whatever an earlier run left.
    on_replica(&format!("{}/postgres", server.trim_end_matches('/')), "SELECT pg_wal_replay_resume()").await;
    let read_url = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let app = {
        let read_url = read_url.clone();
        let server = server.clone();
        TestApp::spawn_with(Db::Postgres, move |c| {
            let name = c.database_url.rsplit('/').next().expect("database name").to_owned();
            let url = format!("{}/{name}", server.trim_end_matches('/'));
            *read_url.lock().unwrap() = url.clone();
            c.read_database_url = Some(url);
            c.replica_max_lag = Duration::from_secs(4);
        })
        .await
        .expect("HEZUO_TEST_DATABASE_URL is needed with HEZUO_TEST_REPLICA_URL")
    };
    let read_url = read_url.lock().unwrap().clone();
    let t = app.tenant(1).await;
    let (s, v) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "阳山水蜜桃", "unit": "斤", "price": "20.00", "status": "listed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let product = v["id"].as_i64().unwrap();
    let lot = json!({"household_id": t.households[0], "quantity": "100", "floor_price": "12.00", "received_at": "2026-11-01T08:00:00+08:00"});
    let (s, v) = app.post(&format!("/api/v1/products/{product}/lots"), &t.staff_token, lot).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let v = until_replica(&app, "ok").await;
    assert_eq!(v["replica"]["max_lag_ms"], 4000, "{v}");

    // A: the writer lists it at once (its reads stay on the primary); the alliance sees it as
    // soon as the replica has replayed it.
    order(&app, &t, product, "A").await;
    assert_eq!(listed(&app, &t, &t.staff_token).await, ["A"]);
    for _ in 0..100 {
        if listed(&app, &t, &t.alliance_token).await == ["A"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A"]);
    assert_eq!(sales_total(&app, &t, &t.alliance_token).await, "20.00");

    // Replay paused: B is on the primary only. The alliance's list and report come from the
    // replica, without B; the staff who placed it see it; a single order is read from the
    // primary by anyone.
    on_replica(&read_url, "SELECT pg_wal_replay_pause()").await;
    let b = order(&app, &t, product, "B").await;
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A"], "the alliance's list is read from the replica");
    assert_eq!(sales_total(&app, &t, &t.alliance_token).await, "20.00");
    assert_eq!(listed(&app, &t, &t.staff_token).await, ["A", "B"], "a caller sees its own write");
    let (s, v) = app.get(&format!("/api/v1/orders/{b}"), &t.alliance_token).await;
    assert_eq!((s, v["external_id"].as_str()), (StatusCode::OK, Some("B")));

    // Once the replica is behind by more than the bound, reads go to the primary.
    let v = until_replica(&app, "lagging").await;
    // More than the bound, in milliseconds truncated: at least 4000.
    assert!(v["replica"]["lag_ms"].as_u64().unwrap() >= 4000, "{v}");
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A", "B"]);
    assert_eq!(sales_total(&app, &t, &t.alliance_token).await, "40.00");

    // Replay resumed: the replica catches up and is used again.
    on_replica(&read_url, "SELECT pg_wal_replay_resume()").await;
    let v = until_replica(&app, "ok").await;
    assert!(v["replica"]["lag_ms"].as_u64().unwrap() <= 4000, "{v}");
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A", "B"]);

    // Replica stopped: /readyz stays 200 and says so; reads go to the primary and see C.
    assert!(ctl(&cluster, "stop").success(), "pg_ctlcluster {cluster} stop");
    let v = until_replica(&app, "down").await;
    assert_eq!(v["status"], "ready");
    assert!(v["replica"]["lag_ms"].is_null(), "{v}");
    order(&app, &t, product, "C").await;
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A", "B", "C"]);
    assert_eq!(sales_total(&app, &t, &t.alliance_token).await, "60.00");

    // Started again: it catches up and serves reads again.
    assert!(ctl(&cluster, "start").success(), "pg_ctlcluster {cluster} start");
    until_replica(&app, "ok").await;
    for _ in 0..100 {
        if listed(&app, &t, &t.alliance_token).await.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed(&app, &t, &t.alliance_token).await, ["A", "B", "C"]);
    app.verify().await;
}
