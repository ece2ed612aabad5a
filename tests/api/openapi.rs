//! The served OpenAPI document says what the API does: every operation with a summary, an
//! example of its request and response bodies, every status and content type it answers, and
//! every parameter and field constrained as the server checks it.

use hezuo_tests::{TestApp, code, db_tests, json};
use regex::Regex;
use reqwest::StatusCode;
use serde_json::Value;

async fn document(app: &TestApp) -> Value {
    let res = app.http.get(format!("{}/api/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, &doc["components"]["schemas"][r.rsplit('/').next().unwrap()]),
        None => s,
    }
}

/// Whether `v` fits `s`, for the parts of JSON Schema the document uses.
fn fits(doc: &Value, s: &Value, v: &Value) -> Result<(), String> {
    let s = resolve(doc, s);
    if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
        let n = branches.iter().filter(|b| fits(doc, b, v).is_ok()).count();
        return if n == 1 { Ok(()) } else { Err(format!("{v} fits {n} branches of {s}")) };
    }
    if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
        return parts.iter().try_for_each(|p| fits(doc, p, v));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{v} is not one of {e:?}"));
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_of = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !types.is_empty() && !types.iter().any(|t| *t == type_of || (*t == "number" && type_of == "integer")) {
        return Err(format!("{v} is not of type {types:?}"));
    }
    match v {
        Value::String(text) => {
            if let Some(p) = s["pattern"].as_str()
                && !Regex::new(p).unwrap().is_match(text)
            {
                return Err(format!("{text:?} does not match {p}"));
            }
            let n = text.chars().count() as u64;
            if s["minLength"].as_u64().is_some_and(|m| n < m) || s["maxLength"].as_u64().is_some_and(|m| n > m) {
                return Err(format!("{text:?} has the wrong length for {s}"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            if s["minimum"].as_f64().is_some_and(|m| x < m)
                || s["maximum"].as_f64().is_some_and(|m| x > m)
                || s["exclusiveMinimum"].as_f64().is_some_and(|m| x <= m)
                || s["exclusiveMaximum"].as_f64().is_some_and(|m| x >= m)
            {
                return Err(format!("{x} is out of the range of {s}"));
            }
        }
        Value::Array(items) => {
            for i in items {
                fits(doc, &s["items"], i)?;
            }
        }
        Value::Object(o) => {
            for r in s["required"].as_array().into_iter().flatten() {
                if !o.contains_key(r.as_str().unwrap()) {
                    return Err(format!("{r} missing from {v}"));
                }
            }
            for (k, x) in o {
                match s["properties"].get(k) {
                    Some(p) => fits(doc, p, x).map_err(|e| format!("{k}: {e}"))?,
                    None if s["additionalProperties"] == json!(false) => return Err(format!("{k} is not a field")),
                    None => {}
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((format!("{} {path}", method.to_uppercase()), op));
        }
    }
    out
}

async fn every_operation_has_a_summary_examples_and_its_errors(app: TestApp) {
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 64, "{} operations", ops.len());
    let mut missing = Vec::new();
    for (name, op) in &ops {
        if op["summary"].as_str().is_none_or(str::is_empty) {
            missing.push(format!("{name}: no summary"));
        }
        for (media, m) in op["requestBody"]["content"].as_object().into_iter().flatten() {
            match m.get("example") {
                None => missing.push(format!("{name}: no example of the {media} request body")),
                Some(e) if media == "application/json" => {
                    if let Err(why) = fits(&doc, &m["schema"], e) {
                        missing.push(format!("{name}: the request example does not fit its schema: {why}"));
                    }
                }
                Some(_) => {}
            }
        }
        let responses = op["responses"].as_object().unwrap();
        let success = responses.iter().filter(|(s, _)| s.starts_with('2'));
        let mut examples = 0;
        for (status, r) in success {
            for (media, m) in r["content"].as_object().into_iter().flatten() {
                if m.get("example").is_some() {
                    examples += 1;
                    if media == "application/json"
                        && let Err(why) = fits(&doc, &m["schema"], &m["example"])
                    {
                        missing.push(format!("{name}: the {status} example does not fit its schema: {why}"));
                    }
                }
            }
        }
        if examples == 0 {
            missing.push(format!("{name}: no example response"));
        }
        let mut statuses = vec!["500", "503"];
        if op.get("security").is_some() {
            statuses.extend(["401", "403", "404"]);
        }
        if op.get("requestBody").is_some() {
            statuses.extend(["400", "413", "415", "422"]);
        }
        for s in statuses {
            match responses.get(s) {
                None => missing.push(format!("{name}: no {s} response")),
                Some(r) if r["content"]["application/json"]["schema"]["$ref"] != "#/components/schemas/ErrorBody" => {
                    missing.push(format!("{name}: the {s} response is not the error envelope"))
                }
                Some(_) => {}
            }
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            let s = resolve(&doc, &p["schema"]);
            let bare = s["type"] == "string"
                && s.get("pattern").is_none()
                && s.get("enum").is_none()
                && s.get("format").is_none()
                && s.get("maxLength").is_none();
            if p["in"] == "query" && bare {
                missing.push(format!("{name}: query parameter {} is an unconstrained string", p["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));

    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"];
    assert!(login["headers"]["Retry-After"].is_object(), "{login}");
    for (path, types) in [
        ("/api/v1/stations/{id}/products", vec!["application/json", "text/csv"]),
        ("/api/v1/stations/{id}/lots", vec!["application/json", "text/csv"]),
        (
            "/api/v1/reconciliation/statements/{id}/items",
            vec!["application/json", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"],
        ),
    ] {
        let content = doc["paths"][path]["get"]["responses"]["200"]["content"].as_object().unwrap();
        assert_eq!(content.keys().map(String::as_str).collect::<Vec<_>>(), types, "{path}");
    }
    for path in ["/api/v1/stations/{id}/products:import", "/api/v1/reconciliation/statements"] {
        assert!(doc["paths"][path]["post"]["requestBody"]["content"]["text/csv"].is_object(), "{path}");
    }
}

/// The rules of the fields as the server checks them, each on both sides of its bounds.
async fn fields_are_constrained_as_the_server_checks_them(app: TestApp) {
    let doc = document(&app).await;
    let field = |schema: &str, name: &str| doc["components"]["schemas"][schema]["properties"][name].clone();
    let check = |s: &Value, ok: &[Value], bad: &[Value]| {
        for v in ok {
            assert_eq!(fits(&doc, s, v), Ok(()), "{v} should fit {s}");
        }
        for v in bad {
            assert!(fits(&doc, s, v).is_err(), "{v} should not fit {s}");
        }
    };
    check(
        &field("CreateRuleVersion", "rebate_rate"),
        &[json!("0.60"), json!("1"), json!(0.75)],
        &[json!("0.59"), json!(0.599999), json!("1.1"), json!("0.6000001")],
    );
    check(
        &field("CreateProduct", "price"),
        &[json!("15.80"), json!(15.8), json!("10000000"), json!("0.01")],
        &[json!("0"), json!(0), json!("10000000.01"), json!("1.234"), json!("-1"), json!("1e3")],
    );
    check(
        &field("CreateAlliance", "name"),
        &[json!("惠山区联盟"), json!(" 联盟 "), json!("桃".repeat(100))],
        &[json!(""), json!("   "), json!("桃".repeat(101)), json!("a\u{7}b")],
    );
    check(&field("LoginRequest", "username"), &[json!("staff-taoyuan")], &[json!("ab"), json!("a b c")]);
    check(&field("CreateHousehold", "members"), &[json!(1), json!(100)], &[json!(0), json!(101)]);
    check(&field("CreateVillage", "code"), &[json!("320206103201")], &[json!("32020610320")]);

    let params = |path: &str| doc["paths"][path]["get"]["parameters"].as_array().unwrap().clone();
    let param = |path: &str, name: &str| {
        params(path).into_iter().find(|p| p["name"] == name).map(|p| p["schema"].clone()).unwrap()
    };
    check(&param("/api/v1/villages", "limit"), &[json!(1), json!(500)], &[json!(0), json!(501), json!("50")]);
    check(&param("/api/v1/villages", "cursor"), &[json!(""), json!("42")], &[json!("a"), json!("-1")]);
    check(&param("/api/v1/stations/{id}/products", "format"), &[json!("csv"), json!("json")], &[json!("xlsx")]);
    check(&param("/api/v1/ledger/export", "format"), &[json!("beancount")], &[json!("csv")]);
    let period =
        params("/api/v1/cooperatives/{id}/periods/{period}/close").into_iter().find(|p| p["name"] == "period").unwrap();
    check(
        &period["schema"],
        &[json!("2026-06"), json!("2000-12")],
        &[json!("2026-13"), json!("26-06"), json!("1999-01")],
    );

    // The scope id a user's role needs, and exactly one of a member's two ids.
    let user = json!({"username": "staff-x", "password": "password-1", "role": "staff", "station_id": 1});
    check(
        &json!({"$ref": "#/components/schemas/CreateUser"}),
        &[user.clone(), json!({"username": "root2", "password": "password-1", "role": "admin"})],
        &[
            json!({"username": "staff-x", "password": "password-1", "role": "staff"}),
            json!({"username": "root2", "password": "password-1", "role": "admin", "village_id": 1}),
        ],
    );
    check(
        &json!({"$ref": "#/components/schemas/CreateMember"}),
        &[json!({"household_id": 1, "capital": "0"}), json!({"village_id": 1, "capital": 5})],
        &[json!({"household_id": 1, "village_id": 1, "capital": "0"}), json!({"capital": "0"})],
    );
}

/// What the document now promises of query strings and amounts, the server keeps.
async fn the_server_refuses_what_the_document_refuses(app: TestApp) {
    let (s, v) = app.get("/api/v1/orders?channel=Not%20a%20code", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"), "{v}");
    let (s, v) = app.get("/api/v1/reconciliation/statements?channel=TAOBAO", &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"), "{v}");
    let (s, v) = app.get("/api/v1/orders?channel=taobao", &app.admin).await;
    assert_eq!((s, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");

    let t = app.tenant(1).await;
    let station = t.station;
    let long = "桃".repeat(101);
    let (s, v) = app.get(&format!("/api/v1/stations/{station}/products?q={long}"), &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"), "{v}");
    let (s, v) = app.get(&format!("/api/v1/stations/{station}/products?q=%07"), &app.admin).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"), "{v}");
    for path in [format!("/api/v1/stations/{station}/products"), format!("/api/v1/stations/{station}/lots")] {
        let (s, v) = app.get(&format!("{path}?format=csv&limit=0"), &app.admin).await;
        assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")), "{path}: {v}");
        let (s, v) = app.get(&format!("{path}?format=pdf"), &app.admin).await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_query"), "{path}: {v}");
    }

    let (s, v) = app
        .post(
            "/api/v1/villages",
            &app.admin,
            json!({"name": "大村", "code": "320206103299", "income_target": "1000000000000.01"}),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("income_target")), "{v}");
    let (s, v) = app
        .post(
            "/api/v1/villages",
            &app.admin,
            json!({"name": "大村", "code": "320206103299", "income_target": 1000000000000u64}),
        )
        .await;
    assert_eq!((s, v["income_target"].as_str()), (StatusCode::CREATED, Some("1000000000000.00")), "{v}");
}

db_tests!(
    every_operation_has_a_summary_examples_and_its_errors,
    fields_are_constrained_as_the_server_checks_them,
    the_server_refuses_what_the_document_refuses,
);
