//! Striped per-day sums: `account_days` and `basis_days` gain a `slot` in their key. A booking
//! adds to the row of its slot (its ledger transaction's id modulo the slot count), so that
//! concurrent bookings on the same accounts — every sale credits the same station, pool,
//! channel and fee accounts — update different rows instead of queuing on one row's lock until
//! each commits. Readers already sum the rows of a day. The tables are rebuilt (SQLite cannot
//! change a primary key in place); existing sums go to slot 0.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn account_days(name: &str, slot: bool) -> TableCreateStatement {
    let mut t = Table::create()
        .table(Alias::new(name))
        .col(big_integer("alliance_id"))
        .col(string_len("account", 64))
        .col(date("day"))
        .col(big_integer("amount"))
        .col(big_integer("postings"))
        .to_owned();
    let mut key = Index::create().col("alliance_id").col("account").col("day").to_owned();
    if slot {
        t.col(integer("slot").default(0));
        key.col("slot");
    }
    t.primary_key(&mut key).to_owned()
}

fn basis_days(name: &str, slot: bool) -> TableCreateStatement {
    let mut t = Table::create()
        .table(Alias::new(name))
        .col(big_integer("cooperative_id"))
        .col(date("day"))
        .col(big_integer("household_id"))
        .col(big_integer("amount"))
        .to_owned();
    let mut key = Index::create().col("cooperative_id").col("day").col("household_id").to_owned();
    if slot {
        t.col(integer("slot").default(0));
        key.col("slot");
    }
    t.primary_key(&mut key).to_owned()
}

/// Replaces `table` by `rebuilt` (created as `{table}_new`), filled by `fill` from `table`, and
/// gives it `indexes`: one batch on one connection, so that every step sees the one before.
async fn rebuild(
    m: &SchemaManager<'_>,
    table: &str,
    rebuilt: TableCreateStatement,
    fill: String,
    indexes: &[IndexCreateStatement],
) -> Result<(), DbErr> {
    let backend = m.get_database_backend();
    let new = format!("{table}_new");
    let mut steps = vec![backend.build(&rebuilt).to_string(), fill];
    steps.push(backend.build(&Table::drop().table(Alias::new(table)).to_owned()).to_string());
    steps.push(backend.build(&Table::rename().table(Alias::new(new), Alias::new(table)).to_owned()).to_string());
    steps.extend(indexes.iter().map(|i| backend.build(i).to_string()));
    m.get_connection().execute_unprepared(&steps.join(";\n")).await.map(|_| ())
}

fn account_index(name: &str) -> IndexCreateStatement {
    Index::create().name(name).table("account_days").col("account").col("day").to_owned()
}

const ACCOUNT_DAY_COLUMNS: &str = "alliance_id, account, day, amount, postings";
const BASIS_DAY_COLUMNS: &str = "cooperative_id, day, household_id, amount";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let copy =
            |table: &str, columns: &str| format!("INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}");
        let index = account_index("account_days_striped_account_idx");
        rebuild(
            m,
            "account_days",
            account_days("account_days_new", true),
            copy("account_days", ACCOUNT_DAY_COLUMNS),
            &[index],
        )
        .await?;
        rebuild(m, "basis_days", basis_days("basis_days_new", true), copy("basis_days", BASIS_DAY_COLUMNS), &[]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Back to one row per key: the slots' sums added up.
        let key = "alliance_id, account, day";
        let fill = format!(
            "INSERT INTO account_days_new ({ACCOUNT_DAY_COLUMNS}) SELECT {key}, SUM(amount), SUM(postings) FROM account_days GROUP BY {key}"
        );
        let index = account_index("account_days_account_idx");
        rebuild(m, "account_days", account_days("account_days_new", false), fill, &[index]).await?;
        let key = "cooperative_id, day, household_id";
        let fill = format!(
            "INSERT INTO basis_days_new ({BASIS_DAY_COLUMNS}) SELECT {key}, SUM(amount) FROM basis_days GROUP BY {key}"
        );
        rebuild(m, "basis_days", basis_days("basis_days_new", false), fill, &[]).await
    }
}
