//! `reconcile`: a statement of many rows against as many booked orders, imported and matched
//! through the use case, timed, with this process's peak memory during the import.

use crate::close::{Month, generate, peak_kib, reset_peak};
use anyhow::{Context, Result};
use hezuo_app::{Actor, App, Config, Principal};
use hezuo_db::sea_orm::ConnectionTrait;
use std::fmt::Write as _;
use std::time::Instant;

pub async fn run(database: Option<String>, orders: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| hezuo_db::sqlite_url(&dir.path().join("reconcile.db")));
    let app = App::open(Config::with_database(url)).await.context("open database")?;
    let sqlite = hezuo_db::backend(&app.db) == hezuo_db::Backend::Sqlite;
    println!("generating {orders} taobao orders (October 2026)…");
    let t = Instant::now();
    let month = Month { households: 10_000, parts: orders, lines_per_order: 1, channel: Some(2) };
    for sql in generate(sqlite, &month) {
        app.db.execute_unprepared(&sql).await.with_context(|| sql.chars().take(120).collect::<String>())?;
    }
    println!("generated in {:.1} s", t.elapsed().as_secs_f64());

    // The platform's statement: one sale row per order with the generator's amounts, except
    // that every 1,000th order settles a cent more, every 5,000th is absent, and 100 rows name
    // orders the books do not have.
    let mut csv = String::with_capacity(orders * 56);
    csv.push_str("external_id,kind,amount,fee,settled_at\n");
    for i in 1..=orders {
        if i % 5_000 == 0 {
            continue;
        }
        let gross = 1000 + (i % 97) * 10;
        let fee = (gross * 5 + 50) / 100;
        let amount = if i % 1_000 == 0 { gross + 1 } else { gross };
        let day = 1 + (i % 31);
        writeln!(
            csv,
            "B{i},sale,{}.{:02},{}.{:02},2026-10-{day:02} 12:00:00",
            amount / 100,
            amount % 100,
            fee / 100,
            fee % 100
        )?;
    }
    for i in 0..100 {
        writeln!(csv, "NOBOOK-{i},sale,10.00,0.50,2026-10-15 12:00:00")?;
    }
    let body = csv.into_bytes();
    println!("statement: {} rows, {:.1} MiB", orders - orders / 5_000 + 100, body.len() as f64 / 1048576.0);

    let alliance = Principal::Alliance { alliance_id: 1 };
    reset_peak();
    let before = peak_kib();
    let t = Instant::now();
    let done = app
        .import_statement(&alliance, &Actor::default(), "taobao", "generic", &body)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = t.elapsed().as_secs_f64();
    let peak = peak_kib();
    let s = &done.statement;
    let n = |k: &str| s.summary.get(k).map_or(0, |x| x.count);
    println!(
        "| {} | {orders} | {} | {:.2} s | {} MiB | matched {}, amount_mismatch {}, missing_in_books {}, missing_in_statement {}, duplicate {} |",
        if sqlite { "SQLite" } else { "PostgreSQL" },
        s.rows,
        took,
        peak.map_or("?".into(), |p| (p / 1024).to_string()),
        n("matched"),
        n("amount_mismatch"),
        n("missing_in_books"),
        n("missing_in_statement"),
        n("duplicate"),
    );
    if let (Some(b), Some(p)) = (before, peak) {
        println!(
            "(peak resident memory of this process: {} MiB before the import, the statement body included; {} MiB during it)",
            b / 1024,
            p / 1024
        );
    }
    Ok(())
}
