//! Statements are imported in steps: rows are staged in short transactions while the file
//! streams in, and a statement becomes visible (`state = 'ready'`) in one short final
//! transaction, so that a large statement never holds SQLite's one writer for long. Failed
//! logins are kept per username (as a SHA-256 of it, never the text a person typed) so that
//! password guessing is limited across restarts and replicas.

use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("statements")
                .add_column(string_len("state", 16).default("ready").check(Expr::cust("state IN ('staging', 'ready')")))
                .to_owned(),
        )
        .await?;
        // Whether an earlier statement settled an external id: probed per id while matching.
        index(m, "statement_items", "statement_items_external_idx", &["external_id"], false).await?;
        m.create_table(
            Table::create()
                .table("login_failures")
                .col(big_pk_auto("id"))
                .col(string_len("username_hash", 64))
                .col(timestamp_with_time_zone("failed_at"))
                .to_owned(),
        )
        .await?;
        index(m, "login_failures", "login_failures_user_idx", &["username_hash", "failed_at"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("login_failures").to_owned()).await?;
        m.drop_index(Index::drop().name("statement_items_external_idx").table("statement_items").to_owned()).await?;
        m.alter_table(Table::alter().table("statements").drop_column("state").to_owned()).await?;
        Ok(())
    }
}
