//! README.md as a newcomer runs it: every ```sh block, in order, against `hezuo serve --demo`
//! on 127.0.0.1, on a fresh SQLite file and (with `HEZUO_TEST_DATABASE_URL`) a fresh PostgreSQL
//! database.
//!
//! Only the address changes (`localhost:8080` becomes the server's port) and the lines that
//! start the server or the test suite (`cargo …`) are left out. Every command must succeed and
//! every curl must answer 2xx, or exactly the status of a `# → NNN` comment right after it.
//! `bean-check` and `hledger` run when installed; with `HEZUO_REQUIRE_JOURNAL_TOOLS` set they
//! must be. The server's log is checked too: plain text, one access line per request.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};

const README: &str = include_str!("../../../README.md");

/// A piece of a ```sh block: a whole command (however many lines it takes) or a comment/blank line.
#[derive(Debug, PartialEq)]
enum Piece {
    Command { line: usize, text: String, expect: Option<u16> },
    Other(String),
}

/// The ```sh blocks of a Markdown file, each line with its line number.
fn sh_blocks(markdown: &str) -> Vec<Vec<(usize, &str)>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<(usize, &str)>> = None;
    for (i, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None if line.trim_end() == "```sh" => current = Some(Vec::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => block.push((i + 1, line)),
        }
    }
    assert!(current.is_none(), "README.md: a ```sh block is not closed");
    blocks
}

/// Where a shell line leaves its command: inside quotes, before a here-document's body, or
/// continued on the next line.
#[derive(Default)]
struct Lexer {
    single: bool,
    double: bool,
    heredoc: Option<String>,
}

impl Lexer {
    /// Reads one line; true when the command it belongs to is complete after it.
    fn line(&mut self, line: &str) -> bool {
        if let Some(end) = &self.heredoc {
            if line.trim() == end {
                self.heredoc = None;
                return true;
            }
            return false;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut pending_heredoc = None;
        let mut code = String::new();
        while i < chars.len() {
            let c = chars[i];
            if self.single {
                self.single = c != '\'';
            } else if self.double {
                match c {
                    '\\' => i += 1,
                    '"' => self.double = false,
                    _ => {}
                }
            } else {
                match c {
                    '\\' => i += 1,
                    '\'' => self.single = true,
                    '"' => self.double = true,
                    '#' if i == 0 || chars[i - 1].is_whitespace() => break,
                    '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                        let rest: String = chars[i + 2..].iter().collect();
                        let word: String = rest
                            .trim_start_matches('-')
                            .trim_start()
                            .chars()
                            .take_while(|c| !c.is_whitespace())
                            .filter(|c| *c != '\'' && *c != '"')
                            .collect();
                        pending_heredoc = Some(word);
                        i += 1;
                    }
                    _ => {}
                }
            }
            code.push(c);
            i += 1;
        }
        if self.single || self.double {
            return false;
        }
        if let Some(word) = pending_heredoc {
            self.heredoc = Some(word);
            return false;
        }
        let code = code.trim_end();
        !(line.ends_with('\\') || code.ends_with('|') || code.ends_with("&&") || code.ends_with("||"))
    }
}

/// Splits a block into whole commands, each with the status its `# → NNN` comment expects.
fn pieces(block: &[(usize, &str)]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut lexer = Lexer::default();
    let mut open: Option<(usize, String)> = None;
    for &(n, line) in block {
        if open.is_none() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                if let Some(status) = trimmed.strip_prefix("# → ").and_then(|r| r.get(..3)) {
                    let status: u16 = status.parse().unwrap_or_else(|_| panic!("README.md:{n}: # → needs a status"));
                    match out.last_mut() {
                        Some(Piece::Command { expect, .. }) if expect.is_none() => *expect = Some(status),
                        _ => panic!("README.md:{n}: `# → {status}` must follow the command it describes"),
                    }
                }
                out.push(Piece::Other(line.to_owned()));
                continue;
            }
            open = Some((n, String::new()));
        }
        let (_, text) = open.as_mut().expect("a command is open");
        text.push_str(line);
        text.push('\n');
        if lexer.line(line) {
            let (line, text) = open.take().expect("a command is open");
            out.push(Piece::Command { line, text, expect: None });
        }
    }
    assert!(open.is_none(), "README.md: a command at the end of a block is not complete: {open:?}");
    out
}

