//! The crash harness: `hezuo serve` as a child process under concurrent orders and refunds,
//! killed with SIGKILL at seeded random moments and started again, then checked: every
//! acknowledged order is still there (its request replayed answers 200 with the same id),
//! nothing is booked twice, every product's stock is what was received less what was sold plus
//! what refunds put back, and `hezuo verify` is clean.
//!
//! A client whose request is cut by a kill does what a real client does: it sends the same
//! request again until it gets an answer. An order's retry tells whether the first attempt
//! landed (200, the same order) or not (201); a refund's retry that finds the line already
//! refunded (422) landed before the kill.

use crate::Station;
use anyhow::{Context, Result, bail};
use hezuo_app::{App, Config};
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Options {
    pub(crate) kills: usize,
    pub(crate) seed: u64,
    pub(crate) clients: usize,
    pub(crate) orders: usize,
    pub(crate) hezuo: Option<PathBuf>,
}

/// How long a client keeps sending one request while the service is down, and how long a
/// start may take, before the run fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// Lots of 0.5 and orders of 1: every order draws on two lots.
const LOT_SIZE: &str = "0.5";

/// One acknowledged order, as its client knows it.
struct Acked {
    body: Value,
    id: i64,
    /// Its full refund (restocked) was acknowledged.
    refunded: bool,
}

/// What one client placed and how its cut requests ended.
#[derive(Default)]
struct ClientLog {
    acked: Vec<Acked>,
    /// Orders whose first attempt was cut by a kill and had landed (the retry answered 200).
    landed_before_kill: usize,
    /// Orders whose first attempt was cut by a kill and had not landed (the retry answered 201).
    placed_after_restart: usize,
    /// Refunds cut by a kill that had landed (the retry found the line refunded).
    refunds_landed_before_kill: usize,
}

/// The service under test, started and killed as a child process.
struct Service {
    binary: PathBuf,
    url: String,
    listen: String,
    log: PathBuf,
    child: Option<tokio::process::Child>,
    http: reqwest::Client,
}

