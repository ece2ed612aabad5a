//! `hezuo backup` and `hezuo restore` as an operator runs them: a backup of a SQLite database
//! taken while `hezuo serve` keeps committing writes, restored into a new database that then
//! verifies clean; the refusals (an existing backup file, a target with data) and PostgreSQL's
//! explanation.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

fn hezuo(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hezuo"))
        .env("HEZUO_DATABASE_URL", database)
        .env_remove("HEZUO_SECRET_KEY")
        .args(args)
        .output()
        .expect("run hezuo")
}

/// POSTs `body` with the bearer `token`; the status.
fn post(addr: &str, token: &str, path: &str, body: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// The villages the load wrote (codes 99…) in the database file.
fn loaded(file: &Path) -> usize {
    let conn = rusqlite::Connection::open(file).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM villages WHERE code LIKE '99%'", [], |r| r.get(0)).unwrap();
    usize::try_from(n).unwrap()
}

#[test]
fn backup_while_serving_then_restore() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let live_url = format!("sqlite://{}?mode=rwc", live.display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_hezuo"))
        .env("HEZUO_DATABASE_URL", &live_url)
        .env_remove("HEZUO_LISTEN")
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hezuo serve --demo");
    let (tx, rx) = mpsc::channel();
    let streams: [Box<dyn Read + Send>; 2] =
        [Box::new(server.stdout.take().unwrap()), Box::new(server.stderr.take().unwrap())];
    for stream in streams {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let (mut token, mut addr) = (String::new(), String::new());
    while token.is_empty() || addr.is_empty() {
        let line = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the server starts");
        if let Some(t) = line.strip_prefix("Admin token: ") {
            token = t.to_owned();
        }
        if let Some((_, rest)) = line.split_once("listening on http://") {
            addr = rest.split('/').next().unwrap().to_owned();
        }
    }

    // Writes keep committing while the backup is taken.
    let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, written, addr, token) = (stop.clone(), written.clone(), addr.clone(), token.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = format!(r#"{{"name": "备份村{i}", "code": "{:012}"}}"#, 990_000_000_000u64 + i);
                assert_eq!(post(&addr, &token, "/api/v1/villages", &body), 201);
                written.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    while written.load(Ordering::SeqCst) < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let backup = dir.path().join("backup.db");
    let out = hezuo(&live_url, &["backup", "--to", backup.to_str().unwrap()]);
    let during = written.load(Ordering::SeqCst);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("synced"), "{out:?}");
    while written.load(Ordering::SeqCst) < during + 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();

    // A second backup to the same file is refused; the first is untouched.
    let size = std::fs::metadata(&backup).unwrap().len();
    let out = hezuo(&live_url, &["backup", "--to", backup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"), "{out:?}");
    assert_eq!(std::fs::metadata(&backup).unwrap().len(), size);

    // Restored into a new database: it verifies clean and holds what was committed before the
    // copy, and nothing written after it finished.
    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}?mode=rwc", restored.display());
    let out = hezuo(&restored_url, &["restore", "--from", backup.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("all checks passed"), "{out:?}");
    let n = loaded(&restored);
    assert!((20..=during).contains(&n), "{n} villages restored; 20 before the backup, {during} when it ended");
    assert!(loaded(&live) >= during + 20);

    // A target with data is refused without --force, and taken with it.
    let out = hezuo(&restored_url, &["restore", "--from", backup.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"), "{out:?}");
    let out = hezuo(&restored_url, &["restore", "--from", backup.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{out:?}");
    // Something that is not a hezuo database is refused.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let out = hezuo(
        &format!("sqlite://{}?mode=rwc", dir.path().join("new.db").display()),
        &["restore", "--from", junk.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn postgres_is_backed_up_with_its_own_tools() {
    for command in [vec!["backup", "--to", "x.dump"], vec!["restore", "--from", "x.dump"]] {
        let out = hezuo("postgres://postgres@127.0.0.1:1/nowhere", &command);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("pg_dump") && text.contains("pg_restore"), "{text}");
    }
}
