//! The SQLite settings hezuo relies on are in force on every pooled connection.

use hezuo_db::sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn sqlite_runs_with_wal_full_sync_foreign_keys_and_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = hezuo_db::connect(&hezuo_db::sqlite_url(&dir.path().join("p.db"))).await.unwrap();
    let one = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let journal: String =
        db.query_one_raw(one("PRAGMA journal_mode")).await.unwrap().unwrap().try_get_by_index(0).unwrap();
    let sync: i64 = db.query_one_raw(one("PRAGMA synchronous")).await.unwrap().unwrap().try_get_by_index(0).unwrap();
    let fk: i64 = db.query_one_raw(one("PRAGMA foreign_keys")).await.unwrap().unwrap().try_get_by_index(0).unwrap();
    let busy: i64 = db.query_one_raw(one("PRAGMA busy_timeout")).await.unwrap().unwrap().try_get_by_index(0).unwrap();
    assert_eq!((journal.as_str(), sync, fk, busy), ("wal", 2, 1, 10_000));
}
