//! `hezuo-bench fairness`: while one tenant's bulk work runs (a lots import and a statement
//! upload), another tenant's station writes one product after another; prints how long those
//! single writes waited and whether any failed.

use crate::Bench;
use anyhow::{Context, Result, bail};
use hezuo_app::Principal;
use hezuo_app::Role;
use hezuo_app::auth::ScopeIds;
use hezuo_app::setup::{CreateAlliance, CreateStation};
use hezuo_db::sea_orm::EntityTrait;
use std::time::{Duration, Instant};

fn e(e: hezuo_app::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub(crate) async fn run(b: &Bench, lots: usize, statement_rows: usize) -> Result<()> {
    let admin = Principal::Admin;
    let station = hezuo_db::entities::station::Entity::find_by_id(b.station)
        .one(&b.app.db)
        .await?
        .context("the bench station")?;
    let alliance = crate::token(
        &b.app,
        Role::Alliance,
        ScopeIds { alliance_id: Some(station.alliance_id), ..ScopeIds::default() },
    )
    .await?;
    let other_alliance = b.app.create_alliance(&admin, CreateAlliance { name: "另一联盟".into() }).await.map_err(e)?;
    let other = b
        .app
        .create_station(
            &admin,
            CreateStation {
                name: "另一服务站".into(),
                village_id: station.village_id,
                cooperative_id: station.cooperative_id,
                alliance_id: other_alliance.id,
                phone: None,
            },
        )
        .await
        .map_err(e)?;
    let other_staff =
        crate::token(&b.app, Role::Staff, ScopeIds { station_id: Some(other.id), ..ScopeIds::default() }).await?;
    let product = b
        .http
        .post(format!("{}/api/v1/stations/{}/products", b.base, b.station))
        .bearer_auth(&b.staff)
        .json(&serde_json::json!({"name": "水蜜桃", "unit": "kg", "price": "10.00", "status": "listed"}))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?["id"]
        .as_i64()
        .context("product id")?;
    let mut lots_file = String::from("product_id,household_id,quantity,floor_price,received_at\n");
    for i in 0..lots {
        lots_file.push_str(&format!("{product},{},1,5.00,2026-06-01 08:00\n", b.households[i % b.households.len()]));
    }
    let mut statement = String::from("external_id,kind,amount,fee,settled_at\n");
    for i in 0..statement_rows {
        statement.push_str(&format!("TB-{i:08},sale,10.00,0.50,2026-03-10 09:00:00\n"));
    }
    println!(
        "bulk work of one tenant: lots:import of {lots} rows and a {statement_rows}-row statement ({:.1} MiB), at once",
        statement.len() as f64 / (1024.0 * 1024.0)
    );
    let upload = |path: String, token: String, body: String| {
        let http = b.http.clone();
        let url = format!("{}{path}", b.base);
        tokio::spawn(async move {
            let started = Instant::now();
            let res = http.post(url).bearer_auth(token).header("content-type", "text/csv").body(body).send().await?;
            let status = res.status();
            let text = res.text().await?;
            anyhow::Ok((status, started.elapsed(), text))
        })
    };
    let lots_job = upload(format!("/api/v1/stations/{}/lots:import", b.station), b.staff.clone(), lots_file);
    let statement_job =
        upload("/api/v1/reconciliation/statements?channel=taobao&format=generic".to_owned(), alliance, statement);
    let mut waits: Vec<Duration> = Vec::new();
    let mut failed = 0usize;
    while !(lots_job.is_finished() && statement_job.is_finished()) {
        let started = Instant::now();
        let res = b
            .http
            .post(format!("{}/api/v1/stations/{}/products", b.base, other.id))
            .bearer_auth(&other_staff)
            .json(&serde_json::json!({"name": format!("白凤桃{}", waits.len()), "unit": "kg", "price": "8.00"}))
            .send()
            .await?;
        if res.status() != reqwest::StatusCode::CREATED {
            failed += 1;
            eprintln!("another tenant's write failed: {} {}", res.status(), res.text().await?);
        }
        waits.push(started.elapsed());
    }
    for (name, job) in [("lots:import", lots_job), ("statement", statement_job)] {
        let (status, took, text) = job.await??;
        if !status.is_success() {
            bail!("{name}: {status} {text}");
        }
        println!("{name:<12} {status} in {:.2} s", took.as_secs_f64());
    }
    waits.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
    println!(
        "another tenant's writes meanwhile: {} ({failed} failed), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        waits.len(),
        ms(at(0.50)),
        ms(at(0.99)),
        ms(*waits.last().context("no writes were made")?)
    );
    let report = hezuo_app::verify::run(&b.app).await.map_err(e)?;
    if !report.ok() || failed > 0 {
        bail!("{failed} writes failed; verify:\n{report}");
    }
    Ok(())
}