/// Helpers the README's commands run through: curl checks the status and talks only to the
/// test's server; the journal checkers run when installed.
const PRELUDE: &str = r#"set -Eeuo pipefail
README_LINE=0
trap 'echo "README.md:$README_LINE: failed with exit status $?" >&2' ERR
curl() {
  local headers status expect rc=0
  headers=$(mktemp)
  command curl --noproxy '*' --show-error --max-time 120 --dump-header "$headers" "$@" || rc=$?
  status=$(awk '/^HTTP\//{s=$2} END{print s}' "$headers")
  rm -f "$headers"
  echo "${status:-none}" >>"$HEZUO_README_STATUSES"
  if [[ $rc != 0 ]]; then echo "README.md:$README_LINE: curl failed ($rc)" >&2; return "$rc"; fi
  expect=${HEZUO_EXPECT:-2xx}
  if [[ $expect == 2xx && $status == 2?? ]] || [[ $status == "$expect" ]]; then return 0; fi
  echo "README.md:$README_LINE: HTTP $status, expected $expect" >&2
  return 1
}
journal_tool() {
  local tool=$1
  shift
  if type -P "$tool" >/dev/null 2>&1; then
    command "$tool" "$@"
  elif [[ -n ${HEZUO_REQUIRE_JOURNAL_TOOLS:-} ]]; then
    echo "README.md:$README_LINE: $tool is not installed but HEZUO_REQUIRE_JOURNAL_TOOLS is set" >&2
    return 1
  else
    echo "README.md:$README_LINE: $tool is not installed: skipped" >&2
    cat >/dev/null
  fi
}
bean-check() { journal_tool bean-check "$@"; }
hledger() { journal_tool hledger "$@"; }
"#;

/// The README's commands as one bash script against `addr`.
fn script(readme: &str, addr: &str) -> String {
    let mut out = String::from(PRELUDE);
    for block in sh_blocks(readme) {
        for piece in pieces(&block) {
            match piece {
                Piece::Other(text) => {
                    out.push_str(&text);
                    out.push('\n');
                }
                Piece::Command { line, text, .. } if text.starts_with("cargo ") => {
                    out.push_str(&format!("# README.md:{line}, not run here: {text}"));
                }
                Piece::Command { line, text, expect } => {
                    let text = text.replace("localhost:8080", addr);
                    assert!(!text.contains("localhost") && !text.contains("://"), "README.md:{line}: {text}");
                    if text.contains("curl ") {
                        assert!(text.contains(&format!("{addr}/")), "README.md:{line}: curl only to the demo: {text}");
                    }
                    out.push_str(&format!("README_LINE={line}\n"));
                    if let Some(status) = expect {
                        out.push_str(&format!("export HEZUO_EXPECT={status}\n{text}unset HEZUO_EXPECT\n"));
                    } else {
                        out.push_str(&text);
                    }
                }
            }
        }
    }
    out
}

