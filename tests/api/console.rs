//! The web console over HTTP (API.md "Web console"): log-in and log-out, session cookies, CSRF,
//! sessions ended by disabling a user, every role's pages with exact figures, errors in Chinese
//! next to their field with nothing changed, and other tenants' objects as a Chinese 404.

use crate::visitor::{PASSWORD, Page, Visitor, chinese_404, staff_of, user};
use hezuo_tests::{Tenant, TestApp, db_tests, json};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

async fn log_in_and_out(app: TestApp) {
    let t = app.tenant(1).await;
    user(&app, "staff1", "staff", ("station_id", t.station)).await;
    let mut v = Visitor::new(&app);

    // No session: every page sends to the log-in form, which is in Chinese.
    let p = v.get("/").await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login?next=/")));
    let p = v.get(&format!("/stations/{}/products", t.station)).await;
    assert_eq!(p.location.as_deref(), Some(format!("/login?next=/stations/{}/products", t.station).as_str()));
    let p = v.get("/login").await;
    assert!(
        p.html.contains("<html lang=\"zh-CN\">")
            && p.html.contains("name=\"username\"")
            && p.html.contains("name=\"password\"")
    );

    // A form without the log-in cookie's token is refused and logs no one in.
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = anon
        .post(format!("{}/login", app.base))
        .form(&[("username", "staff1"), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get(SET_COOKIE).is_none());

    // A wrong password: 401, in Chinese, the username kept, no session.
    let p = v.post("/login", &[("username", "staff1"), ("password", "wrong-password"), ("next", "/")]).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("用户名或密码错误") && p.html.contains("value=\"staff1\""), "{}", p.html);
    assert!(!p.cookies.iter().any(|c| c.starts_with("hezuo_session=")));

    // The right one: a session cookie that scripts cannot read, not Secure over plain http.
    let p = v.post("/login", &[("username", "staff1"), ("password", PASSWORD), ("next", "/")]).await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let session = p.cookies.iter().find(|c| c.starts_with("hezuo_session=")).expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "{session}");
    let cookie = cookie_value(session);
    assert_eq!(with_cookie(&app, &format!("/stations/{}/products", t.station), &cookie).await, StatusCode::OK);
    let p = v.get("/").await;
    assert_eq!(p.location.as_deref(), Some(format!("/stations/{}/products", t.station).as_str()));
    let p = v.get(&format!("/stations/{}/products", t.station)).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("退出") && p.html.contains("服务站工作人员"));
    assert_eq!(p.cookies.len(), 0);
    assert!(p.html.contains("action=\"/logout\""));

    // Log-out needs the session's token too; then the session is gone.
    let csrf = v.csrf.clone();
    v.csrf = "0".repeat(32);
    let p = v.post("/logout", &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("页面已过期"));
    assert_eq!(v.get(&format!("/stations/{}/products", t.station)).await.status, StatusCode::OK);
    v.csrf = csrf;
    let p = v.post("/logout", &[]).await;
    assert_eq!((p.status, p.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    let p = v.get(&format!("/stations/{}/products", t.station)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // The token itself is deleted, not just the cookie.
    let p = with_cookie(&app, &format!("/stations/{}/products", t.station), &cookie).await;
    assert_eq!(p, StatusCode::SEE_OTHER);
}

/// The value of a `Set-Cookie: name=value; …`.
fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
}

/// A request that carries the session cookie by hand, whatever a browser would keep.
async fn with_cookie(app: &TestApp, path: &str, session: &str) -> StatusCode {
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = anon
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("hezuo_session={session}"))
        .send()
        .await
        .unwrap();
    res.status()
}

