//! Test harness: `TestApp::spawn` makes a fresh database (a SQLite file in a temporary
//! directory, or a new PostgreSQL database when `HEZUO_TEST_DATABASE_URL` is set), migrates
//! it, serves the real router on 127.0.0.1:0 and hands back an HTTP client. When the test is
//! over, `hezuo verify` runs against what the test left, and the database is dropped.

use hezuo_app::auth::ScopeIds;
use hezuo_app::{App, Config, Role};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod fake_platform;
pub mod receiver;

pub use reqwest;
pub use serde_json::json;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub app: App,
    pub admin: String,
    pub db: Db,
    url: String,
    postgres: Option<(String, String)>,
    config: Config,
    addr: std::net::SocketAddr,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    verified: AtomicBool,
}

/// Runs async cleanup from `Drop` on a runtime of its own.
fn block_on_thread<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(f);
    });
    if let Err(panic) = handle.join()
        && !std::thread::panicking()
    {
        std::panic::resume_unwind(panic);
    }
}

fn postgres_database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Serves `app` on `listener` until the sender is used or dropped.
fn serve(
    listener: tokio::net::TcpListener,
    app: &App,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hezuo_server::serve(listener, app.clone(), async {
        let _ = rx.await;
    }));
    (tx, server)
}

impl TestApp {
    /// Stops serving, as a stopped process would: requests under way are answered, then the
    /// address refuses connections. The database stays.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stopped");
        }
    }

    /// Serves again on the same address, as a restarted process: a new `App` on the same
    /// database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let app = App::open(self.config.clone()).await.expect("reopen app");
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("binding {} again: {e}", self.addr);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("bind {} again: {e}", self.addr),
            }
        };
        let (tx, server) = serve(listener, &app);
        self.app = app;
        self.shutdown = Some(tx);
        self.server = Some(server);
    }

    /// A fresh app on `db`; `None` for PostgreSQL when `HEZUO_TEST_DATABASE_URL` is not set.
    pub async fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(std::env::var("HEZUO_LOG").unwrap_or_else(|_| "warn".into()))
            .try_init();
        let (url, dir, postgres) = match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (hezuo_db::sqlite_url(&dir.path().join("test.db")), Some(dir), None)
            }
            Db::Postgres => {
                let admin_url = std::env::var("HEZUO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
                let name = format!("hezuo_t_{}", uuid::Uuid::new_v4().simple());
                let admin = hezuo_db::connect(&admin_url).await.expect("connect to HEZUO_TEST_DATABASE_URL");
                use hezuo_db::sea_orm::ConnectionTrait;
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.ok();
                (postgres_database_url(&admin_url, &name), None, Some((admin_url, name)))
            }
        };
        let mut config = Config::with_database(url.clone());
        // Feeds: a key to seal their secrets, and fake platforms on this machine admitted.
        config.secret_key = Some(hezuo_app::secrets::SecretKey::generate());
        config.feed_allow_nets = "127.0.0.1/32".parse().expect("allow-list");
        // Webhooks: receivers on this machine admitted, retries after a second.
        config.webhook_allow_nets = "127.0.0.1/32".parse().expect("allow-list");
        config.webhook_retry_schedule = "1,1".parse().expect("schedule");
        // Short-lived test databases: one warm connection each (many tests run at once).
        config.postgres_warm_connections = 1;
        tweak(&mut config);
        let app = App::open(config.clone()).await.expect("open app");
        let admin = app.create_token(Role::Admin, ScopeIds::default(), "test", None).await.expect("admin token").token;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let (tx, server) = serve(listener, &app);
        Some(TestApp {
            base,
            http: reqwest::Client::new(),
            app,
            admin,
            db,
            url,
            postgres,
            config,
            addr,
            server: Some(server),
            shutdown: Some(tx),
            _dir: dir,
            verified: AtomicBool::new(false),
        })
    }

    /// Sends a request; returns the status and the JSON body (`Null` when there is none).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, value)
    }

    /// Sets the app's business clock to an RFC 3339 time (`None`: back to the system clock).
    pub fn set_time(&self, rfc3339: Option<&str>) {
        let at = rfc3339.map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("RFC 3339 time").to_utc());
        self.app.set_clock(at);
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(token), Some(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("PATCH", path, Some(token), Some(&body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("PUT", path, Some(token), Some(&body)).await
    }

    /// Every row `sql` returns, its columns as text (`NULL` for null): for tests that look at
    /// what is stored. Columns must be text (cast others in the query).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        use hezuo_db::sea_orm::{ConnectionTrait, Statement};
        let backend = self.app.db.get_database_backend();
        let found = self.app.db.query_all_raw(Statement::from_string(backend, sql)).await.expect("query");
        found
            .iter()
            .map(|r| {
                (0..r.column_names().len())
                    .map(|i| {
                        r.try_get_by_index::<Option<String>>(i).expect("text column").unwrap_or_else(|| "NULL".into())
                    })
                    .collect()
            })
            .collect()
    }

    /// POSTs as admin and returns the new object's id, failing the test on anything but 201.
    pub async fn create(&self, path: &str, body: Value) -> i64 {
        let (status, v) = self.post(path, &self.admin.clone(), body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {v}");
        v["id"].as_i64().expect("id")
    }

    /// A machine token for a role and scope.
    pub async fn token(&self, role: Role, ids: ScopeIds) -> String {
        self.app.create_token(role, ids, "test", None).await.expect("token").token
    }

    /// The database URL of this test's database (to open a second `App` on it, as another
    /// replica or a restarted process would).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// Runs `hezuo verify` now (also done when the test ends).
    pub async fn verify(&self) {
        let report = hezuo_app::verify::run(&self.app).await.expect("verify runs");
        assert!(report.ok(), "hezuo verify failed:\n{report}");
        self.verified.store(true, Ordering::SeqCst);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let url = self.url.clone();
        let check = !std::thread::panicking();
        let postgres = self.postgres.take();
        block_on_thread(async move {
            if check {
                let mut config = Config::with_database(url);
                config.postgres_warm_connections = 1;
                let app = App::open(config).await.expect("reopen for verify");
                let report = hezuo_app::verify::run(&app).await.expect("verify runs");
                app.db.close().await.ok();
                assert!(report.ok(), "hezuo verify failed after the test:\n{report}");
            }
            if let Some((admin_url, name)) = postgres {
                use hezuo_db::sea_orm::ConnectionTrait;
                if let Ok(admin) = hezuo_db::connect(&admin_url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                    admin.close().await.ok();
                }
            }
        });
    }
}

/// Declares each listed `async fn name(app: TestApp)` as a test on SQLite and, when
/// `HEZUO_TEST_DATABASE_URL` is set, on PostgreSQL.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Db::Sqlite).await.expect("sqlite app");
                    super::$name(app).await;
                }
            )*
        }
        // Built without HEZUO_TEST_DATABASE_URL (tests/build.rs), these show as ignored, not as passed.
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    let app = $crate::TestApp::spawn($crate::Db::Postgres)
                        .await
                        .expect("HEZUO_TEST_DATABASE_URL was set when the tests were built; set it to run them");
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// One tenant's organisation: a village, two households (members of the cooperative), a
/// cooperative with rules, an alliance with a station and two channels, and tokens for the
/// alliance, the station's staff and the village.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub village: i64,
    pub households: [i64; 2],
    pub cooperative: i64,
    pub alliance: i64,
    pub station: i64,
    pub channels: [i64; 2],
    pub alliance_token: String,
    pub staff_token: String,
    pub village_token: String,
}

