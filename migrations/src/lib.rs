//! One migration set for SQLite and PostgreSQL. Money is BIGINT cents, quantities BIGINT
//! thousandths, rates BIGINT millionths: never REAL, never float.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261128_000001_foundation;
mod m20261128_000002_catalog;
mod m20261128_000003_orders_ledger;
mod m20261128_000004_open_lots;
mod m20261128_000005_periods;
mod m20261128_000006_reconciliation;
mod m20261129_000007_striped_sums;
mod m20261201_000008_staging_and_logins;
mod m20261202_000009_reports;
mod m20261203_000010_part_dates_and_sku;
mod m20261203_000011_feeds;
mod m20261203_000012_webhooks;
mod m20261208_000013_counter;

pub use m20261208_000013_counter::{TRACE_ALPHABET, TRACE_CODE_LEN, trace_code};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_catalog::Migration),
            Box::new(m20261128_000003_orders_ledger::Migration),
            Box::new(m20261128_000004_open_lots::Migration),
            Box::new(m20261128_000005_periods::Migration),
            Box::new(m20261128_000006_reconciliation::Migration),
            Box::new(m20261129_000007_striped_sums::Migration),
            Box::new(m20261201_000008_staging_and_logins::Migration),
            Box::new(m20261202_000009_reports::Migration),
            Box::new(m20261203_000010_part_dates_and_sku::Migration),
            Box::new(m20261203_000011_feeds::Migration),
            Box::new(m20261203_000012_webhooks::Migration),
            Box::new(m20261208_000013_counter::Migration),
        ]
    }
}