async fn disabling_a_user_ends_the_session(app: TestApp) {
    let t = app.tenant(1).await;
    let uid = user(&app, "staff1", "staff", ("station_id", t.station)).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("staff1", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let page = format!("/stations/{}/products", t.station);
    assert_eq!(v.get(&page).await.status, StatusCode::OK);
    let (s, _) =
        app.patch(&format!("/api/v1/users/{uid}"), &app.admin, json!({"password": "another-password-1"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.get(&page).await.location.as_deref(), Some(format!("/login?next={page}").as_str()));
    assert_eq!(v.login("staff1", "another-password-1").await.status, StatusCode::SEE_OTHER);
    assert_eq!(v.get(&page).await.status, StatusCode::OK);
    let (s, _) = app.patch(&format!("/api/v1/users/{uid}"), &app.admin, json!({"disabled": true})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.get(&page).await.status, StatusCode::SEE_OTHER);
}

async fn staff_create_products_and_receive_lots(app: TestApp) {
    let t = app.tenant(1).await;
    let other = app.tenant(2).await;
    let mut v = staff_of(&app, &t, "staff1").await;
    let list = format!("/stations/{}/products", t.station);
    assert_eq!(v.get(&format!("{list}/new")).await.status, StatusCode::OK);

    // A bad price: 422, the message in Chinese next to the price field, nothing created.
    let fields =
        [("name", "阳山水蜜桃"), ("unit", "斤"), ("price", "0"), ("status", "listed"), ("low_stock_threshold", "20")];
    let p = v.post(&format!("{list}/new"), &fields).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("<p class=\"error\" id=\"price-error\">价格必须大于 0</p>"), "{}", p.html);
    assert!(p.html.contains("value=\"阳山水蜜桃\""), "the form keeps what was typed");
    let (_, products) = app.get(&format!("/api/v1/stations/{}/products", t.station), &t.staff_token).await;
    assert_eq!(products["items"].as_array().unwrap().len(), 0);
    // Not a number at all: the same place, still nothing.
    let p = v.post(&format!("{list}/new"), &[("name", "桃"), ("unit", "斤"), ("price", "十二元")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"price-error\">价格"), "{}", p.html);

    // A good one.
    let fields = [
        ("name", "阳山水蜜桃"),
        ("unit", "斤"),
        ("price", "12.80"),
        ("status", "listed"),
        ("low_stock_threshold", "20"),
    ];
    let p = v.post(&format!("{list}/new"), &fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let loc = p.location.unwrap();
    let id: i64 = loc.trim_start_matches("/products/").split('?').next().unwrap().parse().unwrap();
    let (_, product) = app.get(&format!("/api/v1/products/{id}"), &t.staff_token).await;
    assert_eq!((product["price"].as_str(), product["status"].as_str()), (Some("12.80"), Some("listed")));

    // Listed with no stock: below its threshold, marked in words, not only colour.
    let p = v.get(&list).await;
    assert!(
        p.html.contains("阳山水蜜桃") && p.html.contains("⚠ 库存不足") && p.html.contains("0.000 斤"),
        "{}",
        p.html
    );

    // Receive a lot from a member household: the households offered are the cooperative's.
    let form = v.get(&format!("/products/{id}/lots/new")).await;
    assert!(form.html.contains("农户1-0") && form.html.contains("农户1-1") && !form.html.contains("农户2-0"));
    let h = t.households[0].to_string();
    let p = v
        .post(&format!("/products/{id}/lots/new"), &[("household_id", &h), ("quantity", "-3"), ("floor_price", "8.00")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"quantity-error\">数量"), "{}", p.html);
    let foreign = other.households[0].to_string();
    let p = v
        .post(
            &format!("/products/{id}/lots/new"),
            &[("household_id", &foreign), ("quantity", "50"), ("floor_price", "8.00")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"household_id-error\">农户"), "{}", p.html);
    let p = v
        .post(&format!("/products/{id}/lots/new"), &[("household_id", &h), ("quantity", "50"), ("floor_price", "8.00")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let (_, product) = app.get(&format!("/api/v1/products/{id}"), &t.staff_token).await;
    assert_eq!(product["stock"], "50.000");
    let p = v.get(&format!("/products/{id}")).await;
    assert!(p.html.contains("<strong id=\"stock\">50.000 斤</strong>") && p.html.contains("农户1-0"), "{}", p.html);
    assert!(!v.get(&list).await.html.contains("⚠ 库存不足"));

    // Edit: a bad change is refused in place and changes nothing.
    let p = v
        .post(
            &format!("/products/{id}"),
            &[("name", "阳山水蜜桃"), ("unit", "斤"), ("price", "-1"), ("status", "listed")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"price-error\">价格"));
    let p = v
        .post(
            &format!("/products/{id}"),
            &[("name", "阳山水蜜桃（精品）"), ("unit", "斤"), ("price", "15.00"), ("status", "listed")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let (_, product) = app.get(&format!("/api/v1/products/{id}"), &t.staff_token).await;
    assert_eq!((product["name"].as_str(), product["price"].as_str()), (Some("阳山水蜜桃（精品）"), Some("15.00")));

    // A form of another site (no token, or a wrong one) changes nothing.
    v.csrf = "f".repeat(32);
    let p = v
        .post(&format!("/products/{id}"), &[("name", "改名"), ("unit", "斤"), ("price", "1.00"), ("status", "listed")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let (_, product) = app.get(&format!("/api/v1/products/{id}"), &t.staff_token).await;
    assert_eq!(product["price"], "15.00");

    // Staff of another station: this station's product and list are a Chinese 404.
    let mut stranger = staff_of(&app, &other, "staff2").await;
    chinese_404(&stranger.get(&format!("/products/{id}")).await);
    chinese_404(&stranger.get(&list).await);
    chinese_404(&stranger.get(&format!("/products/{id}/lots/new")).await);
    let p = stranger
        .post(&format!("/products/{id}/lots/new"), &[("household_id", &h), ("quantity", "5"), ("floor_price", "1")])
        .await;
    chinese_404(&p);
    let (_, product) = app.get(&format!("/api/v1/products/{id}"), &t.staff_token).await;
    assert_eq!(product["stock"], "50.000");
    // Pages of other roles are refused in Chinese.
    let p = stranger.get(&format!("/villages/{}/revenue", other.village)).await;
    assert_eq!(p.status, StatusCode::OK, "staff read their station's village's revenue");
    let p = stranger.get("/statements").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("无权访问"));
}

async fn unknown_pages_are_chinese_and_the_api_stays_json(app: TestApp) {
    let mut v = Visitor::new(&app);
    chinese_404(&v.get("/no/such/page").await);
    let (s, body) = app.get("/api/v1/no-such-thing", &app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let p = v.get("/login").await;
    let css = p.html.split("rel=\"stylesheet\" href=\"/assets/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let res = app.http.get(format!("{}/assets/{css}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        app.http.get(format!("{}/assets/console.css", app.base)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let res = app.http.get(format!("{}/login", app.base)).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(res.headers()["cache-control"], "no-store");
}

/// Sessions expire like login tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_like_login_tokens() {
    let app = TestApp::spawn_with(hezuo_tests::Db::Sqlite, |c| c.login_token_ttl = std::time::Duration::from_secs(1))
        .await
        .unwrap();
    let t = app.tenant(1).await;
    user(&app, "staff1", "staff", ("station_id", t.station)).await;
    let mut v = Visitor::new(&app);
    let p = v.login("staff1", PASSWORD).await;
    let cookie = cookie_value(p.cookies.iter().find(|c| c.starts_with("hezuo_session=")).unwrap());
    let page = format!("/stations/{}/products", t.station);
    assert_eq!(with_cookie(&app, &page, &cookie).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // The browser would have dropped the cookie; the server refuses it anyway.
    assert_eq!(with_cookie(&app, &page, &cookie).await, StatusCode::SEE_OTHER);
}

/// A listed product with a lot of 100 from the tenant's first household, and one taobao order of it.
async fn one_sale(app: &TestApp, t: &Tenant, ext: &str) -> i64 {
    let (s, p) = app
        .post(
            &format!("/api/v1/stations/{}/products", t.station),
            &t.staff_token,
            json!({"name": "大米", "unit": "kg", "price": "10.00", "status": "listed"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/products/{pid}/lots"),
            &t.staff_token,
            json!({"household_id": t.households[0], "quantity": "100", "floor_price": "5.00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, o) = app
        .post(
            "/api/v1/orders",
            &t.staff_token,
            json!({"station_id": t.station, "channel": "taobao", "external_id": ext, "placed_at": "2026-03-10T09:00:00+08:00",
                   "lines": [{"product_id": pid, "quantity": "10", "unit_price": "10.00"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    o["id"].as_i64().unwrap()
}

async fn village_income_chart_print_and_member_accounts(app: TestApp) {
    app.set_time(Some("2026-03-20T10:00:00+08:00"));
    let t = app.tenant(1).await;
    let other = app.tenant(2).await;
    one_sale(&app, &t, "TB-1").await; // 100.00 gross, fee 5.00, the collective's 5 % of 95.00: 4.75
    user(&app, "cun1", "village", ("village_id", t.village)).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("cun1", PASSWORD).await.location.as_deref(), Some("/"));
    let home = format!("/villages/{}/revenue", t.village);
    assert_eq!(v.get("/").await.location.as_deref(), Some(home.as_str()));

    let p = v.get(&format!("{home}?year=2026")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("id=\"income-chart\"") && p.html.contains("role=\"img\""), "{}", p.html);
    assert!(p.html.contains("<th scope=\"row\">2026-03</th><td class=\"num\">4.75</td><td class=\"num\">0.00</td><td class=\"num\">0.00</td><td class=\"num\">4.75</td>"), "{}", p.html);
    assert!(p.html.contains("薄弱村：低于目标") && p.html.contains("<strong id=\"target\">100000.00 元</strong>"));
    let chart = p
        .html
        .split("data-chart=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#34;", "\"")
        .replace("&quot;", "\"");
    let chart: serde_json::Value = serde_json::from_str(&chart).unwrap();
    assert_eq!(chart["sales_share"][2], "4.75", "the chart's data are the table's: {chart}");
    assert_eq!(chart["target"][0], "100000.00");

    // Other income: a bad amount is refused next to its field, nothing recorded.
    let bad = [("date", "2026-03-05"), ("amount", "0"), ("category", "rent"), ("note", "厂房租金")];
    let p = v.post(&format!("/villages/{}/income", t.village), &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"amount-error\">金额必须大于 0</p>"), "{}", p.html);
    let p = v
        .post(
            &format!("/villages/{}/income", t.village),
            &[("date", "2026-03-05"), ("amount", "100"), ("category", "subsidy"), ("note", "补助")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"category-error\">类别须为租赁、服务、投资收益或其他经营"), "{}", p.html);
    let (_, list) = app.get(&format!("/api/v1/villages/{}/income?year=2026", t.village), &t.village_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let good = [
        ("date", "2026-03-05"),
        ("amount", "1200.00"),
        ("category", "rent"),
        ("note", "厂房租金"),
        ("covers_from", "2026-01"),
        ("covers_to", "2026-12"),
    ];
    let p = v.post(&format!("/villages/{}/income", t.village), &good).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = v.get(&format!("{home}?year=2026")).await;
    assert!(p.html.contains("<th scope=\"row\">2026-03</th><td class=\"num\">4.75</td><td class=\"num\">0.00</td><td class=\"num\">100.00</td><td class=\"num\">104.75</td>"), "{}", p.html);
    assert!(p.html.contains("<strong id=\"total\">1204.75 元</strong>"), "{}", p.html);

    // The print view: A4, the village and the period at the top of every page.
    let p = v.get(&format!("/villages/{}/print?year=2026", t.village)).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.html.contains("@top-center { content: \"桃源村1（320206103201）· 2026 年 1 月至 12 月集体经营收入\""),
        "{}",
        p.html
    );

    // Households and a member account that closes on the ledger: 95.00 × 0.70 = 66.50.
    let p = v.get(&format!("/villages/{}/households", t.village)).await;
    assert!(p.html.contains("农户1-0") && p.html.contains(&format!("/households/{}/statement", t.households[0])));
    let p = v.get(&format!("/households/{}/statement?from=2026-01-01&to=2026-12-31", t.households[0])).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("<strong id=\"closing\">66.50 元</strong>") && p.html.contains("TB-1"), "{}", p.html);
    let p = v.get(&format!("/households/{}/statement?from=2026-12-31&to=2026-01-01", t.households[0])).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("class=\"error\""), "{}", p.html);

    // Another village's pages and households are not found.
    chinese_404(&v.get(&format!("/villages/{}/revenue", other.village)).await);
    chinese_404(&v.get(&format!("/households/{}/statement", other.households[0])).await);
    let p = v.post(&format!("/villages/{}/income", other.village), &good).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

async fn alliance_uploads_a_statement_and_resolves_an_item(app: TestApp) {
    app.set_time(Some("2026-03-20T10:00:00+08:00"));
    let t = app.tenant(1).await;
    one_sale(&app, &t, "TB-1").await; // books expect 95.00
    user(&app, "lianmeng1", "alliance", ("alliance_id", t.alliance)).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("lianmeng1", PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(v.get("/").await.location.as_deref(), Some("/stations"));
    assert!(v.get("/stations").await.html.contains("服务站1"));
    let p = v.get("/statements").await;
    assert!(p.html.contains("enctype=\"multipart/form-data\"") && p.html.contains("value=\"taobao\""));

    const STATEMENT: &str = "external_id,kind,amount,fee,settled_at\nTB-1,sale,100.00,6.00,2026-03-11 10:00:00\nX-9,sale,20.00,1.00,2026-03-11 11:00:00\n";
    let (http, base) = (v.http.clone(), v.base.clone());
    let send = |csrf: String, channel: &'static str, body: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .text("channel", channel)
            .text("format", "generic")
            .part("file", reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name("taobao.csv"));
        http.post(format!("{base}/statements")).multipart(form).send()
    };
    // A channel of no one: the error is beside the channel field and nothing is imported.
    let res = send(v.csrf.clone(), "pinduoduo", "external_id,kind\n").await.unwrap();
    let p = v.read(res).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"channel-error\">"), "{}", p.html);
    let res = send("forged".into(), "taobao", STATEMENT).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, list) = app.get("/api/v1/reconciliation/statements", &t.alliance_token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    let res = send(v.csrf.clone(), "taobao", STATEMENT).await.unwrap();
    let p = v.read(res).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let page = p.location.unwrap();
    let p = v.get(&page).await;
    // TB-1: 94.00 against 95.00; X-9: 19.00 not in the books.
    assert!(p.html.contains("<th scope=\"row\"><a href=\"") && p.html.contains("金额不符</a></th><td class=\"num\">1</td><td class=\"num\">94.00</td><td class=\"num\">95.00</td><td class=\"num\">-1.00</td>"), "{}", p.html);
    assert!(p.html.contains("账上没有</a></th><td class=\"num\">1</td><td class=\"num\">19.00</td>"), "{}", p.html);

    let id = p.html.split("action=\"/items/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let sid = page.trim_start_matches("/statements/").to_owned();
    let p = v.post(&format!("/items/{id}/resolve"), &[("note", ""), ("statement_id", &sid)]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(&format!("id=\"note-{id}-error\">")), "{}", p.html);
    let p = v.post(&format!("/items/{id}/resolve"), &[("note", "平台多扣 1 元，已申诉"), ("statement_id", &sid)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert!(v.get(&page).await.html.contains("已处理：平台多扣 1 元，已申诉"));

    let res = v.http.get(format!("{}{page}/items.csv", v.base)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert!(csv.contains("TB-1") && csv.contains("X-9"), "{csv}");
    let res = v.http.get(format!("{}{page}/items.xlsx", v.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");

    // The ranking: the tenant's village, weak.
    let p = v.get("/villages?year=2026").await;
    assert!(p.html.contains("桃源村1") && p.html.contains("<strong class=\"tag-weak\">薄弱村</strong>"), "{}", p.html);
    assert!(p.html.contains("<strong>1</strong> 个，共 1 个村"), "{}", p.html);
}

/// Sends a multipart form with the visitor's CSRF token (or `csrf`) and a file.
async fn upload(v: &mut Visitor, path: &str, csrf: Option<&str>, file: &str) -> Page {
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.map_or_else(|| v.csrf.clone(), str::to_owned))
        .part("file", reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("import.csv"));
    let res = v.http.post(format!("{}{path}", v.base)).multipart(form).send().await.unwrap();
    v.read(res).await
}

async fn staff_list_refund_and_ship_orders(app: TestApp) {
    app.set_time(Some("2026-03-20T10:00:00+08:00"));
    let t = app.tenant(1).await;
    let other = app.tenant(2).await;
    let order = one_sale(&app, &t, "TB-1").await;
    let mut v = staff_of(&app, &t, "staff1").await;
    let list = format!("/stations/{}/orders", t.station);
    assert!(
        v.get(&format!("/stations/{}/products", t.station)).await.html.contains(&format!("href=\"{list}\"")),
        "orders are in the nav"
    );

    // The last 30 days by default; filters by date, status and channel.
    let p = v.get(&list).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("value=\"2026-02-18\""), "{}", p.html);
    let row = format!(
        "<a href=\"/orders/{order}\">订单 {order}</a></td><td>taobao TB-1</td><td>2026-03-10 09:00</td><td>待发货</td><td class=\"num\">100.00</td><td class=\"num\">0.00</td>"
    );
    assert!(p.html.contains(&row), "{}", p.html);
    assert!(!v.get(&format!("{list}?from=2026-03-11")).await.html.contains("TB-1"));
    assert!(v.get(&format!("{list}?from=&to=2026-03-10")).await.html.contains("TB-1"), "to includes its day");
    assert!(!v.get(&format!("{list}?from=&status=shipped")).await.html.contains("TB-1"));
    assert!(!v.get(&format!("{list}?from=&channel=own")).await.html.contains("TB-1"));
    let p = v.get(&format!("{list}?from=2026-13-01")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"from-error\">开始日期须为日期"), "{}", p.html);

    // The detail: every part's split, 100.00 = 5.00 + 66.50 + 4.75 + 4.75 + 19.00.
    let page = format!("/orders/{order}");
    let p = v.get(&page).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("<td>农户1-0</td><td class=\"num\">10.000</td><td class=\"num\">100.00</td><td class=\"num\">5.00</td><td class=\"num\">66.50</td><td class=\"num\">4.75</td><td class=\"num\">4.75</td><td class=\"num\">19.00</td><td class=\"num\">0.00</td>"), "{}", p.html);
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), &t.staff_token).await;
    let line = o["lines"][0]["id"].as_i64().unwrap().to_string();
    let pid = o["lines"][0]["product_id"].as_i64().unwrap();

    // A refund above the line's gross: refused beside the amount, nothing refunded.
    let refund = format!("/orders/{order}/refund");
    let fields =
        [("line_id", line.as_str()), ("amount", "100.01"), ("quantity", "1"), ("restock", "1"), ("reason", "坏果")];
    let p = v.post(&refund, &fields).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains(&format!("id=\"amount-{line}-error\">金额超过本行还可退的金额</p>")), "{}", p.html);
    assert!(p.html.contains("value=\"100.01\""), "the form keeps what was typed");
    let p =
        v.post(&refund, &[("line_id", line.as_str()), ("amount", "10.00"), ("quantity", "1"), ("reason", "")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(&format!("id=\"reason-{line}-error\">原因")), "{}", p.html);
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), &t.staff_token).await;
    assert_eq!(o["refunded"], "0.00");

    // 10.00 and one kg back to stock.
    let p = v
        .post(
            &refund,
            &[("line_id", line.as_str()), ("amount", "10.00"), ("quantity", "1"), ("restock", "1"), ("reason", "坏果")],
        )
        .await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (StatusCode::SEE_OTHER, Some(format!("{page}?done=refunded").as_str()))
    );
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), &t.staff_token).await;
    assert_eq!((o["refunded"].as_str(), o["lines"][0]["returned"].as_str()), (Some("10.00"), Some("1.000")));
    let (_, product) = app.get(&format!("/api/v1/products/{pid}"), &t.staff_token).await;
    assert_eq!(product["stock"], "91.000");
    let p = v.get(&format!("{page}?done=refunded")).await;
    assert!(
        p.html.contains("<dd id=\"order-refunded\">10.00 元</dd>") && p.html.contains("本行还可退 90.00 元"),
        "{}",
        p.html
    );

    // Ship: a tracking number is required; then the order is shipped, once.
    let p = v.post(&format!("{page}/ship"), &[("tracking_number", "  ")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"tracking_number-error\">快递单号"), "{}", p.html);
    let p = v.post(&format!("{page}/ship"), &[("tracking_number", "SF1234567890")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), &t.staff_token).await;
    assert_eq!((o["status"].as_str(), o["tracking_number"].as_str()), (Some("shipped"), Some("SF1234567890")));
    let p = v.get(&page).await;
    assert!(
        p.html.contains("已发货（快递单号 <span id=\"tracking\">SF1234567890</span>）")
            && !p.html.contains("id=\"ship-form\"")
    );
    let p = v.post(&format!("{page}/ship"), &[("tracking_number", "SF0")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("订单当前的状态不能进行此操作"), "{}", p.html);

    // Another station's staff: the order is not found and cannot be refunded.
    let mut stranger = staff_of(&app, &other, "staff2").await;
    chinese_404(&stranger.get(&page).await);
    chinese_404(&stranger.get(&list).await);
    chinese_404(
        &stranger
            .post(&refund, &[("line_id", line.as_str()), ("amount", "1.00"), ("quantity", "0"), ("reason", "x")])
            .await,
    );
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), &t.staff_token).await;
    assert_eq!(o["refunded"], "10.00");
    app.verify().await;
}

async fn staff_import_products_and_lots(app: TestApp) {
    let t = app.tenant(1).await;
    let mut v = staff_of(&app, &t, "staff1").await;
    let page = format!("/stations/{}/import", t.station);
    let p = v.get(&page).await;
    assert!(
        p.status == StatusCode::OK
            && p.html.contains("id=\"import-products\"")
            && p.html.contains("id=\"import-lots\"")
    );

    // Every bad line is listed, in Chinese, and nothing is imported.
    let bad = "name,unit,price,sku\n阳山水蜜桃,斤,0,TAO-1\n,斤,1,\n白凤桃,斤,9.90,TAO-1\n";
    let p = upload(&mut v, &format!("{page}/products"), None, bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("文件中有错误行，未导入任何数据"), "{}", p.html);
    assert!(p.html.contains("<td class=\"num\">2</td><td>价格</td><td>价格必须大于 0</td>"), "{}", p.html);
    assert!(p.html.contains("<td class=\"num\">3</td><td>名称</td><td>名称必须填写</td>"), "{}", p.html);
    assert!(p.html.contains("<td class=\"num\">4</td><td>商家编码</td>"), "{}", p.html);
    let products = format!("/api/v1/stations/{}/products", t.station);
    assert_eq!(app.get(&products, &t.staff_token).await.1["items"].as_array().unwrap().len(), 0);
    // A forged form is refused before the file is read.
    assert_eq!(
        upload(&mut v, &format!("{page}/products"), Some("forged"), "name,unit,price\n桃,斤,1\n").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(&products, &t.staff_token).await.1["items"].as_array().unwrap().len(), 0);

    let good = "商品名称,单位,价格,状态,商家编码\n阳山水蜜桃,斤,15.80,listed,TAO-1\n白凤桃,斤,9.90,listed,\n";
    let p = upload(&mut v, &format!("{page}/products"), None, good).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (StatusCode::SEE_OTHER, Some(format!("{page}?kind=products&imported=2").as_str()))
    );
    assert!(v.get(p.location.as_deref().unwrap()).await.html.contains("已导入 2 条商品。"));
    let (_, list) = app.get(&format!("{products}?q=水蜜桃"), &t.staff_token).await;
    assert_eq!((list["items"][0]["price"].as_str(), list["items"][0]["sku"].as_str()), (Some("15.80"), Some("TAO-1")));
    let peach = list["items"][0]["id"].as_i64().unwrap();

    // Lots: a household outside the cooperative is named with its line.
    let outsider =
        app.create("/api/v1/households", json!({"village_id": t.village, "name": "非社员", "members": 2})).await;
    let h = t.households[0];
    let bad = format!("product_id,household_id,quantity,floor_price\n{peach},{h},100,12.00\n{peach},{outsider},5,12\n");
    let p = upload(&mut v, &format!("{page}/lots"), None, &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("<td class=\"num\">3</td><td>农户</td>"), "{}", p.html);
    assert_eq!(app.get(&format!("/api/v1/products/{peach}"), &t.staff_token).await.1["stock"], "0.000");
    let good =
        format!("product_name,household_id,quantity,floor_price\n阳山水蜜桃,{h},100,12.00\n阳山水蜜桃,{h},20.5,12\n");
    let p = upload(&mut v, &format!("{page}/lots"), None, &good).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert!(v.get(p.location.as_deref().unwrap()).await.html.contains("已导入 2 条批次。"));
    assert_eq!(app.get(&format!("/api/v1/products/{peach}"), &t.staff_token).await.1["stock"], "120.500");

    // Another station's staff cannot import here.
    let other = app.tenant(2).await;
    let mut stranger = staff_of(&app, &other, "staff2").await;
    chinese_404(&stranger.get(&page).await);
    stranger.get(&format!("/stations/{}/import", other.station)).await;
    chinese_404(&upload(&mut stranger, &format!("{page}/products"), None, "name,unit,price\n外,斤,1\n").await);
    assert_eq!(app.get(&products, &t.staff_token).await.1["items"].as_array().unwrap().len(), 2);
}

async fn admin_previews_and_closes_a_period(app: TestApp) {
    app.set_time(Some("2026-03-20T10:00:00+08:00"));
    let t = app.tenant(1).await;
    one_sale(&app, &t, "TB-1").await; // the pool gets 19.00
    user(&app, "admin1", "admin", ("", 0)).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin1", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let p = v.get("/cooperatives").await;
    let page = format!("/cooperatives/{}/periods", t.cooperative);
    assert!(p.html.contains("合作社1") && p.html.contains(&format!("href=\"{page}\"")), "{}", p.html);

    // March has not ended: the preview, but no close.
    let p = v.get(&page).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.html.contains("<span id=\"next-period\">2026-03</span>") && p.html.contains("<dd id=\"pool\">19.00 元</dd>"),
        "{}",
        p.html
    );
    assert!(p.html.contains("id=\"not-ended\"") && !p.html.contains("id=\"close-form\""));

    // In April: R = 1.90, D = 17.10, T = ceil(0.60 × 17.10) = 10.26, dividends 6.84.
    app.set_time(Some("2026-04-02T10:00:00+08:00"));
    let p = v.get(&page).await;
    for part in [
        "<dd id=\"distributable\">17.10 元</dd>",
        "<dd id=\"rebate-total\">10.26 元</dd>",
        "<dd id=\"dividend-total\">6.84 元</dd>",
        "id=\"close-form\"",
        "<td>农户1-0</td>",
        "<td>桃源村1村集体</td>",
    ] {
        assert!(p.html.contains(part), "{part}: {}", p.html);
    }
    let close = format!("/cooperatives/{}/periods/2026-03/close", t.cooperative);
    let p = v.post(&close, &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"confirm-error\">请先勾选确认，再结账"), "{}", p.html);
    let (_, closed) = app.get(&format!("/api/v1/cooperatives/{}/periods", t.cooperative), &app.admin).await;
    assert_eq!(closed.as_array().map_or(0, Vec::len) + closed["items"].as_array().map_or(0, Vec::len), 0, "{closed}");

    let p = v.post(&close, &[("confirm", "1")]).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (StatusCode::SEE_OTHER, Some(format!("{page}?closed=2026-03").as_str()))
    );
    let p = v.get(&format!("{page}?closed=2026-03")).await;
    assert!(
        p.html.contains("2026-03 已结账。") && p.html.contains("<span id=\"next-period\">2026-04</span>"),
        "{}",
        p.html
    );
    assert!(p.html.contains("<td>2026-03</td><td class=\"num\">19.00</td>"), "{}", p.html);
    let (_, preview) =
        app.get(&format!("/api/v1/cooperatives/{}/periods/2026-03/close", t.cooperative), &app.admin).await;
    assert_eq!((preview["rebate_total"].as_str(), preview["closed_at"].is_string()), (Some("10.26"), true));

    // Staff may not close.
    let mut staff = staff_of(&app, &t, "staff1").await;
    assert_eq!(staff.get(&page).await.status, StatusCode::FORBIDDEN);
    app.verify().await;
}

db_tests!(
    log_in_and_out,
    disabling_a_user_ends_the_session,
    staff_create_products_and_receive_lots,
    unknown_pages_are_chinese_and_the_api_stays_json,
    village_income_chart_print_and_member_accounts,
    alliance_uploads_a_statement_and_resolves_an_item,
    staff_list_refund_and_ship_orders,
    staff_import_products_and_lots,
    admin_previews_and_closes_a_period,
);