impl Service {
    async fn start(&mut self) -> Result<Duration> {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = tokio::process::Command::new(&self.binary)
            .arg("serve")
            .env("HEZUO_DATABASE_URL", &self.url)
            .env("HEZUO_LISTEN", &self.listen)
            .env("HEZUO_LOG", "warn")
            .env("HEZUO_RATE_LIMIT_TOKEN", "0")
            .env("HEZUO_RATE_LIMIT_ADDRESS", "0")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);
        let ready = format!("http://{}/readyz", self.listen);
        while started.elapsed() < PATIENCE {
            if let Ok(r) = self.http.get(&ready).send().await
                && r.status() == StatusCode::OK
            {
                return Ok(started.elapsed());
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                bail!("hezuo serve exited with {status} while starting (log: {})", self.log.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("hezuo serve was not ready within {PATIENCE:?} (log: {})", self.log.display())
    }

    /// SIGKILL, and wait until the process is gone.
    async fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }
}

/// The request cut by a kill is sent again, as it was, until it gets an answer; whether any
/// attempt was cut is returned with the answer.
async fn until_answered(request: reqwest::RequestBuilder) -> Result<(StatusCode, Value, bool)> {
    let started = Instant::now();
    let mut cut = false;
    loop {
        let attempt = request.try_clone().context("request body is not cloneable")?;
        match attempt.send().await {
            Ok(res) => {
                let status = res.status();
                match res.json::<Value>().await {
                    Ok(v) => return Ok((status, v, cut)),
                    Err(_) => cut = true,
                }
            }
            Err(_) => cut = true,
        }
        if started.elapsed() > PATIENCE {
            bail!("no answer within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    station: i64,
    product: i64,
    index: usize,
}

impl Client {
    fn order_body(&self, i: usize) -> Value {
        json!({"station_id": self.station, "channel": "own", "external_id": format!("K{}-{i}", self.index),
            "placed_at": "2026-11-28T10:00:00+08:00",
            "lines": [{"product_id": self.product, "quantity": "1", "unit_price": "20.00"}]})
    }

    async fn run(self, orders: usize, seed: u64, stop: Arc<AtomicBool>) -> Result<ClientLog> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut log = ClientLog::default();
        for i in 0..orders {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let body = self.order_body(i);
            let post = self.http.post(format!("{}/api/v1/orders", self.base)).bearer_auth(&self.token).json(&body);
            let (status, v, cut) = until_answered(post).await?;
            match (status, cut) {
                (StatusCode::CREATED, false) => {}
                (StatusCode::CREATED, true) => log.placed_after_restart += 1,
                (StatusCode::OK, true) => log.landed_before_kill += 1,
                _ => bail!("order {}: {status} {v}", body["external_id"]),
            }
            let id = v["id"].as_i64().context("order id")?;
            let line = v["lines"][0]["id"].as_i64().context("line id")?;
            // A quarter of the orders are refunded in full, the quantity put back in stock.
            let refunded = rng.random_range(0..4) == 0 && self.refund(id, line, &mut log).await?;
            log.acked.push(Acked { body, id, refunded });
        }
        Ok(log)
    }

    async fn refund(&self, order: i64, line: i64, log: &mut ClientLog) -> Result<bool> {
        let body =
            json!({"line_id": line, "amount": "20.00", "quantity": "1", "restock": true, "reason": "crash harness"});
        let post =
            self.http.post(format!("{}/api/v1/orders/{order}/refunds", self.base)).bearer_auth(&self.token).json(&body);
        match until_answered(post).await? {
            (StatusCode::CREATED, _, _) => Ok(true),
            (StatusCode::UNPROCESSABLE_ENTITY, _, true) => {
                let (status, v, _) = until_answered(
                    self.http.get(format!("{}/api/v1/orders/{order}", self.base)).bearer_auth(&self.token),
                )
                .await?;
                if status != StatusCode::OK || v["lines"][0]["refunded"] != "20.00" {
                    bail!("refund of order {order} refused after a kill, yet the line is not refunded: {v}");
                }
                log.refunds_landed_before_kill += 1;
                Ok(true)
            }
            (status, v, _) => bail!("refund of order {order}: {status} {v}"),
        }
    }
}

fn binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("hezuo"),
    };
    if !path.is_file() {
        bail!(
            "{} not found: build it first (cargo build --release -p hezuo-cli) or name it with --hezuo",
            path.display()
        );
    }
    Ok(path)
}

fn free_port() -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

pub(crate) async fn run(database: Option<String>, o: Options) -> Result<()> {
    let binary = binary(o.hezuo)?;
    let (url, dir) = crate::database_url(database)?;
    let work = tempfile::tempdir()?;
    let per_client = o.orders / o.clients.max(1);

    // Set up in this process, then close the database before the service opens it.
    let (station, products) = {
        let app = App::open(Config::with_database(url.clone())).await.context("open database")?;
        let station = crate::set_up_station(&app).await?;
        let mut products = Vec::new();
        for c in 0..o.clients {
            let p = crate::orders::stock_product(&app, &station, format!("crash-{c}"), None, 2 * per_client, LOT_SIZE);
            products.push(p.await?);
        }
        (station, products)
    };

    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut service = Service {
        binary: binary.clone(),
        url: url.clone(),
        listen: free_port()?,
        log: work.path().join("serve.log"),
        child: None,
        http: http.clone(),
    };
    service.start().await?;
    let base = format!("http://{}", service.listen);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = products
        .iter()
        .enumerate()
        .map(|(index, &product)| {
            let client = Client {
                http: http.clone(),
                base: base.clone(),
                token: station.staff.clone(),
                station: station.id,
                product,
                index,
            };
            tokio::spawn(client.run(per_client, o.seed.wrapping_add(1 + index as u64), stop.clone()))
        })
        .collect();

    let mut rng = StdRng::seed_from_u64(o.seed);
    let mut restarts = Vec::new();
    for _ in 0..o.kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..2_000))).await;
        service.kill().await?;
        restarts.push(service.start().await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for c in clients {
        logs.push(c.await??);
    }

    let outcome = check(&service, &station, &products, per_client, &logs).await;
    service.kill().await?;
    let report = outcome?;
    let restart = restarts.iter().max().copied().unwrap_or_default();
    let backend = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    println!("crash: {} kills (SIGKILL) on {backend}, seed {}, {} clients", o.kills, o.seed, o.clients);
    println!(
        "orders acknowledged: {} ({} cut by a kill: {} had landed, {} placed by the retry)",
        report.orders,
        report.landed_before_kill + report.placed_after_restart,
        report.landed_before_kill,
        report.placed_after_restart
    );
    println!(
        "refunds acknowledged: {} ({} cut by a kill had landed)",
        report.refunds, report.refunds_landed_before_kill
    );
    println!("every acknowledged order replayed: 200 with the same id and the refunded amount acknowledged");
    println!("orders in the database: {}, each external id once", report.orders);
    println!("stock of {} products = received − sold + returned", products.len());
    println!("hezuo verify: clean; slowest restart {:.2} s", restart.as_secs_f64());
    println!("no acknowledged order or refund lost, none booked twice");
    drop(dir);
    Ok(())
}

