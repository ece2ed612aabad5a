//! 基础设置 in the console (API.md "Console: set-up and integrations"): every form creates and
//! edits like the API, shows each refusal beside its field in Chinese (a repeated code as
//! 已存在), refuses a forged form and another role, and stores nothing when it refuses.

use crate::visitor::{PASSWORD, Page, Visitor, beside, staff_of, user};
use hezuo_tests::{TestApp, db_tests};
use reqwest::StatusCode;

async fn admin(app: &TestApp) -> Visitor {
    user(app, "admin1", "admin", ("", 0)).await;
    let mut v = Visitor::new(app);
    let p = v.login("admin1", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(v.get("/").await.location.as_deref(), Some("/setup"), "the admin's home is 基础设置");
    v
}

/// The id at the end of a redirect's `saved=`.
fn saved(p: &Page) -> i64 {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let to = p.location.as_deref().unwrap();
    to.rsplit("saved=").next().unwrap().parse().unwrap_or_else(|_| panic!("{to}"))
}

async fn count(app: &TestApp, table: &str) -> String {
    app.rows(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await[0][0].clone()
}

async fn villages_households_and_stations(app: TestApp) {
    let mut v = admin(&app).await;
    let home = v.get("/setup").await;
    assert!(
        home.html.contains("id=\"count-villages\">0<") && home.html.contains("id=\"count-users\">1<"),
        "{}",
        home.html
    );

    assert!(
        home.html.contains("id=\"count-failing-feeds\">0<") && home.html.contains("id=\"count-dead-deliveries\">0<")
    );

    // 村: a bad code beside its field, then a good one, then the same code again.
    let p = v.get("/setup/villages/new").await;
    assert!(p.html.contains("name=\"code\"") && p.html.contains("name=\"income_target\""));
    let p = v.post("/setup/villages/new", &[("name", "桃源村"), ("code", "3202"), ("township", "阳山镇")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(beside(&p, "code"), "代码须为 12 位统计用区划代码");
    assert!(p.html.contains("value=\"桃源村\""), "what was typed is kept");
    assert_eq!(count(&app, "villages").await, "0");
    let village = saved(
        &v.post(
            "/setup/villages/new",
            &[("name", "桃源村"), ("code", "320206103201"), ("township", "阳山镇"), ("income_target", "50000")],
        )
        .await,
    );
    let p = v.post("/setup/villages/new", &[("name", "另一村"), ("code", "320206103201")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(beside(&p, "code").starts_with("已存在"), "{}", beside(&p, "code"));
    let p = v
        .post(
            &format!("/setup/villages/{village}"),
            &[("name", "桃源村"), ("income_target", "-1"), ("township", "阳山镇")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(beside(&p, "income_target"), "年度收入目标不能为负数");
    saved(
        &v.post(
            &format!("/setup/villages/{village}"),
            &[("name", "桃源村"), ("income_target", "60000.00"), ("township", "阳山镇")],
        )
        .await,
    );
    let (_, got) = app.get(&format!("/api/v1/villages/{village}"), &app.admin.clone()).await;
    assert_eq!((got["income_target"].as_str(), got["township"].as_str()), (Some("60000.00"), Some("阳山镇")));
    let list = v.get("/setup/villages?q=桃源").await;
    assert!(list.html.contains("桃源村") && list.html.contains("320206103201") && list.html.contains("共 1 条"));
    assert!(v.get("/setup/villages?q=火炬").await.html.contains("共 0 条"));

    // 农户: chosen by village name; the members' rule beside its field.
    let p = v.get(&format!("/setup/households/new?village_id={village}")).await;
    assert!(
        p.html.contains(&format!("<option value=\"{village}\" selected>桃源村（320206103201）</option>")),
        "{}",
        p.html
    );
    let vid = village.to_string();
    let p = v.post("/setup/households/new", &[("village_id", &vid), ("name", "王建国"), ("members", "0")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(beside(&p, "members").starts_with("人口数"), "{}", beside(&p, "members"));
    let p = v.post("/setup/households/new", &[("name", "王建国"), ("members", "4")]).await;
    assert_eq!(beside(&p, "village_id"), "村必须填写");
    assert_eq!(count(&app, "households").await, "0");
    let household =
        saved(&v.post("/setup/households/new", &[("village_id", &vid), ("name", "王建国"), ("members", "4")]).await);
    saved(&v.post(&format!("/setup/households/{household}"), &[("name", "王建国"), ("members", "5")]).await);
    let (_, h) = app.get(&format!("/api/v1/households/{household}"), &app.admin.clone()).await;
    assert_eq!(h["members"], 5);

    // 合作社: members and rule versions, the legal floor explained.
    let coop = v.post("/setup/cooperatives/new", &[("name", "阳山水蜜桃专业合作社")]).await;
    assert_eq!(coop.status, StatusCode::SEE_OTHER);
    let coop_path = coop.location.unwrap().split('?').next().unwrap().to_owned();
    let hid = household.to_string();
    saved_member(&mut v, &coop_path, &[("household_id", &hid), ("capital", "20000")]).await;
    saved_member(&mut v, &coop_path, &[("village_id", &vid), ("capital", "60000")]).await;
    let p = v.post(&format!("{coop_path}/members"), &[("household_id", &hid), ("capital", "1")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(beside(&p, "household_id").starts_with("已存在"));
    let rule = |rebate: &'static str| {
        vec![
            ("effective_from", "2026-01-01"),
            ("household_share", "0.70"),
            ("station_fee_rate", "0.05"),
            ("collective_rate", "0.05"),
            ("reserve_rate", "0.10"),
            ("rebate_rate", rebate),
        ]
    };
    let p = v.post(&format!("{coop_path}/rules"), &rule("0.50")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        beside(&p, "rebate_rate").contains("不得低于 0.60：《农民专业合作社法》第四十四条"),
        "{}",
        beside(&p, "rebate_rate")
    );
    assert_eq!(count(&app, "rule_versions").await, "0");
    let p = v.post(&format!("{coop_path}/rules"), &rule("0.60")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = v.get(&coop_path).await;
    assert!(page.html.contains("农户 王建国") && page.html.contains("20000.00") && page.html.contains("村集体 桃源村"));
    assert!(page.html.contains("已生效，不能修改") && page.html.contains("二次返利比例"), "{}", page.html);
    let households = v.get(&format!("/setup/households?village_id={village}")).await;
    assert!(households.html.contains("阳山水蜜桃专业合作社（出资 20000.00）"), "{}", households.html);

    // 服务站 with its phone; 渠道 with a repeated code.
    let (_, alliance) =
        app.post("/api/v1/alliances", &app.admin.clone(), hezuo_tests::json!({"name": "惠山区电商联盟"})).await;
    let aid = alliance["id"].to_string();
    let cid = coop_path.rsplit('/').next().unwrap().to_owned();
    let station_form = |phone: &'static str| {
        vec![
            ("name", "桃源村电商服务站"),
            ("village_id", vid.as_str()),
            ("cooperative_id", cid.as_str()),
            ("alliance_id", aid.as_str()),
            ("phone", phone),
        ]
    };
    let p = v.post("/setup/stations/new", &station_form("电话")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(beside(&p, "phone").starts_with("电话须为电话号码"), "{}", beside(&p, "phone"));
    let station = saved(&v.post("/setup/stations/new", &station_form("0510-83591201")).await);
    saved(&v.post(&format!("/setup/stations/{station}"), &[("name", "桃源村电商服务站"), ("phone", "")]).await);
    let (_, s) = app.get(&format!("/api/v1/stations/{station}"), &app.admin.clone()).await;
    assert_eq!(s["phone"], serde_json::Value::Null, "a cleared phone is removed");
    let channel =
        |code: &'static str| vec![("code", code), ("name", "自营店"), ("fee_rate", "0"), ("alliance_id", aid.as_str())];
    let ch = saved(&v.post("/setup/channels/new", &channel("own")).await);
    let p = v.post("/setup/channels/new", &channel("own")).await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(beside(&p, "code").starts_with("已存在"));
    let p = v.post(&format!("/setup/channels/{ch}"), &[("name", "自营店"), ("fee_rate", "1.5")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(beside(&p, "fee_rate").starts_with("平台费率"), "{}", beside(&p, "fee_rate"));
    assert_eq!(count(&app, "channels").await, "1");

    // A forged form and another role: refused, nothing stored.
    let csrf = std::mem::replace(&mut v.csrf, "forged".into());
    let p = v.post("/setup/villages/new", &[("name", "伪造村"), ("code", "320206103299")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    v.csrf = csrf;
    let t = app.tenant(7).await;
    let mut staff = staff_of(&app, &t, "clerk7").await;
    staff.get(&format!("/stations/{}/products", t.station)).await;
    let p = staff.post("/setup/villages/new", &[("name", "越权村"), ("code", "320206103298")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(staff.get("/setup").await.status, StatusCode::FORBIDDEN);
    let p = staff.post(&format!("/setup/stations/{station}"), &[("name", "改名")]).await;
    assert!(p.status == StatusCode::FORBIDDEN || p.status == StatusCode::NOT_FOUND, "{}", p.status);
    let found = app.rows("SELECT name FROM villages WHERE code IN ('320206103299', '320206103298')").await;
    assert!(found.is_empty(), "{found:?}");
}

async fn saved_member(v: &mut Visitor, coop: &str, fields: &[(&str, &str)]) {
    let p = v.post(&format!("{coop}/members"), fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
}

async fn users_are_created_disabled_and_reset(app: TestApp) {
    let t = app.tenant(1).await;
    let mut v = admin(&app).await;
    let p = v.get("/setup/users/new").await;
    for text in ["name=\"station_id\"", "data-for-role=\"staff\"", "角色为服务站工作人员时必填", "角色为村集体时必填"]
    {
        assert!(p.html.contains(text), "{text}: {}", p.html);
    }
    // The role needs its scope: beside the field, nothing stored.
    let p = v
        .post("/setup/users/new", &[("username", "clerk-new"), ("password", "a-good-password"), ("role", "staff")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"station_id-error\""), "{}", p.html);
    assert!(!p.html.contains("a-good-password"), "the password is never shown again");
    let sid = t.station.to_string();
    let vid = t.village.to_string();
    // A scope of another role left selected is not sent.
    let u = saved(
        &v.post(
            "/setup/users/new",
            &[
                ("username", "clerk-new"),
                ("password", "a-good-password"),
                ("role", "staff"),
                ("station_id", &sid),
                ("village_id", &vid),
            ],
        )
        .await,
    );
    let p = v
        .post(
            "/setup/users/new",
            &[("username", "clerk-new"), ("password", "another-password"), ("role", "staff"), ("station_id", &sid)],
        )
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(beside(&p, "username").starts_with("已存在"));
    let p = v.post("/setup/users/new", &[("username", "x"), ("password", "short"), ("role", "admin")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The clerk logs in and sees only its station.
    let mut clerk = Visitor::new(&app);
    clerk.login("clerk-new", "a-good-password").await;
    let home = clerk.get("/").await;
    assert_eq!(home.location, Some(format!("/stations/{}/products", t.station)));
    let other = app.tenant(2).await;
    assert_eq!(clerk.get(&format!("/stations/{}/products", other.station)).await.status, StatusCode::NOT_FOUND);

    // A reset password ends the clerk's session; disabled, it cannot log in; enabled again, it can.
    let page = v.get(&format!("/setup/users/{u}")).await;
    assert!(page.html.contains("id=\"reset-password\"") && page.html.contains("id=\"disable\""));
    let p = v.post(&format!("/setup/users/{u}/password"), &[("password", "")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = v.post(&format!("/setup/users/{u}/password"), &[("password", "a-new-password-1")]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("密码已重置"));
    let p = clerk.get(&format!("/stations/{}/products", t.station)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "the old session ended");
    assert!(p.location.unwrap().starts_with("/login"));
    let p = v.post(&format!("/setup/users/{u}/disable"), &[]).await;
    assert!(p.html.contains("已停用") && p.html.contains("id=\"enable\""));
    let mut again = Visitor::new(&app);
    assert_eq!(again.login("clerk-new", "a-new-password-1").await.status, StatusCode::UNAUTHORIZED);
    v.post(&format!("/setup/users/{u}/enable"), &[]).await;
    assert_eq!(again.login("clerk-new", "a-new-password-1").await.status, StatusCode::SEE_OTHER);
    let list = v.get("/setup/users?q=clerk").await;
    assert!(
        list.html.contains("clerk-new") && list.html.contains("服务站工作人员") && list.html.contains("服务站1"),
        "{}",
        list.html
    );
}

/// Every set-up and integration form: a forged token and another role are refused, and
/// nothing is stored.
async fn every_form_refuses_forgery_and_other_roles(app: TestApp) {
    let t = app.tenant(1).await;
    let mut v = admin(&app).await;
    v.get("/setup").await;
    let coop = t.cooperative;
    let forms: Vec<(String, Vec<(&str, String)>)> = vec![
        ("/setup/villages/new".into(), vec![("name", "新村".into()), ("code", "320206109999".into())]),
        (format!("/setup/villages/{}", t.village), vec![("name", "改名村".into())]),
        (
            "/setup/households/new".into(),
            vec![("village_id", t.village.to_string()), ("name", "新户".into()), ("members", "2".into())],
        ),
        (format!("/setup/households/{}", t.households[0]), vec![("name", "改名户".into()), ("members", "2".into())]),
        ("/setup/cooperatives/new".into(), vec![("name", "新社".into())]),
        (format!("/setup/cooperatives/{coop}"), vec![("name", "改名社".into())]),
        (
            format!("/setup/cooperatives/{coop}/members"),
            vec![("village_id", t.village.to_string()), ("capital", "1".into())],
        ),
        (
            format!("/setup/cooperatives/{coop}/rules"),
            vec![
                ("effective_from", "2027-01-01".into()),
                ("household_share", "0.7".into()),
                ("station_fee_rate", "0.05".into()),
                ("collective_rate", "0.05".into()),
                ("reserve_rate", "0.1".into()),
                ("rebate_rate", "0.6".into()),
            ],
        ),
        (
            "/setup/stations/new".into(),
            vec![
                ("name", "新站".into()),
                ("village_id", t.village.to_string()),
                ("cooperative_id", coop.to_string()),
                ("alliance_id", t.alliance.to_string()),
            ],
        ),
        (format!("/setup/stations/{}", t.station), vec![("name", "改名站".into())]),
        (
            "/setup/channels/new".into(),
            vec![
                ("code", "jd".into()),
                ("name", "京东".into()),
                ("fee_rate", "0.05".into()),
                ("alliance_id", t.alliance.to_string()),
            ],
        ),
        (format!("/setup/channels/{}", t.channels[0]), vec![("name", "改名".into()), ("fee_rate", "0.5".into())]),
        (
            "/setup/users/new".into(),
            vec![("username", "intruder".into()), ("password", "a-good-password".into()), ("role", "admin".into())],
        ),
        (
            "/webhooks".into(),
            vec![
                ("url", "http://127.0.0.1:9/x".into()),
                ("events", "order.created".into()),
                ("alliance_id", t.alliance.to_string()),
            ],
        ),
    ];
    let snapshot = "SELECT (SELECT COUNT(*) FROM villages) || '/' || (SELECT COUNT(*) FROM households) || '/' || \
        (SELECT COUNT(*) FROM cooperatives) || '/' || (SELECT COUNT(*) FROM cooperative_members) || '/' || \
        (SELECT COUNT(*) FROM rule_versions) || '/' || (SELECT COUNT(*) FROM stations) || '/' || (SELECT COUNT(*) FROM channels) || '/' || \
        (SELECT COUNT(*) FROM users) || '/' || (SELECT COUNT(*) FROM webhook_endpoints) || '/' || \
        (SELECT name FROM villages WHERE id = 1) || (SELECT name FROM stations WHERE id = 1) || (SELECT name FROM channels WHERE id = 1)";
    let mut staff = staff_of(&app, &t, "clerk1").await;
    staff.get(&format!("/stations/{}/products", t.station)).await;
    let before = app.rows(snapshot).await;
    let csrf = std::mem::replace(&mut v.csrf, "forged".into());
    for (path, fields) in &forms {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, x)| (*k, x.as_str())).collect();
        // Every page read carries the session's real token: forge it again for each form.
        v.csrf = "forged".into();
        assert_eq!(v.post(path, &pairs).await.status, StatusCode::FORBIDDEN, "forged {path}");
    }
    v.csrf = csrf;
    for (path, fields) in &forms {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, x)| (*k, x.as_str())).collect();
        let p = staff.post(path, &pairs).await;
        assert!(p.status == StatusCode::FORBIDDEN || p.status == StatusCode::NOT_FOUND, "staff {path}: {}", p.status);
    }
    assert_eq!(app.rows(snapshot).await, before, "nothing stored");

    // Lists page by 50: 55 villages are two pages.
    for i in 0..54 {
        app.create(
            "/api/v1/villages",
            hezuo_tests::json!({"name": format!("列表村{i:02}"), "code": format!("3202061090{i:02}")}),
        )
        .await;
    }
    let first = v.get("/setup/villages").await;
    assert!(first.html.contains("共 55 条，第 1 / 2 页") && first.html.contains("id=\"next\""), "{}", first.html);
    let second = v.get("/setup/villages?page=2&q=").await;
    assert_eq!(second.html.matches("<tr><td><a href=\"/setup/villages/").count(), 5);
}

db_tests!(
    villages_households_and_stations,
    users_are_created_disabled_and_reset,
    every_form_refuses_forgery_and_other_roles
);