/// `hezuo serve --demo` on 127.0.0.1 with the OS's choice of port; stopped on drop.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &Path, database: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hezuo"))
            .current_dir(dir)
            .env("HEZUO_DATABASE_URL", database)
            .env("HEZUO_LOG", "info")
            .env_remove("HEZUO_TIMEZONE")
            .env_remove("HEZUO_LISTEN")
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hezuo serve --demo");
        // Whatever the server prints, on either stream, is its log.
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let streams: [Box<dyn Read + Send>; 2] =
            [Box::new(child.stdout.take().expect("stdout")), Box::new(child.stderr.take().expect("stderr"))];
        for stream in streams {
            let (kept, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some((_, rest)) = line.split_once("listening on http://") {
                        let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
                    }
                    let mut log = kept.lock().expect("log");
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        drop(tx);
        let addr = match rx.recv() {
            Ok(addr) => addr,
            Err(_) => {
                let status = child.wait().expect("wait for hezuo");
                panic!("hezuo serve --demo stopped ({status}):\n{}", log.lock().expect("log"));
            }
        };
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        Server { child, addr, log }
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the README against a demo on `database` in `dir`; returns what the commands printed
/// and the server's log.
fn run_readme(dir: &Path, database: &str) -> (String, String) {
    // The README runs the binary `cargo run --release` builds.
    std::fs::create_dir_all(dir.join("target/release")).expect("target/release");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hezuo"), dir.join("target/release/hezuo")).expect("symlink");
    let server = Server::start(dir, database);
    let script = script(README, &server.addr);
    std::fs::write(dir.join("readme.sh"), &script).expect("write readme.sh");
    let out = Command::new("bash")
        .arg("readme.sh")
        .current_dir(dir)
        .env("HEZUO_DATABASE_URL", database)
        .env("HEZUO_README_STATUSES", dir.join("statuses"))
        .env_remove("HEZUO_TIMEZONE")
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "README.md failed:\n{stderr}\n--- output:\n{stdout}\n--- script:\n{script}");
    (stdout, server.log())
}

/// The cents of the amount after `key` at its `nth` occurrence in `text`.
fn cents_after(text: &str, key: &str, nth: usize) -> i64 {
    let value = text.split(key).nth(nth + 1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("{key}"));
    let (units, cents) = value.split_once('.').expect("an amount with cents");
    units.parse::<i64>().expect("units") * 100 + cents.parse::<i64>().expect("cents")
}

fn check(stdout: &str, log: &str, dir: &Path) {
    // The order credited household 1 at once, at its floor, and the balance moved by as much.
    assert!(stdout.contains(r#""household_id":1,"village_id":1,"quantity":"3.000","gross":"900.00","fee":"45.00","household":"600.00","station":"42.75","collective":"42.75","pool":"169.50""#), "{stdout}");
    let balance = r#""account":"household:1","balance":""#;
    assert_eq!(cents_after(stdout, balance, 1) - cents_after(stdout, balance, 0), 60_000, "{stdout}");
    // The demo's planted discrepancies, and the uploaded statement matching the new order.
    for found in [
        r#""status":"amount_mismatch","statement_amount":"#,
        r#""difference":"-1.00""#,
        r#""status":"duplicate""#,
        r#""status":"missing_in_statement""#,
        r#""external_id":"TAOBAO-X","order_id":null,"status":"missing_in_books""#,
        r#""note":"淘宝少结 1.00 元，已申请补款""#,
        r#""matched":{"count":1,"amount":"855.00""#,
    ] {
        assert!(stdout.contains(found), "{found} not in\n{stdout}");
    }
    assert!(stdout.contains("; hezuo ledger (beancount)"), "{stdout}");
    assert!(std::fs::read(dir.join("items.xlsx")).expect("items.xlsx").starts_with(b"PK"));
    assert!(std::fs::read_to_string(dir.join("ledger.beancount")).expect("ledger").contains("CNY"));

    // What the walk-through leaves in the checkout is ignored by git.
    let ignore = include_str!("../../../.gitignore");
    let ignored = |name: &str| {
        ignore.lines().map(str::trim).filter(|p| !p.is_empty() && !p.starts_with('#')).any(|p| {
            let p = p.trim_start_matches('/').trim_end_matches('/');
            p.strip_prefix('*').map_or(p == name, |suffix| name.ends_with(suffix))
        })
    };
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let name = entry.expect("entry").file_name().into_string().expect("a UTF-8 name");
        if !["readme.sh", "statuses"].contains(&name.as_str()) {
            assert!(ignored(&name), "the walk-through writes {name}, which .gitignore does not ignore");
        }
    }

    // The log: plain text, and one access line per request with the route's template.
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a log that is not a terminal:\n{log}");
    let access = |method: &str, route: &str, status: u16| {
        log.lines().any(|l| {
            l.contains(" INFO request{request_id=")
                && l.contains(&format!(" method={method} route={route}}}: finished status={status} latency_ms="))
        })
    };
    assert!(access("POST", "/api/v1/villages", 201), "{log}");
    assert!(access("POST", "/api/v1/villages", 422), "{log}");
    assert!(access("GET", "/api/v1/stations/{id}/products", 200), "{log}");
    assert!(access("POST", "/api/v1/orders", 201), "{log}");
    assert!(access("GET", "/api/v1/ledger/accounts/{account}", 200), "{log}");
    let mut logged: Vec<&str> =
        log.lines().filter_map(|l| l.split("}: finished status=").nth(1)?.split(' ').next()).collect();
    let statuses = std::fs::read_to_string(dir.join("statuses")).expect("statuses");
    let mut sent: Vec<&str> = statuses.lines().collect();
    logged.sort_unstable();
    sent.sort_unstable();
    assert_eq!(logged, sent, "one access line per request:\n{log}");
    // No query, id, body or credential in what is logged of requests.
    for line in log.lines().filter(|l| l.contains("request{")) {
        for private in ["水蜜桃", "?", "/stations/1/", "household:1", "hezuo-demo-2026", "hz_", "TB-10001"] {
            assert!(!line.contains(private), "{private} in the log: {line}");
        }
    }
}

#[test]
fn readme_splits_into_whole_commands() {
    let block = [
        (1, "A=$(curl -s x \\"),
        (2, "  -d '{\"a\":"),
        (3, "  1}' | sed 's/#//')"),
        (4, "# → 201 {…}"),
        (5, "cat <<EOF"),
        (6, "# not a comment"),
        (7, "EOF"),
        (8, "printf x |"),
        (9, "  wc -c   # counts"),
    ];
    let got = pieces(&block);
    assert_eq!(
        got,
        vec![
            Piece::Command {
                line: 1,
                text: "A=$(curl -s x \\\n  -d '{\"a\":\n  1}' | sed 's/#//')\n".into(),
                expect: Some(201)
            },
            Piece::Other("# → 201 {…}".into()),
            Piece::Command { line: 5, text: "cat <<EOF\n# not a comment\nEOF\n".into(), expect: None },
            Piece::Command { line: 8, text: "printf x |\n  wc -c   # counts\n".into(), expect: None },
        ]
    );
}

#[test]
fn readme_walk_through_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("hezuo.db").display());
    let (stdout, log) = run_readme(dir.path(), &database);
    check(&stdout, &log, dir.path());
}

