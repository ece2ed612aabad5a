//! `cargo run --release -p hezuo-bench -- [--database URL] <import|orders|feed|close|reconcile|fairness|reports|crash|roundtrip> [options]`
//!
//! Starts the real server on 127.0.0.1:0 over a fresh database (a temporary SQLite file unless
//! `--database` names one, e.g. an empty PostgreSQL database), sets up a station through the
//! use cases, then measures through HTTP. `close`, `reconcile` and `reports` instead generate
//! their books set-based in the database first (`books`); `reports` then measures each report
//! over HTTP. BENCHMARKS.md has the commands and the figures.

// Timings and rates are measurements, not money.
#![allow(clippy::float_arithmetic)]

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use hezuo_app::auth::ScopeIds;
use hezuo_app::setup::*;
use hezuo_app::{App, Config, Principal, Role};
use hezuo_core::{Money, Rate};
use std::time::Instant;

#[derive(Parser)]
struct Cli {
    /// Database URL [default: a new SQLite file in a temporary directory].
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bulk CSV import of products, then of lots, all-or-nothing in one transaction each.
    Import {
        #[arg(long, default_value_t = 10_000)]
        rows: usize,
    },
    /// One-line orders drawing on two lots each, from concurrent clients over HTTP; then the
    /// same writes as plain SQL, one transaction per order, at the same concurrency.
    Orders {
        /// Concurrent clients (comma-separated for several runs).
        #[arg(long, default_value = "16")]
        clients: String,
        /// Orders per run.
        #[arg(long, default_value_t = 6_000)]
        orders: usize,
        /// Size of the one-product burst (300 orders of 1 against a stock of 100 by default).
        #[arg(long, default_value_t = 300)]
        burst: usize,
    },
    /// A period close of one cooperative with many households over a month of many lot parts.
    Close {
        #[arg(long, default_value_t = 10_000)]
        households: usize,
        #[arg(long, default_value_t = 1_000_000)]
        parts: usize,
    },
    /// A platform statement of many rows against as many booked orders: import and matching.
    Reconcile {
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
    },
    /// While one tenant imports lots and a statement, another tenant's station writes: how long
    /// those single writes wait, and whether any fails.
    Fairness {
        #[arg(long, default_value_t = 20_000)]
        lots: usize,
        #[arg(long, default_value_t = 1_000_000)]
        statement_rows: usize,
    },
    /// Two years of books bulk-loaded (about 10,000,000 postings), then p50/p99 of every report
    /// over loopback HTTP: village revenue, the ranking, household statements, station sales.
    Reports {
        #[arg(long, default_value_t = 1_000)]
        villages: usize,
        #[arg(long, default_value_t = 20_000)]
        households: usize,
        /// Stations, spread over the villages (each serves every `stations`-th village).
        #[arg(long, default_value_t = 100)]
        stations: usize,
        /// Cooperatives, the stations spread over them.
        #[arg(long, default_value_t = 10)]
        cooperatives: usize,
        /// Postings to generate, approximately (5 per sale part, 6 for the half sold through taobao).
        #[arg(long, default_value_t = 10_000_000)]
        postings: usize,
        /// Timed requests per report (after 5 untimed).
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Run `hezuo verify` on the books afterwards (slow at full size).
        #[arg(long)]
        verify: bool,
        /// Measure the books an earlier run left in `--database` (same sizes) instead of
        /// generating them again.
        #[arg(long)]
        reuse: bool,
    },
    /// One feed run booking `orders` paid orders from a fake Taobao shop on 127.0.0.1.
    Feed {
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
    },
    /// `hezuo serve` as a child process under concurrent orders and refunds, killed with SIGKILL
    /// `kills` times at seeded random moments and started again; then every acknowledged order
    /// and refund is checked. Exits 1 on any loss.
    Crash {
        #[arg(long, default_value_t = 3)]
        kills: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Orders at most, over all clients (each client's product holds its share).
        #[arg(long, default_value_t = 40_000)]
        orders: usize,
        /// The `hezuo` binary [default: beside this one].
        #[arg(long)]
        hezuo: Option<std::path::PathBuf>,
    },
    /// The cost of one statement round trip through the driver: `SELECT 1` in a transaction,
    /// one client, and an empty transaction (BEGIN + COMMIT).
    Roundtrip {
        #[arg(long, default_value_t = 20_000)]
        statements: usize,
    },
}

mod books;
mod close;
mod crash;
mod fairness;
mod feed;
mod orders;
mod reconcile;
mod reports;

pub(crate) struct Bench {
    pub(crate) app: App,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) station: i64,
    pub(crate) households: Vec<i64>,
    pub(crate) staff: String,
    _dir: Option<tempfile::TempDir>,
}

fn rate(s: &str) -> Result<Rate> {
    Rate::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}"))
}

