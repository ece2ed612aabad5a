//! The `hezuo` binary end to end on a SQLite file: migrate, tokens, users, verify.

use std::process::{Command, Output};

fn hezuo(db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hezuo"));
    cmd.env_remove("HEZUO_DATABASE_URL").arg("--database").arg(db).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run hezuo")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn migrate_tokens_users_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cli.db");
    let db = format!("sqlite://{}?mode=rwc", path.display());

    let o = hezuo(&db, &["migrate"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(path.exists());

    let o = hezuo(&db, &["token", "create", "--role", "admin"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let token = String::from_utf8(o.stdout).unwrap();
    assert!(token.trim().starts_with("hz_") && token.trim().len() == 67, "{token}");

    // A staff token needs a station that exists.
    let o = hezuo(&db, &["token", "create", "--role", "staff"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("station_id"), "{}", text(&o));
    let o = hezuo(&db, &["token", "create", "--role", "staff", "--station", "7"], &[]);
    assert!(!o.status.success());
    let o = hezuo(&db, &["token", "create", "--role", "king"], &[]);
    assert!(!o.status.success());

    let o =
        hezuo(&db, &["user", "add", "--username", "ops", "--role", "admin"], &[("HEZUO_PASSWORD", "a-long-password")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("user ops (admin) added"), "{}", text(&o));
    let o =
        hezuo(&db, &["user", "add", "--username", "ops", "--role", "admin"], &[("HEZUO_PASSWORD", "a-long-password")]);
    assert!(!o.status.success(), "duplicate username must fail");
    let o = hezuo(&db, &["user", "add", "--username", "weak", "--role", "admin"], &[("HEZUO_PASSWORD", "short")]);
    assert!(!o.status.success(), "short password must fail");

    let o = hezuo(&db, &["verify"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("all checks passed"));

    // Damage from outside is found and reported with a non-zero exit.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use hezuo_db::sea_orm::ConnectionTrait;
        let conn = hezuo_db::connect(&db).await.unwrap();
        conn.execute_unprepared("UPDATE users SET password_hash = 'plain-text'").await.unwrap();
        conn.close().await.unwrap();
    });
    let o = hezuo(&db, &["verify"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAIL  access"), "{}", text(&o));

    let o = hezuo("mysql://nope", &["migrate"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("unsupported database URL"), "{}", text(&o));
}