impl TestApp {
    /// Builds a tenant through the API. `n` keeps codes unique between tenants.
    pub async fn tenant(&self, n: u32) -> Tenant {
        let village = self
            .create("/api/v1/villages", json!({"name": format!("桃源村{n}"), "code": format!("3202061032{n:02}")}))
            .await;
        let mut households = [0; 2];
        for (i, h) in households.iter_mut().enumerate() {
            *h = self
                .create(
                    "/api/v1/households",
                    json!({"village_id": village, "name": format!("农户{n}-{i}"), "members": 3}),
                )
                .await;
        }
        let cooperative = self.create("/api/v1/cooperatives", json!({"name": format!("合作社{n}")})).await;
        self.create(
            &format!("/api/v1/cooperatives/{cooperative}/members"),
            json!({"village_id": village, "capital": "60000"}),
        )
        .await;
        for h in households {
            self.create(
                &format!("/api/v1/cooperatives/{cooperative}/members"),
                json!({"household_id": h, "capital": "10000"}),
            )
            .await;
        }
        self.create(
            &format!("/api/v1/cooperatives/{cooperative}/rules"),
            json!({"effective_from": "2026-01-01", "household_share": "0.70", "station_fee_rate": "0.05",
                   "collective_rate": "0.05", "reserve_rate": "0.10", "rebate_rate": "0.60"}),
        )
        .await;
        let alliance = self.create("/api/v1/alliances", json!({"name": format!("电商联盟{n}")})).await;
        let station = self
            .create(
                "/api/v1/stations",
                json!({"name": format!("服务站{n}"), "village_id": village, "cooperative_id": cooperative, "alliance_id": alliance}),
            )
            .await;
        let own = self
            .create(
                "/api/v1/channels",
                json!({"code": "own", "name": "自营", "fee_rate": "0", "alliance_id": alliance}),
            )
            .await;
        let taobao = self
            .create(
                "/api/v1/channels",
                json!({"code": "taobao", "name": "淘宝", "fee_rate": "0.05", "alliance_id": alliance}),
            )
            .await;
        let ids =
            |a: Option<i64>, s: Option<i64>, v: Option<i64>| ScopeIds { alliance_id: a, station_id: s, village_id: v };
        Tenant {
            village,
            households,
            cooperative,
            alliance,
            station,
            channels: [own, taobao],
            alliance_token: self.token(Role::Alliance, ids(Some(alliance), None, None)).await,
            staff_token: self.token(Role::Staff, ids(None, Some(station), None)).await,
            village_token: self.token(Role::Village, ids(None, None, Some(village))).await,
        }
    }
}

/// The `error.code` of an error response.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}
