//! The web console in real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! driven over WebDriver (fantoccini), on the demo data: each role logs in and does its main
//! task. Every page is checked for script errors in the browser's console and for requests to
//! any other host. Screenshots go under `target/browser/`; with `HEZUO_UPDATE_SCREENSHOTS=1`
//! the README's pictures in `docs/` are written too.
//!
//! Without the browser the tests are skipped with a message, unless `HEZUO_REQUIRE_BROWSER=1`
//! (as `.ci/run` sets): then they fail.

mod counter;
mod setup;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hezuo_tests::{Db, TestApp};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = hezuo_app::demo::DEMO_PASSWORD;

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

/// The browser, or `None` (skipped) when it is not installed and not required.
async fn browser() -> Option<(Driver, Client, tempfile::TempDir)> {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        assert!(
            std::env::var("HEZUO_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "HEZUO_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver fonts-wqy-zenhei"
        );
        eprintln!("browser tests skipped: install chromium, chromium-driver and fonts-wqy-zenhei to run them");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    // A loaded machine (two browser tests start at once) can take a while to start it.
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--no-first-run", "--disable-quic",
                "--lang=zh-CN", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone().into_iter().collect();
    // WebDriver on 127.0.0.1 over plain HTTP: no TLS.
    let mut tries = 0;
    let client = loop {
        let session = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match session {
            Ok(c) => break c,
            Err(e) if tries < 5 => {
                eprintln!("WebDriver session not yet: {e}");
                tries += 1;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => panic!("WebDriver session: {e}"),
        }
    };
    Some((driver, client, profile))
}

/// chromedriver's log of the browser console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

/// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(&'static str, Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"cmd": self.0, "params": self.1}).to_string()))
    }
}

struct Run<'a> {
    c: &'a Client,
    base: String,
    db: Db,
}

