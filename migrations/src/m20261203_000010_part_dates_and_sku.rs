//! A part carries its order's booking date, so that a household's member account for a year
//! reads that year's parts from one index (household, date) instead of probing the order of
//! every part the household ever sold. Products get the merchant code (`sku`, 商家编码) that
//! platform orders name them by: unique per station when present.

use crate::helpers::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds a NOT NULL column only with a default; every part written from now on
        // names its date, and the existing ones are filled from their orders below.
        m.alter_table(
            Table::alter().table("order_parts").add_column(date("booking_date").default("2000-01-01")).to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE order_parts SET booking_date = (SELECT o.booking_date FROM orders o WHERE o.id = order_parts.order_id)",
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE order_parts ALTER COLUMN booking_date DROP DEFAULT").await?;
        }
        db.execute_unprepared("DROP INDEX order_parts_household_idx").await?;
        index(m, "order_parts", "order_parts_household_day_idx", &["household_id", "booking_date"], false).await?;

        m.alter_table(Table::alter().table("products").add_column(string_len_null("sku", 64)).to_owned()).await?;
        index(m, "products", "products_station_sku_key", &["station_id", "sku"], true).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("products_station_sku_key").table("products").to_owned()).await?;
        m.alter_table(Table::alter().table("products").drop_column("sku").to_owned()).await?;
        m.get_connection().execute_unprepared("DROP INDEX order_parts_household_day_idx").await?;
        index(m, "order_parts", "order_parts_household_idx", &["household_id"], false).await?;
        m.alter_table(Table::alter().table("order_parts").drop_column("booking_date").to_owned()).await?;
        Ok(())
    }
}
