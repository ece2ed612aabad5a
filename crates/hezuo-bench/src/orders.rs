//! The orders benchmark (issue: order intake). Each run gives every client its own product,
//! stocked with lots of 0.5 so that every one-line order of 1 draws on exactly two lots.

use crate::Bench;
use anyhow::{Context, Result, bail};
use hezuo_app::catalog::CreateProduct;
use hezuo_app::{Actor, Principal};
use hezuo_core::{Money, Quantity};
use hezuo_db::sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value};
use std::time::{Duration, Instant};

pub(crate) async fn stocked_product(b: &Bench, name: String, lots: usize, lot_size: &str) -> Result<i64> {
    stocked_product_with_sku(b, name, None, lots, lot_size).await
}

pub(crate) async fn stocked_product_with_sku(
    b: &Bench,
    name: String,
    sku: Option<String>,
    lots: usize,
    lot_size: &str,
) -> Result<i64> {
    let station = crate::Station { id: b.station, households: b.households.clone(), staff: String::new() };
    stock_product(&b.app, &station, name, sku, lots, lot_size).await
}

/// A listed product at 20.00 with `lots` lots of `lot_size` (floor 12.00) from the station's
/// households, and merchant code `sku`.
pub(crate) async fn stock_product(
    app: &hezuo_app::App,
    station: &crate::Station,
    name: String,
    sku: Option<String>,
    lots: usize,
    lot_size: &str,
) -> Result<i64> {
    let e = |e: hezuo_app::AppError| anyhow::anyhow!("{e}");
    let p = app
        .create_product(
            &Principal::Admin,
            station.id,
            CreateProduct {
                name,
                unit: "kg".into(),
                sku,
                price: Money::from_cents(2000),
                status: Some(hezuo_catalog::ProductStatus::Listed),
                category: None,
                description: None,
                image_urls: None,
                low_stock_threshold: None,
            },
        )
        .await
        .map_err(e)?;
    // All lots in one import (one transaction), received on a day before the orders.
    let mut csv = String::from("product_id,household_id,quantity,floor_price,received_at\n");
    for i in 0..lots {
        let h = station.households[i % station.households.len()];
        csv.push_str(&format!("{},{h},{lot_size},12.00,2026-06-01 08:00\n", p.id));
    }
    app.import_lots(&Principal::Admin, &Actor::default(), station.id, csv.as_bytes()).await.map_err(e)?;
    Ok(p.id)
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

/// CPU time this process has used (all threads, user + system), from `/proc/self/stat` (Linux;
/// zero elsewhere). Less sensitive than throughput to what else runs on the machine.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime and stime are the 12th and
    // 13th, in clock ticks of 1/100 s.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after.split_whitespace().skip(11).take(2).filter_map(|t| t.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}

static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Orders each client places before the clock starts: connections opened, statements
/// prepared, caches filled on both paths alike.
const WARMUP: usize = 5;

/// What a timed phase measured: latencies (sorted), orders per second and CPU per order.
struct Phase {
    lat: Vec<Duration>,
    rate: f64,
    cpu: f64,
}

/// `clients` concurrent clients each calling `order(c, i)` for `i` in `0..WARMUP + per_client`;
/// only the orders after the warm-up, which every client finishes before the clock starts,
/// are timed.
async fn timed<F, Fut>(clients: usize, per_client: usize, order: F) -> Result<Phase>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let order = std::sync::Arc::new(order);
    let ready = std::sync::Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (order, ready) = (order.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..WARMUP + per_client {
                if i == WARMUP {
                    ready.wait().await;
                }
                let t = Instant::now();
                order(c, i).await?;
                if i >= WARMUP {
                    lat.push(t.elapsed());
                }
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    ready.wait().await;
    let (started, cpu) = (Instant::now(), cpu_time());
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu).as_secs_f64() / lat.len() as f64;
    lat.sort();
    Ok(Phase { rate: lat.len() as f64 / secs, lat, cpu })
}

pub async fn run(b: &Bench, clients: usize, orders: usize) -> Result<()> {
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let per_client = orders / clients;
    let lots = (WARMUP + per_client) * 2;
    // HTTP: each client its own product.
    let mut products = Vec::new();
    for c in 0..clients {
        products.push(stocked_product(b, format!("http-{run}-{c}"), lots, "0.5").await?);
    }
    let (http, url, token, station) = (b.http.clone(), format!("{}/api/v1/orders", b.base), b.staff.clone(), b.station);
    let http = timed(clients, per_client, move |c, i| {
        let body = serde_json::json!({"station_id": station, "channel": "taobao", "external_id": format!("B{run}-{c}-{i}"),
            "placed_at": "2026-11-28T10:00:00+08:00", "lines": [{"product_id": products[c], "quantity": "1", "unit_price": "20.00"}]});
        let request = http.post(&url).bearer_auth(&token).json(&body);
        async move {
            let res = request.send().await?;
            let status = res.status();
            let _ = res.bytes().await?;
            if status != reqwest::StatusCode::CREATED {
                bail!("order {c}-{i}: {status}");
            }
            Ok(())
        }
    })
    .await?;

    // Direct SQL: the same rows, one transaction per order, same concurrency, no HTTP.
    let mut products = Vec::new();
    for c in 0..clients {
        products.push(stocked_product(b, format!("sql-{run}-{c}"), lots, "0.5").await?);
    }
    let (app, station) = (b.app.clone(), b.station);
    // SQLite: one rusqlite thread, as the order writer; PostgreSQL: the pool, side by side.
    let lite = match hezuo_db::sqlite_file(&b.app.config.database_url) {
        Some(path) => Some(std::sync::Arc::new(LiteWriter::start(&path)?)),
        None => None,
    };
    let direct = timed(clients, per_client, move |c, i| {
        let (app, product, lite) = (app.clone(), products[c], lite.clone());
        async move {
            let ext = format!("S{run}-{c}-{i}");
            match lite {
                Some(w) => w.order(station, product, ext).await,
                None => direct_order(&app.db, station, product, &ext).await,
            }
        }
    })
    .await?;
    println!(
        "| {clients} | {:.0} | {:.1} | {:.1} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} |",
        http.rate,
        percentile(&http.lat, 50),
        percentile(&http.lat, 99),
        http.cpu * 1000.0,
        direct.rate,
        percentile(&direct.lat, 50),
        percentile(&direct.lat, 99),
        direct.cpu * 1000.0,
        http.rate / direct.rate
    );
    let report = hezuo_app::verify::run(&b.app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if !report.ok() {
        bail!("verify failed:\n{report}");
    }
    Ok(())
}

/// 300 (by default) concurrent orders of 1 against one product with a stock of a third of it.
pub async fn burst(b: &Bench, n: usize) -> Result<()> {
    let stock = n / 3;
    let product = stocked_product(b, "burst".into(), stock, "1").await?;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (http, url, token, station) = (b.http.clone(), format!("{}/api/v1/orders", b.base), b.staff.clone(), b.station);
            tokio::spawn(async move {
                let body = serde_json::json!({"station_id": station, "channel": "own", "external_id": format!("burst-{i}"),
                    "placed_at": "2026-11-28T10:00:00+08:00", "lines": [{"product_id": product, "quantity": "1", "unit_price": "20.00"}]});
                Ok::<_, anyhow::Error>(http.post(url).bearer_auth(token).json(&body).send().await?.status())
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await?? {
            reqwest::StatusCode::CREATED => ok += 1,
            reqwest::StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            other => bail!("burst: unexpected {other}"),
        }
    }
    let left = b.app.get_product(&Principal::Admin, product).await.map_err(|e| anyhow::anyhow!("{e}"))?.stock;
    println!(
        "\nburst: {n} concurrent orders of 1 against a stock of {stock}: {ok} created, {refused} refused, stock left {left}"
    );
    if ok != stock || left != Quantity::ZERO {
        bail!("the burst oversold or undersold");
    }
    Ok(())
}

fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    hezuo_app::statement(backend, text, values)
}

/// The ids one direct order reads first (in the cooperative's shared lock) and its lots.
struct DirectIds {
    coop: i64,
    alliance: i64,
    channel: i64,
    order: i64,
    tx: i64,
    line: i64,
}

/// The station's cooperative (locked shared on PostgreSQL), alliance and channel, and the
/// order's ids, in one query; its columns in [`DirectIds`] order after `closed_through`.
fn station_sql(be: DbBackend) -> String {
    let pg = be == DbBackend::Postgres;
    let next = |table: &str| hezuo_app::next_id(be, table);
    format!(
        "SELECT s.cooperative_id, s.alliance_id, (SELECT id FROM channels WHERE alliance_id = s.alliance_id AND code = 'taobao') AS channel_id, \
         {} AS order_id, {} AS tx_id, {} AS line_id, c.closed_through \
         FROM stations s JOIN cooperatives c ON c.id = s.cooperative_id WHERE s.id = ?{}",
        next("orders"),
        next("ledger_transactions"),
        next("order_lines"),
        if pg { " FOR KEY SHARE OF c" } else { "" }
    )
}

/// The two lots an order draws on (locked on PostgreSQL): id, household, village.
fn lots_sql(be: DbBackend) -> String {
    let lock = if be == DbBackend::Postgres { " FOR UPDATE" } else { "" };
    format!(
        "SELECT id, household_id, village_id FROM lots WHERE product_id = ? AND remaining > 0 ORDER BY received_at, id LIMIT 2{lock}"
    )
}

/// A statement with `?` placeholders and its values.
type Write = (String, Vec<Value>);

/// Every write of one order drawing 0.5 + 0.5 from two lots, with `?` placeholders; the index
/// of the lots' update and how many rows it must change.
fn direct_writes(
    station: i64,
    product: i64,
    ext: &str,
    ids: &DirectIds,
    lots: &[(i64, i64, i64)],
) -> Result<(Vec<Write>, usize, u64)> {
    let now = chrono::Utc::now();
    let day = now.date_naive();
    let DirectIds { coop, alliance, channel, order, tx, line } = *ids;
    // Every write, with `?` placeholders.
    let mut writes: Vec<(String, Vec<Value>)> = vec![
        (
            "INSERT INTO orders (id, station_id, alliance_id, cooperative_id, channel_id, external_id, request_hash, placed_at, booking_date, status, gross, fee, refunded, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'x', ?, ?, 'placed', 2000, 100, 0, ?, ?)"
                .to_owned(),
            vec![
                order.into(),
                station.into(),
                alliance.into(),
                coop.into(),
                channel.into(),
                ext.into(),
                now.into(),
                day.into(),
                now.into(),
                now.into(),
            ],
        ),
        (
            "INSERT INTO order_lines (id, order_id, line_no, product_id, quantity, unit_price, gross, fee, refunded, returned) VALUES (?, ?, 1, ?, 1000, 2000, 2000, 100, 0, 0)".to_owned(),
            vec![line.into(), order.into(), product.into()],
        ),
    ];
    // Parts, the two lots' decrements and the sale movements: one multi-row statement each.
    let mut postings: Vec<(String, i64)> = Vec::new();
    let (mut parts, mut part_values) = (String::new(), Vec::<Value>::new());
    let (mut moves, mut move_values) = (String::new(), Vec::<Value>::new());
    let mut lot_ids = Vec::<Value>::new();
    let mut bases: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (seq, &(lot, household, village)) in lots.iter().enumerate() {
        let sep = if seq == 0 { "" } else { ", " };
        parts.push_str(sep);
        parts.push_str("(?, ?, ?, ?, ?, ?, ?, 500, 0, 1000, 50, 665, 48, 48, 189, 0, 0, 0, 0, 0, 0)");
        part_values.extend([
            order.into(),
            line.into(),
            (seq as i32).into(),
            lot.into(),
            household.into(),
            village.into(),
            day.into(),
        ]);
        moves.push_str(sep);
        moves.push_str("(?, ?, 'sale', -500, ?, ?)");
        move_values.extend([lot.into(), product.into(), line.into(), now.into()]);
        lot_ids.push(lot.into());
        *bases.entry(household).or_default() += 950;
        postings.extend([
            ("channel:taobao".to_owned(), -1000),
            ("fees:channel:taobao".to_owned(), 50),
            (format!("household:{household}"), 665),
            (format!("station:{station}"), 48),
            (format!("village:{village}"), 48),
            (format!("coop:{coop}:pool"), 189),
        ]);
    }
    writes.push((
        format!("INSERT INTO order_parts (order_id, line_id, seq, lot_id, household_id, village_id, booking_date, quantity, returned, gross, fee, household, station, collective, pool, refunded_gross, refunded_fee, refunded_household, refunded_station, refunded_collective, refunded_pool) VALUES {parts}"),
        part_values,
    ));
    let marks = vec!["?"; lot_ids.len()].join(", ");
    let drawn = writes.len();
    let n = lot_ids.len() as u64;
    writes.push((
        format!("UPDATE lots SET remaining = remaining - 500 WHERE id IN ({marks}) AND remaining >= 500"),
        lot_ids,
    ));
    writes.push((
        format!(
            "INSERT INTO stock_movements (lot_id, product_id, kind, quantity, order_line_id, created_at) VALUES {moves}"
        ),
        move_values,
    ));
    writes.push((
        "INSERT INTO ledger_transactions (id, kind, cooperative_id, alliance_id, order_id, booking_date, memo, created_at) VALUES (?, 'sale', ?, ?, ?, ?, 'bench', ?)".to_owned(),
        vec![tx.into(), coop.into(), alliance.into(), order.into(), day.into(), now.into()],
    ));
    let mut text = String::from(
        "INSERT INTO postings (transaction_id, alliance_id, cooperative_id, account, amount, booking_date, line_id) VALUES ",
    );
    let mut values: Vec<Value> = Vec::new();
    for (i, (account, amount)) in postings.iter().enumerate() {
        text.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?, ?)" });
        values.extend([
            tx.into(),
            alliance.into(),
            coop.into(),
            account.clone().into(),
            (*amount).into(),
            day.into(),
            line.into(),
        ]);
    }
    writes.push((text, values));
    let mut sums: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for (a, v) in &postings {
        *sums.entry(a.as_str()).or_default() += v;
    }
    let slot = tx % 8;
    let mut text = String::from("INSERT INTO account_days (alliance_id, account, day, slot, amount, postings) VALUES ");
    let mut values: Vec<Value> = Vec::new();
    for (i, (account, amount)) in sums.iter().enumerate() {
        text.push_str(if i == 0 { "(?, ?, ?, ?, ?, 1)" } else { ", (?, ?, ?, ?, ?, 1)" });
        values.extend([alliance.into(), (*account).to_owned().into(), day.into(), slot.into(), (*amount).into()]);
    }
    text.push_str(" ON CONFLICT (alliance_id, account, day, slot) DO UPDATE SET amount = account_days.amount + excluded.amount, postings = account_days.postings + excluded.postings");
    writes.push((text, values));
    // The households' bases for the period close.
    let mut text = String::from("INSERT INTO basis_days (cooperative_id, day, household_id, slot, amount) VALUES ");
    let mut values: Vec<Value> = Vec::new();
    for (i, (household, amount)) in bases.iter().enumerate() {
        text.push_str(if i == 0 { "(?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?)" });
        values.extend([coop.into(), day.into(), (*household).into(), slot.into(), (*amount).into()]);
    }
    text.push_str(
        " ON CONFLICT (cooperative_id, day, household_id, slot) DO UPDATE SET amount = basis_days.amount + excluded.amount",
    );
    writes.push((text, values));
    // The report sums the service keeps with every booking: the collectives' month and the
    // station's sales of the day.
    let mut villages: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (account, amount) in &postings {
        if let Some(v) = account.strip_prefix("village:").and_then(|v| v.parse::<i64>().ok()) {
            *villages.entry(v).or_default() += amount;
        }
    }
    let month = chrono::Datelike::with_day(&day, 1).context("month")?;
    let year = chrono::Datelike::with_ordinal(&day, 1).context("year")?;
    let mut text =
        String::from("INSERT INTO village_sums (village_id, span, period_start, slot, sales, dividends) VALUES ");
    let mut values: Vec<Value> = Vec::new();
    for (i, (village, amount)) in villages.iter().enumerate() {
        for (j, (span, start)) in [("month", month), ("year", year)].into_iter().enumerate() {
            text.push_str(if i + j == 0 { "(?, ?, ?, ?, ?, 0)" } else { ", (?, ?, ?, ?, ?, 0)" });
            values.extend([(*village).into(), span.into(), start.into(), slot.into(), (*amount).into()]);
        }
    }
    text.push_str(
        " ON CONFLICT (village_id, span, period_start, slot) DO UPDATE SET sales = village_sums.sales + excluded.sales",
    );
    writes.push((text, values));
    writes.push((
        "INSERT INTO sales_days (station_id, day, product_id, channel_id, orders, quantity, gross, fee, refunded) \
         VALUES (?, ?, ?, ?, 1, 1000, 2000, 100, 0) ON CONFLICT (station_id, day, product_id, channel_id) DO UPDATE SET \
         orders = sales_days.orders + 1, quantity = sales_days.quantity + 1000, gross = sales_days.gross + 2000, fee = sales_days.fee + 100"
            .to_owned(),
        vec![station.into(), day.into(), product.into(), channel.into()],
    ));
    Ok((writes, drawn, n))
}

/// The rows of one order, written with plain SQL in one transaction through the service's sqlx
/// pool, in the fewest round trips: the ids in one query, the lots in another, then every
/// write at once — one statement of data-modifying CTEs on PostgreSQL, one statement per table
/// on SQLite.
async fn direct_order(db: &hezuo_db::sea_orm::DatabaseConnection, station: i64, product: i64, ext: &str) -> Result<()> {
    let be = db.get_database_backend();
    let pg = be == DbBackend::Postgres;
    let txn = db.begin().await?;
    let row = txn.query_one_raw(sql(be, &station_sql(be), vec![station.into()])).await?.context("station row")?;
    let ids = DirectIds {
        coop: row.try_get("", "cooperative_id")?,
        alliance: row.try_get("", "alliance_id")?,
        channel: row.try_get("", "channel_id")?,
        order: row.try_get("", "order_id")?,
        tx: row.try_get("", "tx_id")?,
        line: row.try_get("", "line_id")?,
    };
    let lots = txn
        .query_all_raw(sql(be, &lots_sql(be), vec![product.into()]))
        .await?
        .iter()
        .map(|l| Ok((l.try_get("", "id")?, l.try_get("", "household_id")?, l.try_get("", "village_id")?)))
        .collect::<Result<Vec<(i64, i64, i64)>>>()?;
    let (writes, drawn, n) = direct_writes(station, product, ext, &ids, &lots)?;
    let changed = if pg {
        let mut text = String::from("WITH ");
        let mut values = Vec::new();
        for (i, (w, v)) in writes.into_iter().enumerate() {
            let returning = if i == drawn { " RETURNING 1" } else { "" };
            text.push_str(&format!("{}w{i} AS ({w}{returning})", if i == 0 { "" } else { ", " }));
            values.extend(v);
        }
        text.push_str(&format!(" SELECT count(*) AS n FROM w{drawn}"));
        let n: i64 = txn.query_one_raw(sql(be, &text, values)).await?.context("count")?.try_get("", "n")?;
        n as u64
    } else {
        let mut changed = 0;
        for (i, (w, v)) in writes.into_iter().enumerate() {
            let done = txn.execute_raw(sql(be, &w, v)).await?.rows_affected();
            if i == drawn {
                changed = done;
            }
        }
        changed
    };
    if changed != n {
        bail!("{ext}: lots changed under their lock");
    }
    txn.commit().await?;
    Ok(())
}

/// One order for the rusqlite writer.
struct LiteJob {
    station: i64,
    product: i64,
    ext: String,
    reply: tokio::sync::oneshot::Sender<Result<()>>,
}

/// The real limit of the service's writes on SQLite: the same statements as [`direct_order`]
/// through rusqlite on one thread, each prepared once (cached), one transaction per order,
/// committed as durably as the order writer commits (`hezuo_db::SQLITE_PRAGMAS`). Like the
/// order writer, it leaves checkpoints out of its commits; the phase ends with one.
pub(crate) struct LiteWriter {
    jobs: std::sync::mpsc::Sender<LiteJob>,
}

impl LiteWriter {
    pub(crate) fn start(path: &std::path::Path) -> Result<LiteWriter> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(hezuo_db::SQLITE_PRAGMAS)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        conn.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = std::sync::mpsc::channel::<LiteJob>();
        std::thread::Builder::new().name("bench-direct-writer".into()).spawn(move || {
            while let Ok(job) = queue.recv() {
                let _ = job.reply.send(lite_order(&conn, job.station, job.product, &job.ext));
            }
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        })?;
        Ok(LiteWriter { jobs })
    }

    async fn order(&self, station: i64, product: i64, ext: String) -> Result<()> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(LiteJob { station, product, ext, reply })
            .map_err(|_| anyhow::anyhow!("direct writer stopped"))?;
        answer.await?
    }
}

