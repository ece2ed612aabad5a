//! `reports`: two years of books (2025 and 2026) generated set-based in the database, about
//! ten million postings by default, then the latency of each report over loopback HTTP, one
//! client, requests one after another.
//!
//! The books (`books`): villages, households, a few cooperatives, stations spread over the
//! villages, one alliance with channels `own` and `taobao`, and one-line orders of one lot part
//! each, spread evenly over the 730 days, every 199th refunded in full three days later. Every
//! sale is a transaction of five postings (channel, household, station, village, pool) and a
//! sixth for taobao's fee. Household 1 has exactly [`SALES_2026`] sale parts in 2026 (and
//! [`SALES_2025`] in 2025): its statement of 2026 is the issue's target case. Each village has a
//! year's rent for 2025 and for 2026, spread over the months (other income). The cooperative of
//! household 1 then closes its 24 months through the use case (`App::close_period`), so its
//! households' statements have rebates and dividends and its villages dividends.

use crate::books::{self, World};
use anyhow::{Context, Result, bail, ensure};
use hezuo_app::auth::ScopeIds;
use hezuo_app::{Actor, App, Config, Principal, Role};
use hezuo_core::Money;
use hezuo_db::entities::cooperative_member;
use hezuo_db::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::time::{Duration, Instant};

/// The target household's sale parts in the benchmark year, and in the year before.
pub(crate) const SALES_2026: usize = 1_000;
pub(crate) const SALES_2025: usize = 500;

/// The household with those parts.
const TARGET: i64 = 1;

/// Days of the books: 2025-01-01 to 2026-12-31.
const DAYS: usize = 730;
const FIRST_DAY: &str = "2025-01-01";

/// Every this many-th part is refunded in full, three days after its sale.
const REFUND_EVERY: usize = 199;

/// Requests per report before the clock starts.
const WARM_UP: usize = 5;

pub(crate) struct Options {
    pub villages: usize,
    pub households: usize,
    pub stations: usize,
    pub cooperatives: usize,
    pub postings: usize,
    pub requests: usize,
    pub verify: bool,
    pub reuse: bool,
}

/// Lot parts for about `postings` postings: 5 per sale, 6 for the half sold through taobao.
fn parts_for(postings: usize) -> usize {
    postings * 2 / 11
}

/// One row per lot part (see `World::fill`), ordered by day. The target household's parts are
/// every `step`-th of each year's range; the other parts go round the other households.
fn parts_query(sqlite: bool, world: &World, parts: usize) -> Result<String> {
    // Parts 1..first_2026 − 1 are booked in 2025, first_2026..=parts in 2026 (day = (n − 1) × 730 / parts).
    let first_2026 = parts.div_ceil(2) + 1;
    let step_2026 = (parts + 1 - first_2026) / SALES_2026;
    let step_2025 = (first_2026 - 1) / SALES_2025;
    ensure!(step_2026 >= 1 && step_2025 >= 1, "{parts} lot parts are too few for the target household's");
    ensure!(world.households >= 2, "at least two households");
    let (a, s26, s25, nh) = (first_2026, step_2026, step_2025, world.households);
    let day = |offset: &str| books::day(sqlite, FIRST_DAY, offset);
    Ok(format!(
        "SELECT n, n AS o, 1 AS line_no, 1 + (CASE WHEN j >= 0 THEN j ELSE n END) % 2 AS channel, {} AS day, \
                CASE WHEN j >= 0 THEN {TARGET} ELSE 2 + n % {} END AS household, 1000 + (n % 97) * 10 AS gross, \
                CASE WHEN n % {REFUND_EVERY} = 0 AND off + 3 < {DAYS} THEN {} END AS refund_day \
         FROM (SELECT n, off, CASE \
                 WHEN n >= {a} AND n < {a} + {SALES_2026} * {s26} AND (n - {a}) % {s26} = 0 THEN (n - {a}) / {s26} \
                 WHEN n < 1 + {SALES_2025} * {s25} AND (n - 1) % {s25} = 0 THEN (n - 1) / {s25} \
                 ELSE -1 END AS j \
               FROM ({} SELECT CAST(i AS BIGINT) AS n, (CAST(i AS BIGINT) - 1) * {DAYS} / {parts} AS off FROM p) q) r",
        day("off"),
        nh - 1,
        day("off + 3"),
        books::seq("p", parts),
    ))
}

