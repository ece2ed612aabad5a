//! Villages, households, cooperatives and their members and rules, alliances, stations,
//! channels, users and tokens.

use crate::helpers::{self, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

async fn unique_index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    helpers::index(m, table, name, cols, true).await
}

async fn index(
    m: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    helpers::index(m, table, name, cols, false).await
}

/// A rate column: BIGINT millionths in 0..=1_000_000.
fn rate(name: &'static str) -> ColumnDef {
    big_integer(name).check(Expr::col(name).between(0, 1_000_000)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("villages")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_len("code", 12))
                .col(big_integer_null("income_target").check(Expr::col("income_target").gte(0)))
                .col(created_at())
                .to_owned(),
        )
        .await?;
        unique_index(m, "villages", "villages_code_key", &["code"]).await?;

        m.create_table(
            Table::create()
                .table("households")
                .col(big_pk_auto("id"))
                .col(big_integer("village_id"))
                .col(string("name"))
                .col(integer("members").check(Expr::col("members").gte(1)))
                .col(created_at())
                .foreign_key(&mut fk("households", "village_id", "villages"))
                .to_owned(),
        )
        .await?;
        index(m, "households", "households_village_idx", &["village_id"]).await?;

        m.create_table(
            Table::create()
                .table("cooperatives")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(created_at())
                .to_owned(),
        )
        .await?;

        // A member is a household or a village collective, never both.
        m.create_table(
            Table::create()
                .table("cooperative_members")
                .col(big_pk_auto("id"))
                .col(big_integer("cooperative_id"))
                .col(big_integer_null("household_id"))
                .col(big_integer_null("village_id"))
                .col(big_integer("capital").check(Expr::col("capital").gte(0)))
                .col(created_at())
                .check(Expr::cust(
                    "(household_id IS NULL AND village_id IS NOT NULL) OR (household_id IS NOT NULL AND village_id IS NULL)",
                ))
                .foreign_key(&mut fk("cooperative_members", "cooperative_id", "cooperatives"))
                .foreign_key(&mut fk("cooperative_members", "household_id", "households"))
                .foreign_key(&mut fk("cooperative_members", "village_id", "villages"))
                .to_owned(),
        )
        .await?;
        unique_index(
            m,
            "cooperative_members",
            "cooperative_members_household_key",
            &["cooperative_id", "household_id"],
        )
        .await?;
        unique_index(m, "cooperative_members", "cooperative_members_village_key", &["cooperative_id", "village_id"])
            .await?;

        m.create_table(
            Table::create()
                .table("rule_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("cooperative_id"))
                .col(date("effective_from"))
                .col(rate("household_share"))
                .col(rate("station_fee_rate"))
                .col(rate("collective_rate"))
                .col(rate("reserve_rate"))
                .col(rate("rebate_rate"))
                .col(created_at())
                .check(Expr::cust("rebate_rate >= 600000"))
                .check(Expr::cust("household_share + station_fee_rate + collective_rate <= 1000000"))
                .foreign_key(&mut fk("rule_versions", "cooperative_id", "cooperatives"))
                .to_owned(),
        )
        .await?;
        unique_index(m, "rule_versions", "rule_versions_effective_key", &["cooperative_id", "effective_from"]).await?;

        m.create_table(
            Table::create().table("alliances").col(big_pk_auto("id")).col(string("name")).col(created_at()).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("stations")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(big_integer("village_id"))
                .col(big_integer("cooperative_id"))
                .col(big_integer("alliance_id"))
                .col(created_at())
                .foreign_key(&mut fk("stations", "village_id", "villages"))
                .foreign_key(&mut fk("stations", "cooperative_id", "cooperatives"))
                .foreign_key(&mut fk("stations", "alliance_id", "alliances"))
                .to_owned(),
        )
        .await?;
        index(m, "stations", "stations_alliance_idx", &["alliance_id"]).await?;
        index(m, "stations", "stations_cooperative_idx", &["cooperative_id"]).await?;

        m.create_table(
            Table::create()
                .table("channels")
                .col(big_pk_auto("id"))
                .col(big_integer("alliance_id"))
                .col(string_len("code", 32))
                .col(string("name"))
                .col(rate("fee_rate"))
                .col(created_at())
                .foreign_key(&mut fk("channels", "alliance_id", "alliances"))
                .to_owned(),
        )
        .await?;
        unique_index(m, "channels", "channels_code_key", &["alliance_id", "code"]).await?;

        // The scope columns a role needs are set and the others are empty (SPEC §1 roles).
        let scope_check = "(role = 'admin' AND alliance_id IS NULL AND station_id IS NULL AND village_id IS NULL) \
            OR (role = 'alliance' AND alliance_id IS NOT NULL AND station_id IS NULL AND village_id IS NULL) \
            OR (role = 'staff' AND alliance_id IS NULL AND station_id IS NOT NULL AND village_id IS NULL) \
            OR (role = 'village' AND alliance_id IS NULL AND station_id IS NULL AND village_id IS NOT NULL)";
        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string_len("username", 64))
                .col(string("password_hash"))
                .col(string_len("role", 16))
                .col(big_integer_null("alliance_id"))
                .col(big_integer_null("station_id"))
                .col(big_integer_null("village_id"))
                .col(boolean("disabled").default(false))
                .col(created_at())
                .check(Expr::cust(scope_check))
                .foreign_key(&mut fk("users", "alliance_id", "alliances"))
                .foreign_key(&mut fk("users", "station_id", "stations"))
                .foreign_key(&mut fk("users", "village_id", "villages"))
                .to_owned(),
        )
        .await?;
        unique_index(m, "users", "users_username_key", &["username"]).await?;

        m.create_table(
            Table::create()
                .table("tokens")
                .col(big_pk_auto("id"))
                .col(string_len("token_hash", 64))
                .col(big_integer_null("user_id"))
                .col(string_len("role", 16))
                .col(big_integer_null("alliance_id"))
                .col(big_integer_null("station_id"))
                .col(big_integer_null("village_id"))
                .col(string("label"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("expires_at"))
                .check(Expr::cust(scope_check))
                .foreign_key(&mut fk("tokens", "user_id", "users"))
                .foreign_key(&mut fk("tokens", "alliance_id", "alliances"))
                .foreign_key(&mut fk("tokens", "station_id", "stations"))
                .foreign_key(&mut fk("tokens", "village_id", "villages"))
                .to_owned(),
        )
        .await?;
        unique_index(m, "tokens", "tokens_hash_key", &["token_hash"]).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "tokens",
            "users",
            "channels",
            "stations",
            "alliances",
            "rule_versions",
            "cooperative_members",
            "cooperatives",
            "households",
            "villages",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