#[test]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
fn readme_walk_through_on_postgres() {
    use hezuo_db::sea_orm::ConnectionTrait;
    let url = std::env::var("HEZUO_TEST_DATABASE_URL").expect("built with HEZUO_TEST_DATABASE_URL; it must be set");
    let name = format!("hezuo_readme_{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let admin = rt.block_on(hezuo_db::connect(&url)).expect("connect to HEZUO_TEST_DATABASE_URL");
    rt.block_on(admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))).expect("drop");
    rt.block_on(admin.execute_unprepared(&format!("CREATE DATABASE {name}"))).expect("create");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    let dir = tempfile::tempdir().expect("temp dir");
    let (stdout, log) = run_readme(dir.path(), &format!("{base}/{name}"));
    check(&stdout, &log, dir.path());
    rt.block_on(admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))).expect("drop");
}

/// GitHub's anchor of a Markdown heading.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The docs cite the rules in docs/domain.md, which is in the repository, by sections it has.
#[test]
fn docs_cite_sections_of_domain_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let domain = std::fs::read_to_string(root.join("docs/domain.md")).expect("docs/domain.md");
    let sections: Vec<String> = domain.lines().filter_map(|l| l.strip_prefix("## ")).map(anchor).collect();
    for doc in ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md", "docs/api.md", "docs/statements/README.md"] {
        let text = std::fs::read_to_string(root.join(doc)).expect(doc);
        assert!(!text.contains("SPEC"), "{doc} cites SPEC, which is not in the repository");
        for link in text.split("domain.md#").skip(1) {
            let section = link.split(')').next().unwrap_or_default();
            assert!(sections.iter().any(|s| s == section), "{doc}: no section #{section} in docs/domain.md");
        }
    }
    for section in ["invariants", "reconciliation-对账", "a-sale-per-order-line", "period-close-二次返利"] {
        assert!(sections.iter().any(|s| s == section), "docs/domain.md has no {section}: {sections:?}");
    }
}
