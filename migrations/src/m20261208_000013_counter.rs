//! The station's counter and produce labels: an order's payment method (how a counter sale
//! was paid; null for platform orders), the station's phone (the issuer on labels), the
//! village's township (the place of origin on labels), and each lot's trace code — random,
//! unguessable, never an id — that the label's QR code carries to the public trace page.

use crate::helpers::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Letters and digits without the ones a person misreads on a printed label (0/O, 1/I/l).
pub const TRACE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
pub const TRACE_CODE_LEN: usize = 10;

/// A new trace code: 10 characters of 56, about 58 bits.
pub fn trace_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..TRACE_CODE_LEN).map(|_| char::from(TRACE_ALPHABET[rng.random_range(0..TRACE_ALPHABET.len())])).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "ALTER TABLE orders ADD COLUMN payment_method VARCHAR(16) NULL \
             CHECK (payment_method IN ('cash', 'wechat', 'alipay', 'other'))",
        )
        .await?;
        db.execute_unprepared("ALTER TABLE stations ADD COLUMN phone VARCHAR(32) NULL").await?;
        db.execute_unprepared("ALTER TABLE villages ADD COLUMN township VARCHAR(64) NULL").await?;
        db.execute_unprepared("ALTER TABLE lots ADD COLUMN trace_code VARCHAR(16) NULL").await?;
        // Lots received before labels existed get their codes now.
        let backend = m.get_database_backend();
        let ids = db.query_all_raw(Statement::from_string(backend, "SELECT id FROM lots ORDER BY id")).await?;
        for row in ids {
            let id: i64 = row.try_get_by_index(0)?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                if backend == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
                    "UPDATE lots SET trace_code = $1 WHERE id = $2"
                } else {
                    "UPDATE lots SET trace_code = ? WHERE id = ?"
                },
                [trace_code().into(), id.into()],
            ))
            .await?;
        }
        index(m, "lots", "lots_trace_code_key", &["trace_code"], true).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("lots_trace_code_key").table("lots").to_owned()).await?;
        for (table, column) in
            [("lots", "trace_code"), ("villages", "township"), ("stations", "phone"), ("orders", "payment_method")]
        {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