/// The database a run uses: `database`, or a new SQLite file in a temporary directory (kept
/// while the returned directory lives).
pub(crate) fn database_url(database: Option<String>) -> Result<(String, Option<tempfile::TempDir>)> {
    Ok(match database {
        Some(u) => (u, None),
        None => {
            let dir = tempfile::tempdir()?;
            (hezuo_db::sqlite_url(&dir.path().join("bench.db")), Some(dir))
        }
    })
}

/// A station set up through the use cases: its id, 20 member households and a staff token.
pub(crate) struct Station {
    pub(crate) id: i64,
    pub(crate) households: Vec<i64>,
    pub(crate) staff: String,
}

/// A village, a cooperative of 20 households with a rule version, an alliance with the `own`
/// and `taobao` channels, and a station of them with a staff token.
pub(crate) async fn set_up_station(app: &App) -> Result<Station> {
    let admin = Principal::Admin;
    let e = |e: hezuo_app::AppError| anyhow::anyhow!("{e}");
    let village = app
        .create_village(
            &admin,
            CreateVillage {
                name: "桃源村".into(), code: "320206103201".into(), income_target: None, township: None
            },
        )
        .await
        .map_err(e)?;
    let coop = app.create_cooperative(&admin, CreateCooperative { name: "合作社".into() }).await.map_err(e)?;
    let mut households = Vec::new();
    for i in 0..20 {
        let h = app
            .create_household(&admin, CreateHousehold { village_id: village.id, name: format!("农户{i}"), members: 3 })
            .await
            .map_err(e)?;
        app.add_member(
            &admin,
            coop.id,
            CreateMember { household_id: Some(h.id), village_id: None, capital: Money::from_cents(100_000) },
        )
        .await
        .map_err(e)?;
        households.push(h.id);
    }
    app.add_rule_version(
        &admin,
        coop.id,
        CreateRuleVersion {
            effective_from: chrono_date()?,
            household_share: rate("0.70")?,
            station_fee_rate: rate("0.05")?,
            collective_rate: rate("0.05")?,
            reserve_rate: rate("0.10")?,
            rebate_rate: rate("0.60")?,
        },
    )
    .await
    .map_err(e)?;
    let alliance = app.create_alliance(&admin, CreateAlliance { name: "联盟".into() }).await.map_err(e)?;
    for (code, fee) in [("own", "0"), ("taobao", "0.05")] {
        app.create_channel(
            &admin,
            CreateChannel { code: code.into(), name: code.into(), fee_rate: rate(fee)?, alliance_id: alliance.id },
        )
        .await
        .map_err(e)?;
    }
    let station = app
        .create_station(
            &admin,
            CreateStation {
                name: "服务站".into(),
                village_id: village.id,
                cooperative_id: coop.id,
                alliance_id: alliance.id,
                phone: None,
            },
        )
        .await
        .map_err(e)?;
    let staff = token(app, Role::Staff, ScopeIds { station_id: Some(station.id), ..ScopeIds::default() }).await?;
    Ok(Station { id: station.id, households, staff })
}

async fn start(database: Option<String>) -> Result<Bench> {
    let (url, dir) = database_url(database)?;
    let mut config = Config::with_database(url);
    // `feed` runs against a fake platform on this machine, its secrets sealed with a new key.
    config.secret_key = Some(hezuo_app::secrets::SecretKey::generate());
    config.feed_allow_nets = "127.0.0.1/32".parse().context("allow-list")?;
    // Load from one token and one address far beyond any real client's: no rate limits.
    (config.rate_limit_token, config.rate_limit_address) = (0, 0);
    let app = App::open(config).await.context("open database")?;
    let s = set_up_station(&app).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(hezuo_server::serve(listener, app.clone(), std::future::pending()));
    Ok(Bench {
        app,
        base,
        http: reqwest::Client::new(),
        station: s.id,
        households: s.households,
        staff: s.staff,
        _dir: dir,
    })
}

/// A bearer token for a role and scope.
pub(crate) async fn token(app: &App, role: Role, ids: ScopeIds) -> Result<String> {
    Ok(app.create_token(role, ids, "bench", None).await.map_err(|e| anyhow::anyhow!("{e}"))?.token)
}

fn chrono_date() -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")
}

async fn post_csv(b: &Bench, path: &str, body: String) -> Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let res = b
        .http
        .post(format!("{}{path}", b.base))
        .bearer_auth(&b.staff)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await?;
    let status = res.status();
    let v: serde_json::Value = res.json().await?;
    let secs = started.elapsed().as_secs_f64();
    if !status.is_success() {
        bail!("{path}: {status} {v}");
    }
    Ok((secs, v))
}

