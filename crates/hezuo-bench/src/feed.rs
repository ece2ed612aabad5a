//! The feed benchmark (issue: platform integrations): a fake Taobao shop on 127.0.0.1 with
//! `orders` paid orders over the last day, and one feed run that books them all through the
//! booking path of `POST /orders`; orders per second of the whole run (windows, pages, HTTP
//! to the fake, booking), set beside the one-client figure of `orders`.

use crate::Bench;
use anyhow::{Context, Result, ensure};
use chrono::{TimeDelta, Utc};
use hezuo_app::Principal;
use hezuo_app::feeds::PutFeed;
use hezuo_core::Money;
use hezuo_platforms::Credentials;
use hezuo_tests::fake_platform::{FakeLine, FakeOrder, FakePlatform, FakeStatus, Kind};
use std::time::Instant;

pub(crate) async fn run(b: &Bench, orders: usize) -> Result<()> {
    let e = |e: hezuo_app::AppError| anyhow::anyhow!("{e}");
    let admin = Principal::Admin;
    crate::orders::stocked_product_with_sku(
        b,
        "阳山水蜜桃".into(),
        Some("BENCH-1".into()),
        orders.div_ceil(1_000),
        "1000",
    )
    .await?;

    let credentials = Credentials::new("bench-app", "bench-secret", Some("bench-token".into()));
    let fake = FakePlatform::start(Kind::Taobao, credentials).await;
    let now = Utc::now();
    // Over the last day, up to two minutes ago: a run reads up to a minute ago.
    let start = now - TimeDelta::days(1);
    let step = (TimeDelta::days(1) - TimeDelta::minutes(2)).num_milliseconds() / i64::try_from(orders.max(1))?;
    for i in 0..orders {
        let at = start + TimeDelta::milliseconds(step * i64::try_from(i)?);
        let id = format!("TB{i:08}");
        fake.put_order(FakeOrder::new(&id, FakeStatus::Paid, at).line(FakeLine::new(
            format!("{id}-1"),
            "BENCH-1",
            1,
            Money::from_cents(990),
        )));
    }
    let channels = b.app.list_channels(&admin, hezuo_app::PageRequest { limit: 10, after: None }).await.map_err(e)?;
    let taobao = channels.items.iter().find(|c| c.code == "taobao").context("the taobao channel")?.id;
    let feed = PutFeed {
        platform: "taobao".into(),
        base_url: fake.base_url(),
        app_key: "bench-app".into(),
        app_secret: "bench-secret".into(),
        access_token: Some("bench-token".into()),
        enabled: false,
        interval_seconds: 300,
        start_at: (start - TimeDelta::minutes(1)).fixed_offset(),
    };
    b.app.put_feed(&admin, taobao, feed).await.map_err(e)?;

    let t = Instant::now();
    let run = b.app.sync_feed(&admin, taobao).await.map_err(e)?;
    let took = t.elapsed();
    ensure!(run.error.is_none(), "the run stopped: {:?}", run.error);
    ensure!(run.orders_created == i32::try_from(orders)?, "{} of {orders} orders booked", run.orders_created);
    ensure!(fake.rejected() == 0, "the fake refused {} requests", fake.rejected());
    let requests = fake.requests().len();
    let report = hezuo_app::verify::run(&b.app).await.map_err(e)?;
    ensure!(report.ok(), "hezuo verify failed:\n{report}");
    println!("| orders | requests to the platform | run | orders/s |");
    println!("| --- | --- | --- | --- |");
    println!("| {orders} | {requests} | {:.1} s | {:.0} |", took.as_secs_f64(), orders as f64 / took.as_secs_f64());
    Ok(())
}
