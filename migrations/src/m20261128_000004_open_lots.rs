//! Orders draw the oldest lots that still hold stock; exhausted lots pile up at the front of
//! the FIFO order, so the draw reads a partial index of open lots only.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX lots_open_fifo_idx ON lots (product_id, received_at, id) WHERE remaining > 0",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX lots_open_fifo_idx").await.map(|_| ())
    }
}
