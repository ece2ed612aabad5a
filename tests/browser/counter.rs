//! The counter in Chromium: a sale with the keyboard and a scanner's Enter, a double press,
//! a phone, sales kept in the browser while the server is stopped and uploaded once it is
//! back (exactly one order each, also from two tabs at once, and from localStorage where
//! IndexedDB is missing), a refused upload retried and another discarded, 退出's warning, the
//! receipt, and a label whose QR code decodes to the printed URL.

use super::{BrowserLog, Cdp, Run, browser, out_dir};
use fantoccini::Locator;
use fantoccini::key::Key;
use hezuo_tests::{Db, TestApp};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const SKU: &str = "6901234567892";

/// Orders whose key the counter made, and their payment methods, oldest first.
async fn counter_orders(app: &TestApp) -> Vec<Vec<String>> {
    app.rows("SELECT external_id, COALESCE(payment_method, 'none'), CAST(gross AS TEXT) FROM orders WHERE external_id LIKE 'POS-%' ORDER BY id")
        .await
}

async fn stock(app: &TestApp, product: i64) -> String {
    let (_, p) = app.get(&format!("/api/v1/products/{product}"), &app.admin.clone()).await;
    p["stock"].as_str().unwrap().to_owned()
}

async fn receive(app: &TestApp, product: i64, household: i64, quantity: &str) -> Value {
    let (s, lot) = app
        .post(
            &format!("/api/v1/products/{product}/lots"),
            &app.admin.clone(),
            json!({"household_id": household, "quantity": quantity, "floor_price": "4.00"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{lot}");
    lot
}

impl Run<'_> {
    /// Waits until `script` returns true (at most `secs` seconds).
    async fn until(&self, script: &str, secs: u64, what: &str) {
        for _ in 0..secs * 10 {
            if self.c.execute(script, vec![]).await.unwrap_or(json!(false)) == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.c.find(Locator::Css("main")).await.unwrap().text().await.unwrap_or_default();
        panic!("{what}: not within {secs} s; the page: {body}");
    }

    /// Takes the browser's log of a stretch where the server was stopped or refused a sale: only
    /// the counter's own requests may have failed, refused (connection) or answered 422.
    async fn only_counter_failures(&self) {
        let log = self.c.issue_cmd(BrowserLog).await.unwrap();
        for e in log.as_array().unwrap().iter().filter(|e| e["level"] == "SEVERE") {
            let m = e["message"].as_str().unwrap_or_default();
            let counter = m.starts_with(&format!("{}/counter/sales ", self.base));
            assert!(
                counter
                    && (m.ends_with("net::ERR_CONNECTION_REFUSED")
                        || m.ends_with("status of 422 (Unprocessable Entity)")),
                "unexpected error in the browser console: {e}"
            );
        }
    }

    async fn cart_rows(&self) -> Value {
        self.c
            .execute(
                "return Array.from(document.querySelectorAll('#cart tbody tr[data-product-id]')).map(tr => [tr.getAttribute('data-product-id'), tr.querySelector('input[name=quantity]').value, tr.querySelector('.line-total').textContent]);",
                vec![],
            )
            .await
            .unwrap()
    }

    async fn pending(&self) -> String {
        self.c
            .execute("const p = document.getElementById('pending'); return p.hidden ? '' : p.textContent;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Adds the product with the 加入 button and sets the quantity of its row.
    async fn add(&self, product: i64, quantity: &str) {
        let button = format!("#products li[data-product-id='{product}'] button");
        self.c.find(Locator::Css(&button)).await.unwrap().click().await.unwrap();
        let input = format!("#cart tr[data-product-id='{product}'] input[name=quantity]");
        let e = self.c.find(Locator::Css(&input)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(quantity).await.unwrap();
    }

    /// 收款 while the server is stopped: the sale waits in the browser.
    async fn sell_offline(&self, product: i64, quantity: &str, waiting: usize) {
        self.add(product, quantity).await;
        self.c.find(Locator::Id("checkout")).await.unwrap().click().await.unwrap();
        self.until(
            &format!("return document.getElementById('pending').textContent === '{waiting} 笔待上传';"),
            20,
            "the sale kept in the browser",
        )
        .await;
        let mark = self.text("provisional-mark").await;
        assert!(mark.starts_with("待上传"), "{mark}");
        assert_eq!(self.cart_rows().await, json!([]), "the cart is cleared");
    }
}

async fn the_counter_sells_online_and_offline(db: Db) {
    let Some((_driver, client, _profile)) = browser().await else { return };
    let Some(mut app) = TestApp::spawn(db).await else { return };
    hezuo_app::demo::seed(&app.app).await.expect("demo");
    let admin = app.admin.clone();
    let (_, stations) = app.get("/api/v1/stations", &admin).await;
    let station = stations["items"][0]["id"].as_i64().unwrap();
    assert_eq!(stations["items"][0]["name"], "阳山镇桃源村电商服务站");
    let (_, peach) = app
        .post(
            &format!("/api/v1/stations/{station}/products"),
            &admin,
            json!({"name": "白凤桃", "unit": "斤", "price": "6.80", "status": "listed", "sku": SKU}),
        )
        .await;
    let peach = peach["id"].as_i64().unwrap();
    let (_, h) = app.get("/api/v1/households?limit=1", &admin).await;
    let household = h["items"][0]["id"].as_i64().unwrap();
    let lot = receive(&app, peach, household, "20").await;
    let r = Run { c: &client, base: app.base.clone(), db };
    let counter = format!("/stations/{station}/counter");

    // The keyboard alone: a scanner types the code and Enter; the quantity; WeChat; 收款.
    r.login("staff-taoyuan").await;
    r.tab_to(&format!("nav a[href='{counter}']")).await;
    r.enter().await;
    assert_eq!(r.path().await, counter);
    r.tab_to("#q").await;
    r.type_keys(SKU).await;
    r.type_keys(&Key::Enter.to_string()).await;
    assert_eq!(r.cart_rows().await, json!([[peach.to_string(), "1", "6.80"]]), "the scanned code added the product");
    assert_eq!(r.c.find(Locator::Id("q")).await.unwrap().prop("value").await.unwrap().as_deref(), Some(""));
    r.tab_to("#cart input[name=quantity]").await;
    r.type_keys(&format!("{}2.5", Key::Backspace)).await;
    assert_eq!(r.text("total").await, "17.00", "round(2.5 × 6.80)");
    r.tab_to("#payment").await;
    r.type_keys(&Key::Down.to_string()).await;
    r.screenshot("counter").await;
    r.tab_to("#checkout").await;
    r.enter().await;
    assert!(r.path().await.ends_with("/receipt"), "{}", r.path().await);
    assert_eq!(r.text("receipt-total").await, "17.00");
    assert_eq!(r.text("payment-method").await, "微信");
    r.screenshot("receipt").await;
    let orders = counter_orders(&app).await;
    assert_eq!(orders.len(), 1);
    assert_eq!((orders[0][1].as_str(), orders[0][2].as_str()), ("wechat", "1700"));
    assert!(orders[0][0].starts_with(&format!("POS-{station}-")) && orders[0][0].ends_with("-1"), "{:?}", orders[0]);

    // A double press books once.
    r.click("next-sale").await;
    r.add(peach, "1").await;
    r.c.execute(
        "window.hezuoOldPage = true; const b = document.getElementById('checkout'); b.click(); b.click();",
        vec![],
    )
    .await
    .unwrap();
    r.wait_for_new_page().await;
    assert!(r.path().await.ends_with("/receipt"));
    let orders = counter_orders(&app).await;
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert!(orders[1][0].ends_with("-2"), "the browser's counter went on: {orders:?}");
    assert_eq!(stock(&app, peach).await, "16.500");

    // On a phone: the list and a cart of two lines fit the screen.
    r.phone(true).await;
    r.go(&counter).await;
    r.add(peach, "1.25").await;
    let (_, products) = app.get(&format!("/api/v1/stations/{station}/products?status=listed"), &admin).await;
    let other = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] != json!(peach) && p["stock"] != json!("0.000"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    r.add(other, "2").await;
    r.fits("the counter with two lines").await;
    r.screenshot("counter-phone").await;
    r.phone(false).await;

    // The server stops while the page stays open: sales wait in the browser, in order.
    r.go(&counter).await;
    let second = client.new_window(true).await.unwrap().handle;
    let first = client.window().await.unwrap();
    client.switch_to_window(second.clone()).await.unwrap();
    r.go(&counter).await;
    client.switch_to_window(first.clone()).await.unwrap();
    app.stop().await;
    let before = chrono::Utc::now();
    r.sell_offline(peach, "2", 1).await;
    r.sell_offline(peach, "100", 2).await; // more than there is: refused when uploaded
    r.c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    r.screenshot("counter-offline").await;
    // The second tab sells too, into the same store.
    client.switch_to_window(second.clone()).await.unwrap();
    r.sell_offline(peach, "1", 3).await;
    client.switch_to_window(first.clone()).await.unwrap();
    r.c.execute("return window.hezuoCounter.flush();", vec![]).await.unwrap();
    assert_eq!(r.pending().await, "3 笔待上传");
    // 退出 warns while sales wait.
    r.c.execute("window.asked = null; window.confirm = m => { window.asked = m; return false; };", vec![])
        .await
        .unwrap();
    r.c.find(Locator::Id("logout")).await.unwrap().click().await.unwrap();
    let asked = r.c.execute("return window.asked;", vec![]).await.unwrap();
    assert!(asked.as_str().is_some_and(|m| m.contains("3 笔销售")), "{asked}");
    assert_eq!(r.path().await, counter);

    // Back: both tabs upload at once; every sale is booked exactly once, at its own time.
    let restarted = chrono::Utc::now();
    app.restart().await;
    for w in [&first, &second] {
        client.switch_to_window(w.clone()).await.unwrap();
        r.c.execute("window.hezuoCounter.flush(); return true;", vec![]).await.unwrap();
    }
    client.switch_to_window(first.clone()).await.unwrap();
    r.until("return document.getElementById('pending').textContent === '1 笔待上传' && document.querySelector('#queue li.refused') !== null;", 30, "the uploads").await;
    let orders = counter_orders(&app).await;
    assert_eq!(orders.len(), 4, "two sales online, two uploaded: {orders:?}");
    let mut keys: Vec<&String> = orders.iter().map(|o| &o[0]).collect();
    keys.dedup();
    assert_eq!(keys.len(), 4);
    let (_, list) = app.get(&format!("/api/v1/orders?station_id={station}&channel=own&limit=500"), &admin).await;
    let uploaded: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| orders[2..].iter().any(|k| o["external_id"] == json!(k[0])))
        .collect();
    assert_eq!(uploaded.len(), 2);
    for o in uploaded {
        let at = chrono::DateTime::parse_from_rfc3339(o["placed_at"].as_str().unwrap()).unwrap();
        assert!(at > before && at < restarted, "placed_at is the time of the sale, not of its upload: {o}");
    }
    assert_eq!(stock(&app, peach).await, "13.500", "16.5 − 1.25 (never sold) … − 2 − 1: the phone's cart was not sold");
    let reason = r.c.find(Locator::Css("#queue li.refused .reason")).await.unwrap().text().await.unwrap();
    assert!(reason.starts_with("被拒绝：库存不足：白凤桃仅剩 "), "{reason}");

    // The refused sale: receive what was never recorded, then retry.
    receive(&app, peach, household, "100").await;
    r.c.find(Locator::Css("#queue li.refused .retry")).await.unwrap().click().await.unwrap();
    r.until("return document.getElementById('pending').hidden;", 30, "the retried upload").await;
    let orders = counter_orders(&app).await;
    assert_eq!(orders.len(), 5, "{orders:?}");
    assert_eq!(orders[4][2], "68000", "100 × 6.80");
    assert_eq!(stock(&app, peach).await, "13.500");

    // Another refused sale is discarded after a confirmation: never booked.
    app.stop().await;
    r.sell_offline(peach, "1000", 1).await;
    app.restart().await;
    r.c.execute("window.hezuoCounter.flush(); return true;", vec![]).await.unwrap();
    r.until("return document.querySelector('#queue li.refused') !== null;", 30, "the refusal").await;
    r.c.execute("window.confirm = () => true;", vec![]).await.unwrap();
    r.c.find(Locator::Css("#queue li.refused .discard")).await.unwrap().click().await.unwrap();
    r.until("return document.getElementById('pending').hidden;", 10, "the discarded sale").await;
    r.only_counter_failures().await;
    assert_eq!(counter_orders(&app).await.len(), 5);
    client.switch_to_window(second.clone()).await.unwrap();
    client.close_window().await.unwrap();
    client.switch_to_window(first).await.unwrap();

    // Without IndexedDB the queue lives in localStorage, with the same guarantees.
    let hidden =
        r.c.issue_cmd(Cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "Object.defineProperty(window, 'indexedDB', {value: undefined, configurable: true});"}),
        ))
        .await
        .unwrap();
    r.go(&counter).await;
    assert_eq!(r.c.execute("return window.indexedDB === undefined;", vec![]).await.unwrap(), json!(true));
    app.stop().await;
    r.sell_offline(peach, "0.5", 1).await;
    let kept = "return JSON.parse(localStorage.getItem('hezuo.counter.queue') || '[]').length;";
    assert_eq!(r.c.execute(kept, vec![]).await.unwrap(), json!(1));
    app.restart().await;
    r.c.execute("window.hezuoCounter.flush(); return true;", vec![]).await.unwrap();
    r.until("return document.getElementById('pending').hidden;", 30, "the upload from localStorage").await;
    assert_eq!(r.c.execute(kept, vec![]).await.unwrap(), json!(0));
    let orders = counter_orders(&app).await;
    assert_eq!(orders.len(), 6, "{orders:?}");
    assert_eq!(orders[5][2], "340", "0.5 × 6.80");
    assert_eq!(stock(&app, peach).await, "13.000");
    r.only_counter_failures().await;
    r.c.issue_cmd(Cdp("Page.removeScriptToEvaluateOnNewDocument", json!({"identifier": hidden["identifier"]})))
        .await
        .unwrap();

    // The label of the lot: printed URL, and a QR code that decodes to it.
    let lot_id = lot["id"].as_i64().unwrap();
    r.go(&format!("/products/{peach}")).await;
    r.navigate(Locator::Css(&format!("a[href='/lots/{lot_id}/label']"))).await;
    let url = r.c.find(Locator::Css(".label .l-url")).await.unwrap().text().await.unwrap();
    assert_eq!(url, format!("http://127.0.0.1:8080/t/{}", lot["trace_code"].as_str().unwrap()));
    let png = r.c.find(Locator::Css(".label")).await.unwrap().screenshot().await.unwrap();
    let file = out_dir().join(if db == Db::Sqlite { "sqlite-label.png" } else { "postgres-label.png" });
    std::fs::write(&file, &png).unwrap();
    r.screenshot("label").await;
    match Command::new("zbarimg").args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"]).arg(&file).output() {
        Ok(out) => {
            let decoded = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(
                decoded,
                url,
                "the QR code decodes to the printed URL ({})",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => {
            assert!(
                std::env::var("HEZUO_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "zbarimg (zbar-tools) is missing: {e}"
            );
        }
    }
    // What it leads to, with nobody logged in.
    let path = url.trim_start_matches("http://127.0.0.1:8080");
    r.logout().await;
    r.phone(true).await;
    r.go(path).await;
    assert_eq!(r.text("t-product").await, "白凤桃");
    assert_eq!(r.text("t-origin").await, "阳山镇桃源村");
    r.fits("the trace page").await;
    r.screenshot("trace").await;
    r.phone(false).await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_sells_online_and_offline_on_sqlite() {
    the_counter_sells_online_and_offline(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn the_counter_sells_online_and_offline_on_postgres() {
    the_counter_sells_online_and_offline(Db::Postgres).await;
}
