//! Backup and restore of a SQLite database (API.md "Operations", docs/operations.md). A backup
//! is `VACUUM INTO` a new file: one read transaction, so a consistent copy of a live database
//! while the service keeps taking orders, compacted, then synced with its directory. A restore
//! checks the copy, refuses a target that holds data unless forced, and moves the copy into
//! place atomically (the target's stale write-ahead log removed first, which SQLite would
//! otherwise replay onto the restored file). PostgreSQL is backed up with its own tools.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The command was refused as given (an existing backup file, a target with data).
    #[error("{0}")]
    Refused(String),
    /// Reading, writing or syncing failed.
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{what}: {e}"))
}

fn io(what: &str) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{what}: {e}"))
}

/// Syncs `file` and the directory that holds it (so that the file's name survives a power loss).
fn sync(file: &Path) -> Result<(), BackupError> {
    std::fs::File::open(file).and_then(|f| f.sync_all()).map_err(io("syncing the file"))?;
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("syncing its directory"))
}

/// The copy's integrity, and that it is a hezuo database.
fn check(file: &Path) -> Result<(), BackupError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed("opening the copy"))?;
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| BackupError::Refused(format!("{} is not a SQLite database: {e}", file.display())))?;
    if ok != "ok" {
        return Err(BackupError::Refused(format!("{} fails SQLite's integrity check: {ok}", file.display())));
    }
    let migrations: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'", [], |r| {
            r.get(0)
        })
        .map_err(failed("reading the copy"))?;
    if migrations == 0 {
        return Err(BackupError::Refused(format!("{} is not a hezuo database", file.display())));
    }
    Ok(())
}

/// Copies the live database at `database` to the new file `to`, consistently, while it is in
/// use; the size of the copy.
pub fn backup_sqlite(database: &Path, to: &Path) -> Result<u64, BackupError> {
    if to.exists() {
        return Err(BackupError::Refused(format!("{} exists; back up to a new file", to.display())));
    }
    if !database.exists() {
        return Err(BackupError::Refused(format!("no database at {}", database.display())));
    }
    let conn = Connection::open(database).map_err(failed("opening the database"))?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(failed("opening the database"))?;
    let target = to.to_str().ok_or_else(|| BackupError::Refused("the backup file's name is not UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(failed("copying the database"))?;
    drop(conn);
    sync(to)?;
    check(to)?;
    std::fs::metadata(to).map(|m| m.len()).map_err(io("reading the copy"))
}

/// Whether the database file at `path` holds any set-up or business data.
fn holds_data(path: &Path) -> Result<bool, BackupError> {
    if !path.exists() || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Ok(false);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed("opening the target"))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(failed("reading the target"))?;
    for t in tables {
        let any: bool = conn
            .query_row(&format!("SELECT EXISTS (SELECT 1 FROM \"{}\")", t.replace('"', "\"\"")), [], |r| r.get(0))
            .map_err(failed("reading the target"))?;
        if any {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Puts the backup `from` in place as the database file `to` (the service must be stopped).
/// A target with data is refused unless `force`.
pub fn restore_sqlite(from: &Path, to: &Path, force: bool) -> Result<(), BackupError> {
    check(from)?;
    if !force && holds_data(to)? {
        return Err(BackupError::Refused(format!(
            "{} holds data; restore over it with --force (stop the service first)",
            to.display()
        )));
    }
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("hezuo.db");
    let staging = to.with_file_name(format!(".{name}.restoring"));
    std::fs::copy(from, &staging).map_err(io("copying the backup"))?;
    sync(&staging)?;
    for stale in ["-wal", "-shm"] {
        let side = to.with_file_name(format!("{name}{stale}"));
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("removing the old log")(e)),
            _ => {}
        }
    }
    std::fs::rename(&staging, to).map_err(io("moving the copy into place"))?;
    sync(to)
}
