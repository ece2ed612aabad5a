//! `close`: one cooperative with many households and a month of many sale parts, then the
//! period close through the use case, timed, with this process's peak memory during the close.
//!
//! The month is generated set-based in the database (`books`: orders, lines, lot parts, sale
//! transactions with all their postings, per-day account sums and per-day bases, as bookings
//! would have written them); stock journals are not generated, since the close does not read
//! them.

use crate::books::{self, World};
use anyhow::{Context, Result};
use hezuo_app::{Actor, App, Config, Principal};
use hezuo_db::sea_orm::ConnectionTrait;
use std::time::Instant;

const VILLAGES: usize = 50;
const LINES_PER_ORDER: usize = 10;

/// The generated month: its size, and whether every order goes to one channel (else own and
/// taobao alternate).
pub(crate) struct Month {
    pub households: usize,
    pub parts: usize,
    pub lines_per_order: usize,
    pub channel: Option<i64>,
}

/// This process's peak resident memory since the last reset, in KiB (Linux).
pub(crate) fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak (Linux: writing 5 to clear_refs).
pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub async fn run(database: Option<String>, households: usize, parts: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| hezuo_db::sqlite_url(&dir.path().join("close.db")));
    let app = App::open(Config::with_database(url)).await.context("open database")?;
    let sqlite = hezuo_db::backend(&app.db) == hezuo_db::Backend::Sqlite;
    let orders = parts.div_ceil(LINES_PER_ORDER);
    println!("generating {households} households, {orders} orders, {parts} lot parts (October 2026)…");
    let t = Instant::now();
    for sql in generate(sqlite, &Month { households, parts, lines_per_order: LINES_PER_ORDER, channel: None }) {
        app.db.execute_unprepared(&sql).await.with_context(|| sql.chars().take(120).collect::<String>())?;
    }
    println!("generated in {:.1} s", t.elapsed().as_secs_f64());

    app.set_clock(Some(chrono::DateTime::parse_from_rfc3339("2026-11-15T10:00:00+08:00")?.to_utc()));
    let admin = Principal::Admin;
    let preview_t = Instant::now();
    let preview = app.preview_close(&admin, 1, "2026-10").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let preview_s = preview_t.elapsed().as_secs_f64();
    reset_peak();
    let before = peak_kib();
    let t = Instant::now();
    let close = app.close_period(&admin, &Actor::default(), 1, "2026-10").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = t.elapsed().as_secs_f64();
    let peak = peak_kib();
    assert_eq!(preview.rebate_total, close.rebate_total);
    println!(
        "| {} | {households} | {parts} | {:.2} s | {:.2} s | {} MiB | B {} → R {} + rebates {} ({} households) + dividends {} ({} members) |",
        if sqlite { "SQLite" } else { "PostgreSQL" },
        preview_s,
        took,
        peak.map_or("?".into(), |p| (p / 1024).to_string()),
        close.pool,
        close.reserve,
        close.rebate_total,
        close.rebates.len(),
        close.dividend_total,
        close.dividends.len(),
    );
    if let (Some(b), Some(p)) = (before, peak) {
        println!(
            "(peak resident memory of this process: {} MiB before the close, {} MiB during it)",
            b / 1024,
            p / 1024
        );
    }
    let report = hezuo_app::verify::run(&app).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    for c in &report.checks {
        if c.name.starts_with("periods") || c.name.contains("sum to zero") {
            println!("{} {}", if c.problems.is_empty() { "ok  " } else { "FAIL" }, c.name);
        }
    }
    Ok(())
}

/// The statements that build the month, for one backend.
pub(crate) fn generate(sqlite: bool, m: &Month) -> Vec<String> {
    let (nh, np, lpo) = (m.households, m.parts, m.lines_per_order);
    let world = World { villages: VILLAGES, households: nh, stations: 1, cooperatives: 1, products: 1 };
    let channel = m.channel.map_or(format!("1 + ((i - 1) / {lpo}) % 2"), |c| c.to_string());
    let parts = format!(
        "{} SELECT i AS n, (i - 1) / {lpo} + 1 AS o, (i - 1) % {lpo} + 1 AS line_no, {channel} AS channel, \
         {} AS day, 1 + (i % {nh}) AS household, 1000 + (i % 97) * 10 AS gross, CAST(NULL AS DATE) AS refund_day FROM p",
        books::seq("p", np),
        books::day(sqlite, "2026-10-01", &format!("((i - 1) / {lpo} + 1) % 31"))
    );
    let mut s = world.create(sqlite);
    s.extend(world.fill(&parts));
    s.extend(books::book(sqlite));
    s.extend(books::finish(sqlite));
    s
}
