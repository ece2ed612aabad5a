//! `close`: one cooperative with many households and a month of many sale parts, then the
//! period close through the use case, timed, with this process's peak memory during the close.
//!
//! The month is generated set-based in the database (orders, lines, lot parts, sale
//! transactions with all their postings, per-day account sums and per-day bases, as bookings
//! would have written them); stock journals are not generated, since the close does not read
//! them.

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
    let (nh, nv, np, lpo) = (m.households, VILLAGES, m.parts, m.lines_per_order);
    let channel = m.channel.map_or(format!("1 + ((i - 1) / {lpo}) % 2"), |c| c.to_string());
    let ts = if sqlite { "'2026-10-01T00:00:00+00:00'" } else { "TIMESTAMPTZ '2026-10-01 00:00:00+00'" };
    let day = |n: &str| {
        if sqlite {
            format!("date('2026-10-01', '+' || ({n} % 31) || ' days')")
        } else {
            format!("(DATE '2026-10-01' + ({n} % 31))")
        }
    };
    let seq = |name: &str, upto: usize| {
        format!("WITH RECURSIVE {name}(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM {name} WHERE i < {upto})")
    };
    let mut s = vec![
        format!(
            "INSERT INTO villages (id, name, code, income_target, created_at) {} \
             SELECT i, 'V' || i, CAST(320206100000 + i AS TEXT), NULL, {ts} FROM v",
            seq("v", nv)
        ),
        format!(
            "INSERT INTO households (id, village_id, name, members, created_at) {} \
             SELECT i, 1 + (i % {nv}), 'H' || i, 1 + (i % 5), {ts} FROM h",
            seq("h", nh)
        ),
        format!("INSERT INTO cooperatives (id, name, created_at) VALUES (1, 'bench', {ts})"),
        format!(
            "INSERT INTO cooperative_members (id, cooperative_id, household_id, village_id, capital, created_at) {} \
             SELECT i, 1, i, NULL, 100000 + (i % 7) * 50000, {ts} FROM h",
            seq("h", nh)
        ),
        format!(
            "INSERT INTO cooperative_members (id, cooperative_id, household_id, village_id, capital, created_at) {} \
             SELECT {nh} + i, 1, NULL, i, 5000000, {ts} FROM v",
            seq("v", nv)
        ),
        format!(
            "INSERT INTO rule_versions (id, cooperative_id, effective_from, household_share, station_fee_rate, \
             collective_rate, reserve_rate, rebate_rate, created_at) \
             VALUES (1, 1, '2020-01-01', 700000, 50000, 50000, 100000, 600000, {ts})"
        ),
        format!("INSERT INTO alliances (id, name, created_at) VALUES (1, 'bench', {ts})"),
        format!(
            "INSERT INTO stations (id, name, village_id, cooperative_id, alliance_id, created_at) \
             VALUES (1, 'bench', 1, 1, 1, {ts})"
        ),
        format!(
            "INSERT INTO channels (id, alliance_id, code, name, fee_rate, created_at) \
             VALUES (1, 1, 'own', 'own', 0, {ts}), (2, 1, 'taobao', 'taobao', 50000, {ts})"
        ),
        format!(
            "INSERT INTO products (id, station_id, name, unit, price, status, category, description, image_urls, \
             low_stock_threshold, created_at, updated_at) VALUES (1, 1, 'peaches', 'kg', 2000, 'listed', NULL, NULL, '[]', NULL, {ts}, {ts})"
        ),
        format!(
            "INSERT INTO lots (id, product_id, station_id, household_id, village_id, received, remaining, floor_price, \
             received_at, created_at) {} SELECT i, 1, 1, i, 1 + (i % {nv}), 1000000000, 1000000000, 500, {ts}, {ts} FROM h",
            seq("h", nh)
        ),
        // One row per lot part with its amounts (SPEC §4 with the rules above, floor below share).
        "CREATE TABLE bench_gen (n BIGINT PRIMARY KEY, o BIGINT, channel BIGINT, day DATE, household BIGINT, \
         village BIGINT, gross BIGINT, fee BIGINT, h BIGINT, s BIGINT, k BIGINT, c BIGINT)"
            .to_owned(),
        format!(
            "INSERT INTO bench_gen {} SELECT n, o, channel, day, household, village, gross, fee, \
               (gross - fee) * 7 / 10, (gross - fee) * 5 / 100, (gross - fee) * 5 / 100, \
               (gross - fee) - (gross - fee) * 7 / 10 - 2 * ((gross - fee) * 5 / 100) \
             FROM (SELECT i AS n, (i - 1) / {lpo} + 1 AS o, {channel} AS channel, \
                   {} AS day, 1 + (i % {nh}) AS household, 1 + ((1 + (i % {nh})) % {nv}) AS village, \
                   1000 + (i % 97) * 10 AS gross, \
                   CASE WHEN {channel} = 2 THEN ((1000 + (i % 97) * 10) * 5 + 50) / 100 ELSE 0 END AS fee \
                   FROM p) g",
            seq("p", np),
            day(&format!("((i - 1) / {lpo} + 1)"))
        ),
        format!(
            "INSERT INTO orders (id, station_id, alliance_id, cooperative_id, channel_id, external_id, request_hash, \
             placed_at, booking_date, status, tracking_number, gross, fee, refunded, created_at, updated_at) \
             SELECT o, 1, 1, 1, MIN(channel), 'B' || o, 'bench', {ts}, MIN(day), 'placed', NULL, SUM(gross), SUM(fee), 0, {ts}, {ts} \
             FROM bench_gen GROUP BY o"
        ),
        format!(
            "INSERT INTO order_lines (id, order_id, line_no, product_id, quantity, unit_price, gross, fee, refunded, returned) \
             SELECT n, o, (n - 1) % {lpo}, 1, 1000, gross, gross, fee, 0, 0 FROM bench_gen"
        ),
        "INSERT INTO order_parts (id, order_id, line_id, seq, lot_id, household_id, village_id, quantity, returned, \
         gross, fee, household, station, collective, pool, refunded_gross, refunded_fee, refunded_household, \
         refunded_station, refunded_collective, refunded_pool) \
         SELECT n, o, n, 0, household, household, village, 1000, 0, gross, fee, h, s, k, c, 0, 0, 0, 0, 0, 0 FROM bench_gen"
            .to_owned(),
        format!(
            "INSERT INTO ledger_transactions (id, kind, cooperative_id, alliance_id, order_id, refund_id, booking_date, memo, created_at) \
             SELECT o, 'sale', 1, 1, o, NULL, MIN(day), 'order', {ts} FROM bench_gen GROUP BY o"
        ),
        "INSERT INTO postings (transaction_id, alliance_id, cooperative_id, account, amount, booking_date, line_id) \
         SELECT o, 1, 1, account, amount, day, n FROM ( \
           SELECT o, n, day, CASE channel WHEN 1 THEN 'channel:own' ELSE 'channel:taobao' END AS account, -gross AS amount FROM bench_gen \
           UNION ALL SELECT o, n, day, 'fees:channel:taobao', fee FROM bench_gen WHERE fee <> 0 \
           UNION ALL SELECT o, n, day, 'household:' || household, h FROM bench_gen \
           UNION ALL SELECT o, n, day, 'station:1', s FROM bench_gen \
           UNION ALL SELECT o, n, day, 'village:' || village, k FROM bench_gen \
           UNION ALL SELECT o, n, day, 'coop:1:pool', c FROM bench_gen WHERE c <> 0) x"
            .to_owned(),
        "INSERT INTO account_days (alliance_id, account, day, amount, postings) \
         SELECT alliance_id, account, booking_date, SUM(amount), COUNT(*) FROM postings GROUP BY alliance_id, account, booking_date"
            .to_owned(),
        "INSERT INTO basis_days (cooperative_id, day, household_id, amount) \
         SELECT 1, day, household, SUM(gross - fee) FROM bench_gen GROUP BY day, household"
            .to_owned(),
        "DROP TABLE bench_gen".to_owned(),
    ];
    if !sqlite {
        for t in [
            "villages",
            "households",
            "cooperatives",
            "cooperative_members",
            "rule_versions",
            "alliances",
            "stations",
            "channels",
            "products",
            "lots",
            "orders",
            "order_lines",
            "order_parts",
            "ledger_transactions",
        ] {
            s.push(format!("SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"));
        }
        s.push("ANALYZE".to_owned());
    } else {
        s.push("ANALYZE".to_owned());
    }
    s
}
