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

    // A staff token needs a station that exists; errors name the flags, not the API's fields.
    let o = hezuo(&db, &["token", "create", "--role", "staff"], &[]);
    assert!(!o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "error: --station: required for role staff\n");
    let o = hezuo(&db, &["token", "create", "--role", "staff", "--station", "7"], &[]);
    assert!(!o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "error: --station: no such station in your scope\n");
    let o = hezuo(
        &db,
        &["user", "add", "--username", "ally", "--role", "alliance"],
        &[("HEZUO_PASSWORD", "a-long-password")],
    );
    assert_eq!(String::from_utf8_lossy(&o.stderr), "error: --alliance: required for role alliance\n");
    let o = hezuo(&db, &["token", "create", "--role", "admin", "--village", "1"], &[]);
    assert!(!o.status.success());
    assert!(!text(&o).contains("village_id") && text(&o).contains("--village"), "{}", text(&o));
    let o = hezuo(&db, &["token", "create", "--role", "king"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("[possible values: admin, alliance, staff, village]"), "{}", text(&o));

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

#[test]
fn role_help_lists_the_roles() {
    for command in [&["token", "create", "-h"][..], &["user", "add", "-h"]] {
        let o = hezuo("sqlite::memory:", command, &[]);
        assert!(o.status.success(), "{}", text(&o));
        let help = String::from_utf8_lossy(&o.stdout);
        let role = help.split("\n      --").find(|o| o.starts_with("role <ROLE>")).unwrap_or_default();
        assert!(role.trim_end().ends_with("[possible values: admin, alliance, staff, village]"), "{help}");
    }
}

/// `hezuo export-ledger | head`: the reader goes away before the journal is written out.
#[test]
fn export_to_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("pipe.db").display());
    let o = hezuo(&db, &["migrate"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_hezuo"))
        .env_remove("HEZUO_DATABASE_URL")
        .args(["--database", &db, "export-ledger"])
        .stdout(writer)
        .output()
        .expect("run hezuo");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert!(o.status.success(), "{:?}", o.status);

    // A file that cannot be written is still an error.
    let o = hezuo(&db, &["export-ledger", "-o", "/dev/full"], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("No space left on device"), "{}", text(&o));
}