impl Run<'_> {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.checked().await;
    }

    /// No script error in the console, no request to any other host.
    async fn checked(&self) {
        let log = self.c.issue_cmd(BrowserLog).await.unwrap();
        let url = self.c.current_url().await.unwrap();
        // A form answered 422, 409 or 401 is a page of this site, by design; anything else is an error.
        let answered = |m: &str| {
            m.starts_with(&self.base)
                && !m.contains("/assets/")
                && (m.ends_with("status of 422 (Unprocessable Entity)")
                    || m.ends_with("status of 409 (Conflict)")
                    || m.ends_with("status of 401 (Unauthorized)"))
        };
        let severe: Vec<&Value> = log
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .filter(|e| !(e["source"] == "network" && e["message"].as_str().is_some_and(answered)))
                    .collect()
            })
            .unwrap_or_default();
        assert!(severe.is_empty(), "errors in the browser console on {url}: {severe:?}");
        let foreign = self
            .c
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(foreign, json!([]), "requests to other hosts from {url}");
        assert!(url.as_str().starts_with(&self.base), "left the site: {url}");
    }

    async fn fill(&self, id: &str, text: &str) {
        let e = self.c.find(Locator::Id(id)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Clicks what leads to another page, and waits for that page: a click may return while
    /// the form is still being sent.
    async fn click(&self, id: &str) {
        self.navigate(Locator::Id(id)).await;
    }

    async fn navigate(&self, what: Locator<'_>) {
        self.c.execute("window.hezuoOldPage = true;", vec![]).await.unwrap();
        self.c.find(what).await.unwrap().click().await.unwrap();
        self.wait_for_new_page().await;
    }

    async fn wait_for_new_page(&self) {
        for _ in 0..200 {
            let done = self
                .c
                .execute("return window.hezuoOldPage === undefined && document.readyState === 'complete';", vec![])
                .await
                .unwrap_or(json!(false));
            if done == json!(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.checked().await;
    }

    async fn text(&self, id: &str) -> String {
        self.c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    async fn login(&self, username: &str) {
        self.go("/login").await;
        self.fill("username", username).await;
        self.fill("password", PASSWORD).await;
        self.navigate(Locator::Css("form button[type=submit]")).await;
        assert_ne!(self.path().await, "/login", "{username} logged in");
    }

    async fn logout(&self) {
        self.click("logout").await;
        assert_eq!(self.path().await, "/login");
    }

    async fn screenshot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        let db = if self.db == Db::Sqlite { "sqlite" } else { "postgres" };
        std::fs::write(out_dir().join(format!("{db}-{name}.png")), &png).unwrap();
        if self.db == Db::Sqlite && std::env::var("HEZUO_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
            std::fs::write(docs.join(format!("console-{name}.png")), &png).unwrap();
        }
    }

    /// Presses Tab until the focused element matches the CSS selector `what`, checking that
    /// every element the focus passes shows where it is (a visible outline). Fails after 40.
    async fn tab_to(&self, what: &str) {
        for _ in 0..40 {
            let active = self.c.active_element().await.unwrap();
            active.send_keys(&Key::Tab.to_string()).await.unwrap();
            let state = self
                .c
                .execute(
                    "const e = document.activeElement; const s = getComputedStyle(e); \
                     return [e.matches(arguments[0]), e === document.body || s.outlineStyle !== 'none', e.outerHTML.slice(0, 120)];",
                    vec![json!(what)],
                )
                .await
                .unwrap();
            assert_eq!(state[1], json!(true), "no visible focus on {}", state[2]);
            if state[0] == json!(true) {
                return;
            }
        }
        panic!("{what} is not reachable with Tab on {}", self.c.current_url().await.unwrap());
    }

    /// Types into the focused element.
    async fn type_keys(&self, text: &str) {
        self.c.active_element().await.unwrap().send_keys(text).await.unwrap();
    }

    /// Presses Enter on the focused element and waits for the page it leads to.
    async fn enter(&self) {
        self.c.execute("window.hezuoOldPage = true;", vec![]).await.unwrap();
        self.c.active_element().await.unwrap().send_keys(&Key::Enter.to_string()).await.unwrap();
        self.wait_for_new_page().await;
    }

    /// Emulates a 390 × 844 phone (a headless window is never narrower than 500 px), or stops.
    async fn phone(&self, on: bool) {
        let cmd = if on {
            Cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": true}),
            )
        } else {
            Cdp("Emulation.clearDeviceMetricsOverride", json!({}))
        };
        self.c.issue_cmd(cmd).await.unwrap();
    }

    /// Nothing on the current page scrolls sideways on the emulated phone.
    async fn fits(&self, what: &str) {
        let fit = self
            .c
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth <= window.innerWidth, document.documentElement.scrollWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fit[0], json!(390), "the phone's viewport on {what}");
        assert_eq!(fit[1], json!(true), "{what} scrolls sideways on a 390 px phone: {} px wide", fit[2]);
    }

    /// The page fits a 390 px phone screen: nothing to scroll sideways.
    async fn fits_a_phone(&self, path: &str) {
        self.phone(true).await;
        self.go(path).await;
        self.fits(path).await;
        self.phone(false).await;
    }
}

async fn every_role_does_its_work(db: Db) {
    let Some((_driver, client, _profile)) = browser().await else { return };
    let Some(app) = TestApp::spawn(db).await else { return };
    let seed = hezuo_app::demo::seed(&app.app).await.expect("demo");
    let _ = seed;
    let r = Run { c: &client, base: app.base.clone(), db };

    // Station staff, with the keyboard alone: log in, open the newest order, ship it.
    r.go("/login").await;
    r.tab_to("#username").await;
    r.type_keys("staff-taoyuan").await;
    r.tab_to("#password").await;
    r.type_keys(PASSWORD).await;
    r.enter().await;
    let products = r.path().await;
    assert!(products.ends_with("/products"), "logged in with the keyboard: {products}");
    r.tab_to("nav a[href$='/orders']").await;
    r.enter().await;
    assert!(r.path().await.ends_with("/orders"));
    r.screenshot("staff-orders").await;
    r.fits_a_phone(&r.path().await).await;
    r.tab_to("#status").await;
    r.type_keys(&Key::Down.to_string()).await;
    r.tab_to("#filter").await;
    r.enter().await;
    r.tab_to("#orders a[href^='/orders/']").await;
    r.enter().await;
    let order = r.path().await;
    assert!(order.starts_with("/orders/"), "{order}");
    assert_eq!(r.text("order-status").await, "待发货");
    r.tab_to("#tracking_number").await;
    r.type_keys("SF2026120201").await;
    r.enter().await;
    assert_eq!(r.text("notice").await, "已登记发货。");
    assert!(r.text("order-status").await.contains("SF2026120201"));

    // A refund of part of the first line, with the mouse; every part's split is on the page.
    client.find(Locator::Css("details > summary")).await.unwrap().click().await.unwrap();
    let line = client.find(Locator::Css("form[id^='refund-'] input[name=line_id]")).await.unwrap();
    let line = line.attr("value").await.unwrap().unwrap();
    r.fill(&format!("amount-{line}"), "0.01").await;
    r.fill(&format!("reason-{line}"), "少发一个").await;
    r.click(&format!("refund-button-{line}")).await;
    assert_eq!(r.text("notice").await, "已退款，分账已按比例冲回。");
    r.screenshot("staff-order").await;
    r.fits_a_phone(&order).await;

    // CSV import: the bad lines listed, nothing imported.
    r.go(&products.replace("/products", "/import")).await;
    let file = out_dir().join(format!("products-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &file,
        "name,unit,price
枇杷,斤,0
,斤,3
",
    )
    .unwrap();
    client.find(Locator::Id("file-products")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    r.click("upload-products").await;
    let mut tries = 0;
    while client.find(Locator::Id("bad-lines")).await.is_err() && tries < 100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        tries += 1;
    }
    std::fs::remove_file(&file).ok();
    r.checked().await;
    let bad = r.text("bad-lines").await;
    assert!(bad.contains("价格必须大于 0") && bad.contains("名称必须填写"), "{bad}");
    r.screenshot("staff-import").await;

    // A product with a bad price first, then a good one, then a lot.
    r.go(&products).await;
    assert!(products.ends_with("/products"), "{products}");
    r.screenshot("staff").await;
    r.fits_a_phone(&products).await;
    r.click("new-product").await;
    r.fill("name", "阳山水蜜桃（礼盒）").await;
    r.fill("unit", "盒").await;
    r.fill("price", "0").await;
    r.click("save").await;
    assert_eq!(r.text("price-error").await, "价格必须大于 0");
    r.screenshot("staff-error").await;
    r.fill("price", "88.00").await;
    r.click("save").await;
    let product = r.path().await;
    assert!(product.starts_with("/products/"), "{product}");
    assert_eq!(r.text("stock").await, "0.000 盒");
    r.click("receive").await;
    let select = client.find(Locator::Id("household_id")).await.unwrap();
    select.select_by_index(1).await.unwrap();
    r.fill("quantity", "30").await;
    r.fill("floor_price", "60.00").await;
    r.click("save").await;
    assert_eq!(r.path().await, product);
    assert_eq!(r.text("stock").await, "30.000 盒");
    r.logout().await;

    // The alliance: upload a statement, resolve the item it raises, read the ranking.
    r.login("alliance").await;
    assert_eq!(r.path().await, "/stations");
    r.go("/statements").await;
    let file = out_dir().join(format!("statement-{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &file,
        "external_id,kind,amount,fee,settled_at\nTB-NOT-OURS-1,sale,36.00,1.80,2026-03-11 10:00:00\n",
    )
    .unwrap();
    client.find(Locator::Css("#channel option[value=taobao]")).await.unwrap().click().await.unwrap();
    client.find(Locator::Id("file")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    r.click("upload").await;
    // The upload may still be under way when the click returns: wait for the statement's page
    // (or an error) before the file goes.
    let mut tries = 0;
    while !r.path().await.starts_with("/statements/") && tries < 100 {
        if client.find(Locator::Css("p.error")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        tries += 1;
    }
    r.checked().await;
    let at = r.path().await;
    let body = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    std::fs::remove_file(&file).ok();
    assert!(at.starts_with("/statements/"), "the upload went to {at}: {body}");
    let note = client.find(Locator::Css("form.resolve input[name=note]")).await.unwrap();
    note.send_keys("不是本联盟的订单，已告知平台").await.unwrap();
    r.navigate(Locator::Css("form.resolve button")).await;
    let items = r.text("items").await;
    assert!(items.contains("已处理：不是本联盟的订单，已告知平台"), "{items}");
    r.screenshot("alliance").await;
    r.go("/villages").await;
    let ranking = r.text("ranking").await;
    assert!(ranking.contains("桃源村") && ranking.contains("薄弱村"), "{ranking}");
    r.screenshot("ranking").await;
    r.logout().await;

    // The village: this year's chart drawn, then the print view as a PDF.
    r.login("village-taoyuan").await;
    let revenue = r.path().await;
    assert!(revenue.ends_with("/revenue"), "{revenue}");
    let drawn = client
        .execute(
            "const el = document.getElementById('income-chart'); return el.getAttribute('data-rendered') === '1' && el.querySelector('svg') !== null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn, json!(true), "the chart was drawn");
    r.screenshot("village").await;
    r.fits_a_phone(&revenue).await;
    r.click("print-view").await;
    let pdf = client.print(fantoccini::wd::PrintConfiguration::default()).await.unwrap();
    let pdf_path =
        out_dir().join(if db == Db::Sqlite { "sqlite-village-print.pdf" } else { "postgres-village-print.pdf" });
    std::fs::write(&pdf_path, &pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if let Ok(out) = Command::new("pdftotext").arg("-layout").arg(&pdf_path).arg("-").output() {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
        assert!(!pages.is_empty(), "{text}");
        for (i, page) in pages.iter().enumerate() {
            // pdftotext keeps or drops the spaces between CJK characters as it likes.
            let flat: String = page.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(flat.contains("桃源村（320206103201）·2026年1月至12月"), "page {}: {page}", i + 1);
            assert!(flat.contains(&format!("第{}页/共{}页", i + 1, pages.len())), "page {}: {page}", i + 1);
        }
    } else {
        assert!(std::env::var("HEZUO_REQUIRE_BROWSER").as_deref() != Ok("1"), "pdftotext (poppler-utils) is missing");
    }
    r.go(&revenue).await;
    r.logout().await;

    // The admin: the next close previewed (this month has not ended: no close yet).
    r.login("admin").await;
    r.go("/cooperatives").await;
    r.navigate(Locator::Css("a[href$='/periods']")).await;
    let next = r.text("next-period").await;
    assert_eq!(next.len(), 7, "{next}");
    assert!(r.text("pool").await.ends_with(" 元"));
    assert!(client.find(Locator::Id("not-ended")).await.is_ok());
    assert!(r.text("closed").await.contains("已结账"));
    r.screenshot("admin-periods").await;
    r.fits_a_phone(&r.path().await).await;
    r.logout().await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_work_on_sqlite() {
    every_role_does_its_work(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn every_role_does_its_work_on_postgres() {
    every_role_does_its_work(Db::Postgres).await;
}