/// A year's rent per village for 2025 and for 2026, each spread evenly over its twelve months.
fn income(sqlite: bool, villages: usize) -> Vec<String> {
    let ts = books::timestamp(sqlite);
    let mut s: Vec<String> = [2025, 2026]
        .iter()
        .enumerate()
        .map(|(k, year)| {
            format!(
                "INSERT INTO village_income (id, village_id, entry_date, amount, category, note, covers_from, covers_to, \
                 reverses_id, actor_user_id, actor_token_id, created_at) {} \
                 SELECT {} + i, i, '{year}-01-05', 12 * (50000 + (i % 10) * 10000), 'rent', 'bench', \
                        '{year}-01-01', '{year}-12-31', NULL, NULL, NULL, {ts} FROM v",
                books::seq("v", villages),
                k * villages
            )
        })
        .collect();
    let month = if sqlite {
        "date(e.covers_from, '+' || (m.i - 1) || ' months')"
    } else {
        "CAST(e.covers_from + (m.i - 1) * INTERVAL '1 month' AS DATE)"
    };
    s.push(format!(
        "INSERT INTO village_income_months (entry_id, village_id, month, amount) {} \
         SELECT e.id, e.village_id, {month}, e.amount / 12 FROM village_income e CROSS JOIN m",
        books::seq("m", 12)
    ));
    s
}

async fn run_all(app: &App, statements: Vec<String>) -> Result<()> {
    for sql in statements {
        app.db.execute_unprepared(&sql).await.with_context(|| sql.chars().take(160).collect::<String>())?;
    }
    Ok(())
}

/// splitmix64: reproducible ids without a dependency.
struct Ids(u64);

impl Ids {
    /// An id in `from..=to`.
    fn pick(&mut self, from: usize, to: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        from + (z % (to - from + 1) as u64) as usize
    }
}

fn money(v: &serde_json::Value) -> Result<Money> {
    serde_json::from_value(v.clone()).with_context(|| format!("not an amount: {v}"))
}

/// Checks the body of a report's first response, and says what it found.
type Check = Box<dyn Fn(&serde_json::Value) -> Result<String>>;

/// One report's paths: `requests` of them are timed after the warm-up.
struct Report {
    name: String,
    paths: Vec<String>,
    check: Check,
}

struct Timing {
    latencies: Vec<Duration>,
    bytes: usize,
}

async fn measure(http: &reqwest::Client, base: &str, token: &str, r: &Report, requests: usize) -> Result<Timing> {
    let mut latencies = Vec::with_capacity(requests);
    let mut bytes = 0usize;
    for (i, path) in r.paths.iter().enumerate() {
        let started = Instant::now();
        let res = http.get(format!("{base}{path}")).bearer_auth(token).send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        let took = started.elapsed();
        if status != reqwest::StatusCode::OK {
            bail!("{path}: {status} {}", String::from_utf8_lossy(&body));
        }
        if i == 0 {
            let v: serde_json::Value = serde_json::from_slice(&body).with_context(|| format!("{path}: not JSON"))?;
            let found = (r.check)(&v).with_context(|| format!("{path}: unexpected answer"))?;
            println!("{}: {found}, {:.1} KiB", r.name, body.len() as f64 / 1024.0);
        }
        if i >= WARM_UP {
            latencies.push(took);
            bytes += body.len();
        }
    }
    ensure!(latencies.len() == requests, "{}: {} timed requests", r.name, latencies.len());
    Ok(Timing { latencies, bytes })
}

