//! Reconciliation of platform statements (SPEC §9): each imported statement with its rows as
//! the platform sent them, its malformed rows, and one item per external id with its status.

use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("statements")
                .col(big_pk_auto("id"))
                .col(big_integer("alliance_id"))
                .col(big_integer("channel_id"))
                .col(string_len("format", 16))
                .col(string_len("content_hash", 64))
                .col(big_integer("bytes"))
                .col(big_integer("rows"))
                .col(big_integer("rejected"))
                .col(timestamp_with_time_zone_null("first_settled_at"))
                .col(timestamp_with_time_zone_null("last_settled_at"))
                .col(date_null("range_from"))
                .col(date_null("range_to"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("statements", "alliance_id", "alliances"))
                .foreign_key(&mut fk("statements", "channel_id", "channels"))
                .to_owned(),
        )
        .await?;
        // The same file for the same channel is one statement: a re-import is answered with it.
        index(m, "statements", "statements_content_key", &["channel_id", "content_hash"], true).await?;
        index(m, "statements", "statements_alliance_idx", &["alliance_id", "id"], false).await?;

        m.create_table(
            Table::create()
                .table("statement_rows")
                .col(big_integer("statement_id"))
                .col(big_integer("line"))
                .col(string_len("external_id", 128))
                .col(string_len("kind", 16))
                .col(big_integer("amount"))
                .col(big_integer("fee"))
                .col(big_integer("net"))
                .col(timestamp_with_time_zone("settled_at"))
                // The row repeats an earlier row of the file exactly (id, kind, amounts, time).
                .col(boolean("repeated"))
                // Keyed by file line; no foreign key: rows are written only in their statement's
                // transaction, a million at a time, and a per-row check would double the cost.
                .primary_key(Index::create().col("statement_id").col("line"))
                .to_owned(),
        )
        .await?;
        index(m, "statement_rows", "statement_rows_external_idx", &["statement_id", "external_id"], false).await?;

        m.create_table(
            Table::create()
                .table("statement_errors")
                .col(big_pk_auto("id"))
                .col(big_integer("statement_id"))
                .col(big_integer("line"))
                .col(string("reason"))
                .foreign_key(&mut fk("statement_errors", "statement_id", "statements"))
                .to_owned(),
        )
        .await?;
        index(m, "statement_errors", "statement_errors_statement_idx", &["statement_id", "line"], false).await?;

        m.create_table(
            Table::create()
                .table("statement_items")
                .col(big_pk_auto("id"))
                .col(big_integer("statement_id"))
                .col(string_len("external_id", 128))
                .col(big_integer_null("order_id"))
                .col(string_len("status", 24))
                .col(big_integer_null("statement_amount"))
                .col(big_integer_null("book_amount"))
                .col(big_integer("difference"))
                .col(big_integer("rows"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(big_integer_null("resolved_by_user_id"))
                .col(big_integer_null("resolved_by_token_id"))
                .check(Expr::cust(
                    "status IN ('matched', 'amount_mismatch', 'missing_in_books', 'missing_in_statement', 'duplicate')",
                ))
                // No foreign key, like statement_rows: written only by the statement's own
                // matching, in its transaction.
                .to_owned(),
        )
        .await?;
        index(m, "statement_items", "statement_items_status_idx", &["statement_id", "status", "id"], false).await?;
        // The books' side of an order: its parts' refunded fees.
        index(m, "order_parts", "order_parts_order_idx", &["order_id"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("order_parts_order_idx").table("order_parts").to_owned()).await?;
        for t in ["statement_items", "statement_errors", "statement_rows", "statements"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
