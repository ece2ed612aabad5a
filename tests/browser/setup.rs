//! Setting up a new township in Chromium, without curl: as the admin, its village, households,
//! cooperative with members and a rule version, station, channel and the clerk's login — the
//! clerk then logs in and sees only its station; as the alliance, a Taobao shop against the
//! fake platform on 127.0.0.1, synced from the button, its parked order cleared by giving a
//! product its merchant code; a webhook endpoint whose secret is shown once. Every new page
//! fits a 390 px phone.

use super::{BrowserLog, Run, browser};
use chrono::{TimeDelta, Utc};
use fantoccini::Locator;
use hezuo_core::Money;
use hezuo_platforms::Credentials;
use hezuo_tests::fake_platform::{FakeLine, FakeOrder, FakePlatform, FakeStatus, Kind};
use hezuo_tests::{Db, TestApp};

impl Run<'_> {
    /// Chooses the option whose text is `label` in the select `id`.
    async fn choose(&self, id: &str, label: &str) {
        let select = self.c.find(Locator::Id(id)).await.unwrap();
        select.select_by_label(label).await.unwrap_or_else(|e| panic!("{label} in #{id}: {e}"));
    }

    /// Fills the fields, then saves and waits for the page it leads to.
    async fn save_form(&self, fields: &[(&str, &str)]) {
        for (id, text) in fields {
            self.fill(id, text).await;
        }
        self.click("save").await;
    }

    async fn main_text(&self) -> String {
        self.c.find(Locator::Css("main")).await.unwrap().text().await.unwrap()
    }
}

