//! The role/tenant matrix of SPEC §1 and API.md: 403 for a role that may not, 404 for another
//! tenant's object, and lists that hold exactly the caller's own objects.

use hezuo_tests::{Tenant, TestApp, code, db_tests, json};
use reqwest::StatusCode;

/// (resource path, the tenant's object id, roles that may read it)
fn objects(t: &Tenant) -> Vec<(&'static str, i64, &'static [&'static str])> {
    const ALL: &[&str] = &["alliance", "staff", "village"];
    const ORG: &[&str] = &["alliance", "staff"];
    vec![
        ("villages", t.village, ALL),
        ("households", t.households[0], ALL),
        ("cooperatives", t.cooperative, ORG),
        ("alliances", t.alliance, ORG),
        ("stations", t.station, ORG),
        ("channels", t.channels[1], ORG),
    ]
}

fn tokens(t: &Tenant) -> [(&'static str, &str); 3] {
    [("alliance", t.alliance_token.as_str()), ("staff", t.staff_token.as_str()), ("village", t.village_token.as_str())]
}

async fn reads_are_scoped_by_role_and_tenant(app: TestApp) {
    let a = app.tenant(1).await;
    let b = app.tenant(2).await;
    for (role, token) in tokens(&a) {
        for ((res, own, roles), (_, other, _)) in objects(&a).into_iter().zip(objects(&b)) {
            let allowed = roles.contains(&role);
            let (s, v) = app.get(&format!("/api/v1/{res}/{own}"), token).await;
            let want = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
            assert_eq!(s, want, "{role} GET own {res}: {v}");
            let (s, v) = app.get(&format!("/api/v1/{res}/{other}"), token).await;
            let want = if allowed { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
            assert_eq!(s, want, "{role} GET other tenant's {res}: {v}");

            let (s, v) = app.get(&format!("/api/v1/{res}?limit=500"), token).await;
            if allowed {
                assert_eq!(s, StatusCode::OK);
                let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
                assert!(ids.contains(&own), "{role} list {res} lacks its own {own}: {ids:?}");
                assert!(!ids.contains(&other), "{role} list {res} leaks {other}: {ids:?}");
            } else {
                assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{role} list {res}");
            }
        }
        for sub in ["members", "rules"] {
            let (s, _) = app.get(&format!("/api/v1/cooperatives/{}/{sub}", a.cooperative), token).await;
            let (s2, _) = app.get(&format!("/api/v1/cooperatives/{}/{sub}", b.cooperative), token).await;
            let want = if role == "village" {
                (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
            } else {
                (StatusCode::OK, StatusCode::NOT_FOUND)
            };
            assert_eq!((s, s2), want, "{role} {sub}");
        }
        let (s, _) = app.get("/api/v1/users", token).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role} users");
    }
    // Village users see exactly their village's households.
    let (_, v) = app.get("/api/v1/households", &a.village_token).await;
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, a.households.to_vec());
}

async fn writes_are_admin_only_except_own_channels(app: TestApp) {
    let a = app.tenant(1).await;
    let b = app.tenant(2).await;
    let creates = [
        ("/api/v1/villages", json!({"name": "村", "code": "320206109999"})),
        ("/api/v1/households", json!({"village_id": a.village, "name": "户", "members": 1})),
        ("/api/v1/cooperatives", json!({"name": "社"})),
        ("/api/v1/alliances", json!({"name": "盟"})),
        (
            "/api/v1/stations",
            json!({"name": "站", "village_id": a.village, "cooperative_id": a.cooperative, "alliance_id": a.alliance}),
        ),
        ("/api/v1/users", json!({"username": "sneaky", "password": "long-enough", "role": "admin"})),
    ];
    for (role, token) in tokens(&a) {
        for (path, body) in &creates {
            let (s, v) = app.post(path, token, body.clone()).await;
            assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{role} POST {path}");
        }
        for (res, own, _) in objects(&a) {
            if res == "channels" {
                continue;
            }
            let (s, _) = app.patch(&format!("/api/v1/{res}/{own}"), token, json!({"name": "改"})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} PATCH {res}");
        }
        let (s, _) = app
            .post(
                &format!("/api/v1/cooperatives/{}/members", a.cooperative),
                token,
                json!({"village_id": a.village, "capital": 1}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role} add member");
    }
    // Alliance users manage their own channels and no one else's.
    let (s, v) = app
        .post(
            "/api/v1/channels",
            &a.alliance_token,
            json!({"code": "douyin", "name": "抖音", "fee_rate": "0.05", "alliance_id": a.alliance}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/channels",
            &a.alliance_token,
            json!({"code": "douyin", "name": "抖音", "fee_rate": "0.05", "alliance_id": b.alliance}),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "unknown_reference"));
    let (s, _) =
        app.patch(&format!("/api/v1/channels/{}", b.channels[1]), &a.alliance_token, json!({"fee_rate": "0.5"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) =
        app.patch(&format!("/api/v1/channels/{}", a.channels[1]), &a.alliance_token, json!({"fee_rate": "0.06"})).await;
    assert_eq!((s, v["fee_rate"].as_str()), (StatusCode::OK, Some("0.06")));
    let (s, _) = app
        .post(
            "/api/v1/channels",
            &a.staff_token,
            json!({"code": "jd", "name": "京东", "fee_rate": "0.05", "alliance_id": a.alliance}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The other tenant's channel is untouched.
    let (_, v) = app.get(&format!("/api/v1/channels/{}", b.channels[1]), &app.admin).await;
    assert_eq!(v["fee_rate"], "0.05");
}

/// Reports (API.md "Reports"): every role reads its own village's and households' reports and
/// gets 404 for another tenant's; station sales are not the village's to read (403); only a
/// village user (its own village) and admins record or remove income.
async fn reports_are_scoped_by_role_and_tenant(app: TestApp) {
    let a = app.tenant(1).await;
    let b = app.tenant(2).await;
    let (_, e) = app
        .post(
            &format!("/api/v1/villages/{}/income", b.village),
            &b.village_token,
            json!({"date": "2026-01-10", "amount": "10.00", "category": "rent"}),
        )
        .await;
    let other_entry = e["id"].as_i64().unwrap();
    let reads = |t: &Tenant| {
        vec![
            (format!("/api/v1/reports/villages/{}/revenue?year=2026", t.village), true),
            (format!("/api/v1/reports/households/{}/statement", t.households[0]), true),
            (format!("/api/v1/villages/{}/income", t.village), true),
            (format!("/api/v1/reports/stations/{}/sales", t.station), false),
        ]
    };
    for (role, token) in tokens(&a) {
        for ((own, village_may), (other, _)) in reads(&a).into_iter().zip(reads(&b)) {
            let allowed = village_may || role != "village";
            let (s, v) = app.get(&own, token).await;
            assert_eq!(s, if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN }, "{role} {own}: {v}");
            let (s, v) = app.get(&other, token).await;
            assert_eq!(s, if allowed { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN }, "{role} {other}: {v}");
        }
        for fmt in ["csv", "xlsx"] {
            let (s, _) = app.get(&format!("/api/v1/reports/villages/{}/revenue?format={fmt}", b.village), token).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{role} another tenant's revenue as {fmt}");
        }
        // The ranking holds exactly the caller's villages.
        let (s, v) = app.get("/api/v1/reports/villages?year=2026", token).await;
        assert_eq!(s, StatusCode::OK, "{role} ranking");
        let ids: Vec<i64> =
            v["villages"].as_array().unwrap().iter().map(|r| r["village"]["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![a.village], "{role} ranking");
        // Recording and removing income: the village's own users only.
        let body = json!({"date": "2026-02-01", "amount": "20.00", "category": "service"});
        let (s, v) = app.post(&format!("/api/v1/villages/{}/income", a.village), token, body.clone()).await;
        let want = if role == "village" { StatusCode::CREATED } else { StatusCode::FORBIDDEN };
        assert_eq!(s, want, "{role} records own village's income: {v}");
        let (s, _) = app.post(&format!("/api/v1/villages/{}/income", b.village), token, body).await;
        let want = if role == "village" { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
        assert_eq!(s, want, "{role} records another village's income");
        let (s, _) = app
            .call("DELETE", &format!("/api/v1/villages/{}/income/{other_entry}", b.village), Some(token), None)
            .await;
        assert_eq!(s, want, "{role} removes another village's income");
    }
    // Nothing of the other tenant changed; its entry is not removed.
    let (_, v) = app.get(&format!("/api/v1/villages/{}/income", b.village), &app.admin).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["reversed_by"], serde_json::Value::Null);
    // An entry id of another village under one's own village is not found either.
    let (s, _) = app
        .call("DELETE", &format!("/api/v1/villages/{}/income/{other_entry}", a.village), Some(&a.village_token), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

db_tests!(
    reads_are_scoped_by_role_and_tenant,
    writes_are_admin_only_except_own_channels,
    reports_are_scoped_by_role_and_tenant
);
