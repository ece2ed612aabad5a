//! Products, household lots (订单收购 intake) and the append-only stock movement journal.

use crate::helpers::{self, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    helpers::index(m, table, name, cols, false).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("products")
                .col(big_pk_auto("id"))
                .col(big_integer("station_id"))
                .col(string("name"))
                .col(string_len("unit", 16))
                .col(big_integer("price").check(Expr::col("price").gt(0)))
                .col(string_len("status", 16))
                .col(string_null("category"))
                .col(text_null("description"))
                // JSON array of image URLs.
                .col(text("image_urls"))
                .col(big_integer_null("low_stock_threshold").check(Expr::col("low_stock_threshold").gte(0)))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .check(Expr::cust("status IN ('draft', 'listed', 'delisted')"))
                .foreign_key(&mut fk("products", "station_id", "stations"))
                .to_owned(),
        )
        .await?;
        index(m, "products", "products_station_idx", &["station_id", "id"]).await?;

        m.create_table(
            Table::create()
                .table("lots")
                .col(big_pk_auto("id"))
                .col(big_integer("product_id"))
                .col(big_integer("station_id"))
                .col(big_integer("household_id"))
                .col(big_integer("village_id"))
                .col(big_integer("received").check(Expr::col("received").gt(0)))
                .col(big_integer("remaining").check(Expr::col("remaining").gte(0)))
                .col(big_integer("floor_price").check(Expr::col("floor_price").gte(0)))
                .col(timestamp_with_time_zone("received_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("lots", "product_id", "products"))
                .foreign_key(&mut fk("lots", "station_id", "stations"))
                .foreign_key(&mut fk("lots", "household_id", "households"))
                .foreign_key(&mut fk("lots", "village_id", "villages"))
                .to_owned(),
        )
        .await?;
        // FIFO draw order: oldest received_at, then lower id.
        index(m, "lots", "lots_fifo_idx", &["product_id", "received_at", "id"]).await?;
        index(m, "lots", "lots_station_idx", &["station_id", "id"]).await?;
        index(m, "lots", "lots_household_idx", &["household_id"]).await?;

        // Every change of a lot's remaining, never updated or deleted.
        m.create_table(
            Table::create()
                .table("stock_movements")
                .col(big_pk_auto("id"))
                .col(big_integer("lot_id"))
                .col(big_integer("product_id"))
                .col(string_len("kind", 16))
                .col(big_integer("quantity"))
                .col(string_len_null("reason", 32))
                .col(string_null("note"))
                .col(big_integer_null("order_line_id"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .col(timestamp_with_time_zone("created_at"))
                .check(Expr::cust("kind IN ('intake', 'sale', 'restock', 'adjustment')"))
                .check(Expr::cust(
                    "(kind = 'intake' AND quantity > 0) OR (kind = 'sale' AND quantity < 0) \
                     OR (kind = 'restock' AND quantity > 0) OR (kind = 'adjustment' AND quantity <> 0)",
                ))
                .check(Expr::cust("(kind = 'adjustment') = (reason IS NOT NULL)"))
                .foreign_key(&mut fk("stock_movements", "lot_id", "lots"))
                .foreign_key(&mut fk("stock_movements", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        index(m, "stock_movements", "stock_movements_lot_idx", &["lot_id", "id"]).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["stock_movements", "lots", "products"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