fn lite_order(conn: &rusqlite::Connection, station: i64, product: i64, ext: &str) -> Result<()> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let written = lite_writes(conn, station, product, ext);
    let end = if written.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.prepare_cached(end)?.execute([])?;
    written
}

fn lite_writes(conn: &rusqlite::Connection, station: i64, product: i64, ext: &str) -> Result<()> {
    let be = DbBackend::Sqlite;
    let bound = |text: &str, values: Vec<Value>| {
        hezuo_app::rusqlite_params(sql(be, text, values)).map_err(|e| anyhow::anyhow!("{e}"))
    };
    let (text, params) = bound(&station_sql(be), vec![station.into()])?;
    let ids = conn.prepare_cached(&text)?.query_row(rusqlite::params_from_iter(params), |r| {
        Ok(DirectIds {
            coop: r.get(0)?,
            alliance: r.get(1)?,
            channel: r.get(2)?,
            order: r.get(3)?,
            tx: r.get(4)?,
            line: r.get(5)?,
        })
    })?;
    let (text, params) = bound(&lots_sql(be), vec![product.into()])?;
    let lots = conn
        .prepare_cached(&text)?
        .query_map(rusqlite::params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<(i64, i64, i64)>>>()?;
    let (writes, drawn, n) = direct_writes(station, product, ext, &ids, &lots)?;
    for (i, (w, v)) in writes.into_iter().enumerate() {
        let (text, params) = bound(&w, v)?;
        let done = conn.prepare_cached(&text)?.execute(rusqlite::params_from_iter(params))?;
        if i == drawn && done as u64 != n {
            bail!("{ext}: lots changed under their lock");
        }
    }
    Ok(())
}