struct Report {
    orders: usize,
    refunds: usize,
    landed_before_kill: usize,
    placed_after_restart: usize,
    refunds_landed_before_kill: usize,
}

async fn check(
    service: &Service,
    station: &Station,
    products: &[i64],
    received: usize,
    logs: &[ClientLog],
) -> Result<Report> {
    use rust_decimal::Decimal;
    let (http, base) = (&service.http, format!("http://{}", service.listen));
    let mut report =
        Report { orders: 0, refunds: 0, landed_before_kill: 0, placed_after_restart: 0, refunds_landed_before_kill: 0 };
    for (log, &product) in logs.iter().zip(products) {
        report.orders += log.acked.len();
        report.landed_before_kill += log.landed_before_kill;
        report.placed_after_restart += log.placed_after_restart;
        report.refunds_landed_before_kill += log.refunds_landed_before_kill;
        let mut returned = 0;
        for a in &log.acked {
            let res =
                http.post(format!("{base}/api/v1/orders")).bearer_auth(&station.staff).json(&a.body).send().await?;
            let status = res.status();
            let v: Value = res.json().await?;
            if status != StatusCode::OK || v["id"].as_i64() != Some(a.id) {
                bail!("acknowledged order {} (id {}) replayed: {status} {v}", a.body["external_id"], a.id);
            }
            let want = if a.refunded { "20.00" } else { "0.00" };
            if v["refunded"] != want {
                bail!("order {}: refunded {} where {want} was acknowledged", a.id, v["refunded"]);
            }
            returned += usize::from(a.refunded);
        }
        report.refunds += returned;
        let p: Value = http
            .get(format!("{base}/api/v1/products/{product}"))
            .bearer_auth(&station.staff)
            .send()
            .await?
            .json()
            .await?;
        let stock: Decimal = p["stock"].as_str().context("stock")?.parse()?;
        let expected = Decimal::from(received) - Decimal::from(log.acked.len()) + Decimal::from(returned);
        if stock != expected {
            bail!(
                "product {product}: stock {stock}, expected {expected} (received {received}, sold {}, returned {returned})",
                log.acked.len()
            );
        }
    }
    // Nothing booked that no client was told of: every order and refund in the database is one
    // of those acknowledged.
    let app = App::open(Config::with_database(service.url.clone())).await.context("open database")?;
    let [orders, distinct, refunds] = count(&app, station.id).await?;
    if orders != report.orders as i64 || distinct != orders || refunds != report.refunds as i64 {
        bail!(
            "the database holds {orders} orders ({distinct} external ids) and {refunds} refunds; {} and {} were acknowledged",
            report.orders,
            report.refunds
        );
    }
    let status = tokio::process::Command::new(&service.binary)
        .arg("verify")
        .env("HEZUO_DATABASE_URL", &service.url)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    if !status.success() {
        bail!("hezuo verify failed ({status})");
    }
    Ok(report)
}

/// Orders, distinct external ids and refunds of the station in the database.
async fn count(app: &App, station: i64) -> Result<[i64; 3]> {
    use hezuo_db::sea_orm::ConnectionTrait;
    let stmt = hezuo_app::statement(
        app.db.get_database_backend(),
        "SELECT (SELECT COUNT(*) FROM orders WHERE station_id = ?), \
         (SELECT COUNT(DISTINCT external_id) FROM orders WHERE station_id = ?), \
         (SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.station_id = ?)",
        vec![station.into(), station.into(), station.into()],
    );
    let row = app.db.query_one_raw(stmt).await?.context("no row")?;
    Ok([row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?])
}