async fn import(b: &Bench, rows: usize) -> Result<()> {
    let mut products = String::from("name,unit,price,status,category,low_stock_threshold\n");
    for i in 0..rows {
        products.push_str(&format!("阳山水蜜桃{i},斤,{}.{:02},listed,鲜果,10\n", 5 + i % 50, i % 100));
    }
    let (secs, v) = post_csv(b, &format!("/api/v1/stations/{}/products:import", b.station), products).await?;
    let ids: Vec<i64> = v["ids"].as_array().context("ids")?.iter().filter_map(|i| i.as_i64()).collect();
    println!("products:import  {rows:>7} rows  {secs:>7.3} s  {:>9.0} rows/s", rows as f64 / secs);

    let mut lots = String::from("product_id,household_id,quantity,floor_price,received_at\n");
    for i in 0..rows {
        let h = b.households[i % b.households.len()];
        lots.push_str(&format!("{},{h},{}.5,{}.00,2026-06-01 08:00\n", ids[i % ids.len()], 10 + i % 90, 3 + i % 10));
    }
    let (secs, _) = post_csv(b, &format!("/api/v1/stations/{}/lots:import", b.station), lots).await?;
    println!("lots:import      {rows:>7} rows  {secs:>7.3} s  {:>9.0} rows/s", rows as f64 / secs);
    let report = hezuo_app::verify::run(&b.app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !report.ok() {
        bail!("verify failed after the benchmark:\n{report}");
    }
    Ok(())
}

async fn roundtrip(b: &Bench, n: usize) -> Result<()> {
    use hezuo_db::sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = b.app.db.begin().await?;
    let started = Instant::now();
    for _ in 0..n {
        txn.execute_unprepared("SELECT 1").await?;
    }
    let unprepared = started.elapsed().as_secs_f64() / n as f64;
    let stmt = hezuo_db::sea_orm::Statement::from_string(txn.get_database_backend(), "SELECT 1");
    let started = Instant::now();
    for _ in 0..n {
        txn.query_one_raw(stmt.clone()).await?;
    }
    let prepared = started.elapsed().as_secs_f64() / n as f64;
    txn.commit().await?;
    let started = Instant::now();
    for _ in 0..n / 10 {
        b.app.db.begin().await?.commit().await?;
    }
    let empty = started.elapsed().as_secs_f64() / (n / 10) as f64;
    println!(
        "SELECT 1: {:.1} µs (unprepared), {:.1} µs (prepared, cached); BEGIN + COMMIT: {:.1} µs",
        unprepared * 1e6,
        prepared * 1e6,
        empty * 1e6
    );
    Ok(())
}

/// mimalloc instead of the system allocator: a request allocates and frees many small
/// buffers (JSON, SQL text, bound values), and glibc's malloc took ~14 % of the service's CPU
/// under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Ok(filter) = std::env::var("HEZUO_LOG") {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(filter)).init();
    }
    let backend = match &cli.database {
        Some(u) if u.starts_with("postgres") => "PostgreSQL",
        _ => "SQLite",
    };
    if let Command::Close { households, parts } = cli.command {
        println!("hezuo-bench on {backend}, {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));
        return close::run(cli.database, households, parts).await;
    }
    if let Command::Reconcile { orders } = cli.command {
        println!("hezuo-bench on {backend}, {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));
        return reconcile::run(cli.database, orders).await;
    }
    if let Command::Reports { villages, households, stations, cooperatives, postings, requests, verify, reuse } =
        cli.command
    {
        println!("hezuo-bench on {backend}, {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));
        let o = reports::Options { villages, households, stations, cooperatives, postings, requests, verify, reuse };
        return reports::run(cli.database, o).await;
    }
    if let Command::Crash { kills, seed, clients, orders, hezuo } = cli.command {
        return crash::run(cli.database, crash::Options { kills, seed, clients, orders, hezuo }).await;
    }
    let bench = start(cli.database).await?;
    println!("hezuo-bench on {backend}, {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));
    match cli.command {
        Command::Import { rows } => import(&bench, rows).await,
        Command::Orders { clients, orders: n, burst: b } => {
            let clients: Vec<usize> = clients.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>()?;
            println!(
                "| clients | HTTP orders/s | p50 ms | p99 ms | HTTP CPU ms/order | direct SQL orders/s | direct p50 ms | direct p99 ms | direct CPU ms/order | HTTP / direct |"
            );
            println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            for c in clients {
                orders::run(&bench, c, n).await?;
            }
            orders::burst(&bench, b).await
        }
        Command::Roundtrip { statements } => roundtrip(&bench, statements).await,
        Command::Fairness { lots, statement_rows } => fairness::run(&bench, lots, statement_rows).await,
        Command::Feed { orders } => feed::run(&bench, orders).await,
        Command::Close { .. } | Command::Reconcile { .. } | Command::Reports { .. } | Command::Crash { .. } => {
            unreachable!("handled above")
        }
    }
}
