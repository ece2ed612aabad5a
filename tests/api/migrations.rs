//! The striped day sums' migration goes down (adding up the slots) and up again, on SQLite and,
//! with `HEZUO_TEST_DATABASE_URL`, on PostgreSQL.

use hezuo_db::sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use hezuo_migration::{Migrator, MigratorTrait};

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<i64>> {
    let found = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap();
    found.iter().map(|r| (0..3).map_while(|i| r.try_get_by_index::<i64>(i).ok()).collect()).collect()
}

async fn down_and_up(db: &DatabaseConnection) {
    hezuo_db::migrate(db).await.unwrap();
    exec(
        db,
        "INSERT INTO account_days (alliance_id, account, day, slot, amount, postings) VALUES \
         (1, 'station:1', '2026-03-01', 0, 100, 1), (1, 'station:1', '2026-03-01', 5, 250, 2), \
         (1, 'station:1', '2026-03-02', 3, -40, 1)",
    )
    .await;
    exec(
        db,
        "INSERT INTO basis_days (cooperative_id, day, household_id, slot, amount) VALUES \
         (1, '2026-03-01', 7, 1, 950), (1, '2026-03-01', 7, 6, 50)",
    )
    .await;

    // Down past the striped sums (and the statement staging, login failures, report sums, part
    // dates and merchant codes, the feeds, the webhooks and the counter's columns after them).
    Migrator::down(db, Some(7)).await.unwrap();
    let sums = "SELECT CAST(amount AS BIGINT), CAST(postings AS BIGINT) FROM account_days ORDER BY day";
    assert_eq!(rows(db, sums).await, vec![vec![350, 3], vec![-40, 1]]);
    assert_eq!(rows(db, "SELECT CAST(amount AS BIGINT) FROM basis_days").await, vec![vec![950 + 50]]);

    Migrator::up(db, None).await.unwrap();
    let slots = "SELECT CAST(slot AS BIGINT), CAST(amount AS BIGINT) FROM account_days ORDER BY day";
    assert_eq!(rows(db, slots).await, vec![vec![0, 350], vec![0, -40]]);
    assert_eq!(
        rows(db, "SELECT CAST(slot AS BIGINT), CAST(amount AS BIGINT) FROM basis_days").await,
        vec![vec![0, 1000]]
    );
}

#[tokio::test]
async fn striped_sums_migrate_down_and_up_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = hezuo_db::connect(&hezuo_db::sqlite_url(&dir.path().join("m.db"))).await.unwrap();
    down_and_up(&db).await;
}

#[tokio::test]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn striped_sums_migrate_down_and_up_on_postgres() {
    let url = std::env::var("HEZUO_TEST_DATABASE_URL")
        .expect("HEZUO_TEST_DATABASE_URL was set when the tests were built; set it to run them");
    let admin = hezuo_db::connect(&url).await.unwrap();
    let name = format!("hezuo_migrations_{}", std::process::id());
    exec(&admin, &format!("DROP DATABASE IF EXISTS {name}")).await;
    exec(&admin, &format!("CREATE DATABASE {name}")).await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let db = hezuo_db::connect(&format!("{base}/{name}")).await.unwrap();
    down_and_up(&db).await;
    db.close_by_ref().await.unwrap();
    exec(&admin, &format!("DROP DATABASE {name}")).await;
}