fn reports(o: &Options) -> Vec<Report> {
    let mut ids = Ids(20_261_202);
    let n = o.requests + WARM_UP;
    let (nv, nh, ns) = (o.villages, o.households, o.stations);
    let year = "from=2026-01-01&to=2026-12-31";
    vec![
        Report {
            name: "village revenue (a random village, 2026)".into(),
            paths: (0..n).map(|_| format!("/api/v1/reports/villages/{}/revenue?year=2026", ids.pick(1, nv))).collect(),
            check: Box::new(|v| {
                let months = v["months"].as_array().context("months")?.len();
                let (sales, other, dividends) =
                    (money(&v["sales_share"])?, money(&v["other"])?, money(&v["dividends"])?);
                ensure!(months == 12 && sales > Money::ZERO && other > Money::ZERO, "{months} months, {v}");
                Ok(format!("{months} months, sales share {sales}, dividends {dividends}, other {other}"))
            }),
        },
        Report {
            name: format!("village ranking (all {nv} villages, 2026)"),
            paths: vec!["/api/v1/reports/villages?year=2026".to_owned(); n],
            check: Box::new(move |v| {
                let villages = v["villages"].as_array().context("villages")?.len();
                ensure!(villages == nv, "{villages} villages ranked, {nv} expected");
                Ok(format!("{villages} villages, {} weak", v["weak_count"]))
            }),
        },
        Report {
            name: format!("household statement ({SALES_2026} sale parts, 2026)"),
            paths: vec![format!("/api/v1/reports/households/{TARGET}/statement?{year}"); n],
            check: Box::new(|v| {
                let lines = v["lines"].as_array().context("lines")?;
                let kind = |k: &str| lines.iter().filter(|l| l["kind"] == k).count();
                ensure!(kind("sale") == SALES_2026, "{} sale lines, {SALES_2026} expected", kind("sale"));
                Ok(format!(
                    "{} sales, {} refunds, {} rebates, {} dividends; opening {}, closing {}",
                    kind("sale"),
                    kind("refund"),
                    kind("rebate"),
                    kind("dividend"),
                    money(&v["opening"])?,
                    money(&v["closing"])?
                ))
            }),
        },
        Report {
            name: "household statement (a random household, 2026)".into(),
            paths: (0..n).map(|_| format!("/api/v1/reports/households/{}/statement?{year}", ids.pick(2, nh))).collect(),
            check: Box::new(|v| {
                let lines = v["lines"].as_array().context("lines")?.len();
                ensure!(v["household"]["id"].as_i64().is_some_and(|id| id != TARGET), "{v}");
                Ok(format!("household {}: {lines} lines", v["household"]["id"]))
            }),
        },
        Report {
            name: "station sales (a random station, 2026)".into(),
            paths: (0..n).map(|_| format!("/api/v1/reports/stations/{}/sales?{year}", ids.pick(1, ns))).collect(),
            check: Box::new(|v| {
                let days = v["by_day"].as_array().context("by_day")?.len();
                let orders = v["totals"]["orders"].as_i64().context("orders")?;
                ensure!(days > 0 && orders > 0, "{v}");
                Ok(format!(
                    "{days} days, {} products, {orders} orders, gross {}",
                    v["by_product"].as_array().map_or(0, Vec::len),
                    money(&v["totals"]["gross"])?
                ))
            }),
        },
    ]
}

/// Generates the books, closes the target household's cooperative's 24 months, and analyzes.
async fn generate(app: &App, sqlite: bool, world: &World, o: &Options) -> Result<()> {
    let parts = parts_for(o.postings);
    println!(
        "generating {} villages, {} households, {} stations, {} cooperatives, {parts} one-part orders over {FIRST_DAY}..2026-12-31…",
        o.villages, o.households, o.stations, o.cooperatives
    );
    let started = Instant::now();
    let mut s = world.create(sqlite);
    s.extend(world.fill(&parts_query(sqlite, world, parts)?));
    s.extend(books::book(sqlite));
    s.extend(income(sqlite, o.villages));
    s.extend(books::sequences(sqlite));
    run_all(app, s).await?;
    let booked = started.elapsed();

    // The target household's cooperative closes its 24 months, in order, through the use case.
    let t = Instant::now();
    let coop = cooperative_member::Entity::find()
        .filter(cooperative_member::Column::HouseholdId.eq(TARGET))
        .one(&app.db)
        .await?
        .context("the target household's membership")?
        .cooperative_id;
    app.set_clock(Some(chrono::DateTime::parse_from_rfc3339("2027-01-10T10:00:00+08:00")?.to_utc()));
    for period in [2025, 2026].iter().flat_map(|y| (1..=12).map(move |m| format!("{y}-{m:02}"))) {
        app.close_period(&Principal::Admin, &Actor::default(), coop, &period)
            .await
            .map_err(|e| anyhow::anyhow!("close {period}: {e}"))?;
    }
    app.set_clock(None);
    let closed = t.elapsed();

    // On PostgreSQL a VACUUM too, so that autovacuum has nothing left to do while we measure;
    // then a checkpoint, so that writing out the bulk load does not either.
    let t = Instant::now();
    run_all(app, vec![if sqlite { "ANALYZE" } else { "VACUUM ANALYZE" }.to_owned()]).await?;
    let checkpoint = if sqlite { "PRAGMA wal_checkpoint(TRUNCATE)" } else { "CHECKPOINT" };
    if let Err(e) = app.db.execute_unprepared(checkpoint).await {
        println!("({checkpoint} failed, measuring without it: {e})");
    }
    let analyzed = t.elapsed();
    println!(
        "generated in {:.1} s: books {:.1} s, 24 closes of cooperative {coop} {:.1} s, {} and checkpoint {:.1} s",
        started.elapsed().as_secs_f64(),
        booked.as_secs_f64(),
        closed.as_secs_f64(),
        if sqlite { "ANALYZE" } else { "VACUUM ANALYZE" },
        analyzed.as_secs_f64()
    );
    Ok(())
}