async fn a_new_township_without_curl(db: Db) {
    let Some((_driver, client, _profile)) = browser().await else { return };
    let Some(app) = TestApp::spawn(db).await else { return };
    hezuo_app::demo::seed(&app.app).await.expect("demo");
    let r = Run { c: &client, base: app.base.clone(), db };

    // The admin lands on 基础设置: the organisation at a glance.
    r.login("admin").await;
    assert_eq!(r.path().await, "/setup");
    assert_eq!(r.text("count-villages").await, "3");
    r.screenshot("setup").await;
    r.fits_a_phone("/setup").await;

    // 村, with the keyboard alone.
    r.go("/setup/villages").await;
    r.tab_to("#new").await;
    r.enter().await;
    r.tab_to("#name").await;
    r.type_keys("石塘湾村").await;
    r.tab_to("#code").await;
    r.type_keys("320206104201").await;
    r.tab_to("#township").await;
    r.type_keys("洛社镇").await;
    r.tab_to("#save").await;
    r.enter().await;
    assert_eq!(r.path().await, "/setup/villages");
    assert!(r.text("notice").await.contains("已保存"));
    assert!(r.text("list").await.contains("石塘湾村"));
    r.fits_a_phone("/setup/villages").await;

    // Its households; a repeated code first shows 已存在.
    r.go("/setup/villages/new").await;
    r.save_form(&[("name", "重复村"), ("code", "320206104201")]).await;
    assert!(r.text("code-error").await.starts_with("已存在"));
    for (name, members) in [("陈阿大", "4"), ("陈阿二", "3")] {
        r.go("/setup/households/new").await;
        r.choose("village_id", "石塘湾村（320206104201）").await;
        r.save_form(&[("name", name), ("members", members)]).await;
        assert!(r.path().await.starts_with("/setup/households"), "{name}");
    }

    // The cooperative with members, capital and a rule version (the 0.60 floor explained first).
    r.go("/setup/cooperatives/new").await;
    r.save_form(&[("name", "洛社镇果蔬专业合作社")]).await;
    let coop = r.path().await;
    assert!(coop.starts_with("/setup/cooperatives/"), "{coop}");
    for (household, capital) in [("陈阿大", "20000"), ("陈阿二", "5000")] {
        r.choose("household_id", household).await;
        r.fill("capital", capital).await;
        r.click("add-member").await;
    }
    r.choose("village_id", "石塘湾村（320206104201）").await;
    r.fill("capital", "60000").await;
    r.click("add-member").await;
    let rule = |rebate: &'static str| {
        [
            ("household_share", "0.70"),
            ("station_fee_rate", "0.05"),
            ("collective_rate", "0.05"),
            ("reserve_rate", "0.10"),
            ("rebate_rate", rebate),
        ]
    };
    r.c.execute("document.getElementById('effective_from').value = '2026-01-01';", vec![]).await.unwrap();
    for (id, v) in rule("0.50") {
        r.fill(id, v).await;
    }
    r.click("add-rule").await;
    assert!(r.text("rebate_rate-error").await.contains("不得低于 0.60"), "the legal floor explained");
    r.c.execute("document.getElementById('effective_from').value = '2026-01-01';", vec![]).await.unwrap();
    r.fill("rebate_rate", "0.60").await;
    r.click("add-rule").await;
    let members = r.text("members").await;
    assert!(members.contains("农户 陈阿大") && members.contains("村集体 石塘湾村"), "{members}");
    assert!(r.text("rules").await.contains("已生效，不能修改"));
    r.fits_a_phone(&coop).await;

    // The station and its own shop.
    r.go("/setup/stations/new").await;
    r.choose("village_id", "石塘湾村（320206104201）").await;
    r.choose("cooperative_id", "洛社镇果蔬专业合作社").await;
    r.choose("alliance_id", "惠山区农村电商联盟").await;
    r.save_form(&[("name", "洛社镇石塘湾村电商服务站"), ("phone", "0510-83311234")]).await;
    assert!(r.text("list").await.contains("洛社镇石塘湾村电商服务站"));
    r.go("/setup/channels").await;
    assert!(r.text("list").await.contains("own"), "the alliance's channels are there already");

    // The clerk's login: the scope field follows the role.
    r.go("/setup/users/new").await;
    let hidden = "return document.querySelector('[data-for-role=staff]').hidden;";
    assert_eq!(r.c.execute(hidden, vec![]).await.unwrap(), serde_json::json!(true));
    r.choose("role", "服务站工作人员").await;
    assert_eq!(r.c.execute(hidden, vec![]).await.unwrap(), serde_json::json!(false));
    r.choose("station_id", "洛社镇石塘湾村电商服务站").await;
    r.save_form(&[("username", "staff-shitangwan"), ("password", "shitangwan-2026")]).await;
    assert!(r.text("list").await.contains("staff-shitangwan"));
    r.fits_a_phone("/setup/users/new").await;
    r.logout().await;

    // The clerk sees its station only.
    r.go("/login").await;
    r.fill("username", "staff-shitangwan").await;
    r.fill("password", "shitangwan-2026").await;
    r.navigate(Locator::Css("form button[type=submit]")).await;
    assert!(r.main_text().await.contains("洛社镇石塘湾村电商服务站"), "{}", r.main_text().await);
    let (_, stations) = app.get("/api/v1/stations", &app.admin.clone()).await;
    let taoyuan = stations["items"][0]["id"].as_i64().unwrap();
    r.c.goto(&format!("{}/stations/{taoyuan}/products", r.base)).await.unwrap();
    assert!(r.main_text().await.contains("页面不存在"), "another station is not found");
    // That 404 is the answer asked for: taken out of the browser's log.
    let log = r.c.issue_cmd(BrowserLog).await.unwrap();
    assert!(log.to_string().contains("404"), "{log}");
    r.logout().await;

    // The alliance connects its Taobao shop.
    let fake =
        FakePlatform::start(Kind::Taobao, Credentials::new("app-1", "secret-of-the-shop", Some("token-1".into())))
            .await;
    let start = Utc::now() - TimeDelta::hours(2);
    fake.put_order(FakeOrder::new("TB-7001", FakeStatus::Paid, start + TimeDelta::minutes(20)).line(FakeLine::new(
        "TB-7001-1",
        "TB-PEACH-9",
        2,
        Money::from_cents(3960),
    )));
    r.login("alliance").await;
    r.tab_to("nav a[href='/channels']").await;
    r.enter().await;
    r.navigate(Locator::LinkText("淘宝店（taobao）")).await;
    r.choose("platform", "淘宝").await;
    let local = start.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT%H:%M").to_string();
    r.c.execute(&format!("document.getElementById('start_at').value = '{local}';"), vec![]).await.unwrap();
    r.save_form(&[
        ("base_url", &fake.base_url()),
        ("app_key", "app-1"),
        ("app_secret", "secret-of-the-shop"),
        ("access_token", "token-1"),
        ("interval_seconds", "600"),
    ])
    .await;
    assert!(r.text("notice").await.contains("已保存"));
    assert!(!r.main_text().await.contains("secret-of-the-shop"));
    r.click("sync").await;
    assert!(r.text("notice").await.contains("待处理 1 笔"), "{}", r.text("notice").await);
    let parked = r.text("parked").await;
    assert!(parked.contains("TB-7001") && parked.contains("未知的商家编码 TB-PEACH-9"), "{parked}");
    r.screenshot("feed").await;
    let feed = r.path().await.trim_end_matches("/sync").to_owned();
    r.fits_a_phone(&feed).await;

    // Giving a product the merchant code clears it at the next sync.
    let (_, products) =
        app.get(&format!("/api/v1/stations/{taoyuan}/products?status=listed&limit=1"), &app.admin.clone()).await;
    let product = products["items"][0]["id"].as_i64().unwrap();
    r.logout().await;
    r.login("staff-taoyuan").await;
    r.go(&format!("/products/{product}")).await;
    r.fill("sku", "TB-PEACH-9").await;
    r.click("save").await;
    r.logout().await;
    r.login("alliance").await;
    r.go(&feed).await;
    r.click("sync").await;
    assert!(r.text("notice").await.contains("新订单 1 笔"), "{}", r.text("notice").await);
    assert!(r.text("parked").await.contains("没有待处理"));
    assert_eq!(fake.rejected(), 0);

    // A webhook endpoint: its secret once, with a copy button.
    r.go("/webhooks").await;
    r.fill("url", "http://127.0.0.1:9/accounting").await;
    r.c.find(Locator::Css("input[name=events][value='order.created']")).await.unwrap().click().await.unwrap();
    r.click("create-webhook").await;
    let secret = r.text("secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(r.text("created").await.contains("它只显示这一次"));
    r.screenshot("webhook-created").await;
    r.go("/webhooks").await;
    assert!(!r.main_text().await.contains(&secret), "shown once");
    r.fits_a_phone("/webhooks").await;
    r.logout().await;
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_township_without_curl_on_sqlite() {
    a_new_township_without_curl(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hezuo_postgres), ignore = "set HEZUO_TEST_DATABASE_URL to run on PostgreSQL")]
async fn a_new_township_without_curl_on_postgres() {
    a_new_township_without_curl(Db::Postgres).await;
}