pub async fn run(database: Option<String>, o: Options) -> Result<()> {
    ensure!(o.requests > 0, "--requests must be at least 1");
    ensure!(o.stations >= 1 && o.stations <= o.villages, "--stations must be from 1 to --villages");
    ensure!(o.cooperatives >= 1 && o.cooperatives <= o.stations, "--cooperatives must be from 1 to --stations");
    ensure!(!o.reuse || database.is_some(), "--reuse measures the books of --database");
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| hezuo_db::sqlite_url(&dir.path().join("reports.db")));
    let mut config = Config::with_database(url);
    // Thousands of timed requests from one token: no rate limits.
    (config.rate_limit_token, config.rate_limit_address) = (0, 0);
    let app = App::open(config).await.context("open database")?;
    let sqlite = hezuo_db::backend(&app.db) == hezuo_db::Backend::Sqlite;
    let database = if sqlite { "SQLite (WAL)" } else { "PostgreSQL 15" };
    let world = World {
        villages: o.villages,
        households: o.households,
        stations: o.stations,
        cooperatives: o.cooperatives,
        products: 5,
    };
    if o.reuse {
        println!("measuring the books already in the database");
    } else {
        generate(&app, sqlite, &world, &o).await?;
    }
    let (postings,): (i64,) = app
        .db
        .query_one_raw(hezuo_db::sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) FROM postings",
        ))
        .await?
        .context("count")
        .and_then(|r| Ok((r.try_get_by_index::<i64>(0)?,)))?;
    println!("{postings} postings");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(hezuo_server::serve(listener, app.clone(), std::future::pending()));
    let token = crate::token(&app, Role::Admin, ScopeIds::default()).await?;
    let http = reqwest::Client::new();
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before measuring: {}", load().trim());
    let mut rows = Vec::new();
    for r in reports(&o) {
        let mut t = measure(&http, &base, &token, &r, o.requests).await?;
        t.latencies.sort_unstable();
        rows.push((r.name, t));
    }
    println!("load average after measuring: {}", load().trim());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!();
    println!("| database | postings | report | requests | p50 | p99 | max | response |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, t) in &rows {
        let at = |q: f64| t.latencies[((t.latencies.len() as f64 * q) as usize).min(t.latencies.len() - 1)];
        println!(
            "| {database} | {postings} | {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} KiB |",
            t.latencies.len(),
            ms(at(0.50)),
            ms(at(0.99)),
            t.latencies.last().map_or(0.0, |d| ms(*d)),
            t.bytes as f64 / t.latencies.len() as f64 / 1024.0
        );
    }

    if o.verify {
        let t = Instant::now();
        let report = hezuo_app::verify::run(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("\nhezuo verify ({:.1} s):", t.elapsed().as_secs_f64());
        let mut failed = 0;
        for c in &report.checks {
            // The generated books have no stock journal (see `books`).
            let skipped = c.name.starts_with("stock");
            if !c.problems.is_empty() && !skipped {
                failed += 1;
            }
            let mark = if skipped {
                "skip"
            } else if c.problems.is_empty() {
                "ok  "
            } else {
                "FAIL"
            };
            println!("{mark} {}", c.name);
            if !skipped {
                for p in c.problems.iter().take(5) {
                    println!("       {p}");
                }
            }
        }
        ensure!(failed == 0, "{failed} checks failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Options, run};

    /// Small books on SQLite: every report answers and checks its body, and `hezuo verify`
    /// passes on the generated books (its stock check apart). No timing is asserted.
    #[tokio::test]
    async fn small_books_pass_verify_and_every_report_answers() {
        let o = Options {
            villages: 20,
            households: 60,
            stations: 4,
            cooperatives: 2,
            postings: 30_000,
            requests: 3,
            verify: true,
            reuse: false,
        };
        run(None, o).await.unwrap();
    }
}
