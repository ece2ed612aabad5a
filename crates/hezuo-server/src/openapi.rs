//! The OpenAPI document: what the route annotations say, completed by one pass for what every
//! operation shares (its error responses) and what utoipa cannot say (rules across fields, and
//! an example of every body built from the schemas' own examples).

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hezuo",
        description = "Rural e-commerce service stations: catalog, orders, attribution to farmer households and village collectives, period close and reconciliation. Money and quantities travel as strings.",
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "auth", description = "Log in for a bearer token"),
        (name = "set-up", description = "Villages, households, cooperatives, alliances, stations, channels, users"),
        (name = "orders", description = "Order intake with FIFO lot draw and attribution, refunds, cancellation, shipping"),
        (name = "ledger", description = "Accounts, balances and transactions of the double-entry ledger"),
        (name = "catalog", description = "Products, household lots, stock adjustments, traceability, CSV import and export"),
        (name = "periods", description = "Period close (二次返利): preview, close, closed periods"),
        (name = "reconciliation", description = "Platform statements (对账): import, matching, items, resolution"),
        (name = "feeds", description = "Platform order feeds: Taobao, Pinduoduo and Douyin orders and refunds pulled into hezuo"),
        (name = "webhooks", description = "Outgoing webhooks (Standard Webhooks): endpoints, deliveries with every attempt, redelivery"),
        (name = "reports", description = "Village income and reports: other operating income, revenue against the target, 薄弱村 ranking, household member accounts (成员账户), station sales"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A file in a response body (an xlsx workbook).
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Completes the document of the routes.
/// Built once, when the router is; should the document not round-trip through JSON, the
/// routes' own document is served rather than the service failing to start.
pub fn finish(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut v = match serde_json::to_value(&doc) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialize; serving it uncompleted");
            return doc;
        }
    };
    exactly_one_scope(&mut v);
    error_responses(&mut v);
    examples(&mut v);
    match serde_json::from_value(v) {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(error = %e, "the completed OpenAPI document does not read back; serving it uncompleted");
            doc
        }
    }
}

/// The members of a cooperative are a household or a village collective, and a user's scope id
/// is the one its role needs: JSON Schema says so with `oneOf` over the object's variants,
/// which a struct cannot derive.
/// One variant of an object: the fields it changes, and those it requires.
type Variant<'a> = (Vec<(&'a str, Value)>, Vec<&'a str>);

fn exactly_one_scope(v: &mut Value) {
    let int = json!({"type": "integer", "format": "int64"});
    let none = json!({"type": "null"});
    let mut variants = |name: &str, description: &str, variants: Vec<Variant>| {
        let Some(s) = v.pointer_mut(&format!("/components/schemas/{name}")) else { return };
        let object = s.take();
        let one_of: Vec<Value> = variants
            .into_iter()
            .map(|(props, required)| {
                let mut o = object.clone();
                for (k, p) in props {
                    o["properties"][k] = p;
                }
                let mut req: Vec<Value> = o["required"].as_array().cloned().unwrap_or_default();
                for r in required {
                    if !req.contains(&json!(r)) {
                        req.push(json!(r));
                    }
                }
                o["required"] = Value::Array(req);
                o
            })
            .collect();
        *s = json!({"description": description, "oneOf": one_of});
    };
    variants(
        "CreateMember",
        "A household (`household_id`) or a village collective (`village_id`): exactly one of them.",
        vec![
            (vec![("household_id", int.clone()), ("village_id", none.clone())], vec!["household_id"]),
            (vec![("village_id", int.clone()), ("household_id", none.clone())], vec!["village_id"]),
        ],
    );
    let role = |name: &str, need: Option<&'static str>| {
        let mut props = vec![("role", json!({"type": "string", "enum": [name]}))];
        for id in ["alliance_id", "station_id", "village_id"] {
            props.push((id, if Some(id) == need { int.clone() } else { none.clone() }));
        }
        (props, need.into_iter().collect::<Vec<_>>())
    };
    variants(
        "CreateUser",
        "The scope id the role needs and no other: `station_id` for staff, `alliance_id` for an alliance user, `village_id` for a village user, none for an admin.",
        vec![
            role("staff", Some("station_id")),
            role("admin", None),
            role("alliance", Some("alliance_id")),
            role("village", Some("village_id")),
        ],
    );
}

/// Statuses and the error codes they carry (docs/api.md "Errors").
const ERRORS: [(&str, &str); 11] = [
    (
        "400",
        "Malformed: the body is not JSON (`malformed_json`) or a query parameter has the wrong shape (`invalid_query`)",
    ),
    ("401", "No token, an unknown or expired one, or a disabled user (`unauthorized`)"),
    ("403", "The caller's role may not do this (`forbidden`)"),
    ("404", "No such object in the caller's scope (`not_found`)"),
    ("409", "A conflict with what is stored"),
    ("413", "The body is larger than the limit (`payload_too_large`)"),
    ("415", "The body's content type is not the one this operation reads (`unsupported_media_type`)"),
    ("422", "Well-formed, but a field breaks a rule (`invalid_body`, `invalid_field`, `unknown_reference`, …)"),
    ("429", "Too many attempts (`too_many_attempts`); try again after `Retry-After` seconds"),
    ("500", "A fault of the server (`internal`); details only in its log"),
    ("503", "The request took too long (`request_timeout`)"),
];

/// The operations that can meet a conflict with what is stored, and which.
const CONFLICTS: [(&str, &str, &str); 13] = [
    ("post", "/api/v1/villages", "A village with this code exists (`already_exists`)"),
    ("post", "/api/v1/users", "A user with this username exists (`already_exists`)"),
    ("post", "/api/v1/channels", "The alliance has a channel with this code (`already_exists`)"),
    ("post", "/api/v1/stations/{id}/products", "Another product of the station has this sku (`already_exists`)"),
    ("patch", "/api/v1/products/{id}", "Another product of the station has this sku (`already_exists`)"),
    ("post", "/api/v1/channels/{id}/feed:sync", "A run of this feed is under way (`feed_busy`)"),
    ("post", "/api/v1/cooperatives/{id}/members", "The household or village is a member already (`already_exists`)"),
    ("post", "/api/v1/cooperatives/{id}/rules", "A rule version from this date exists (`already_exists`)"),
    ("post", "/api/v1/orders", "The order's (channel, external_id) exists with a different body (`order_conflict`)"),
    (
        "post",
        "/api/v1/orders/{id}/cancel",
        "A completed order cannot be cancelled; refund it instead (`invalid_transition`)",
    ),
    ("post", "/api/v1/orders/{id}/ship", "Only a placed order ships (`invalid_transition`)"),
    ("post", "/api/v1/orders/{id}/complete", "Only a shipped order completes (`invalid_transition`)"),
    ("post", "/api/v1/orders/{id}/refunds", "The order changed while the refund was booked (`invalid_transition`)"),
];

/// Adds to every operation the error responses it can give, each with the error envelope.
fn error_responses(v: &mut Value) {
    let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            let secured = op.contains_key("security");
            let body = op.contains_key("requestBody");
            let query =
                op.get("parameters").and_then(Value::as_array).is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let mut statuses = vec!["500", "503"];
            if body || query {
                statuses.extend(["400", "422"]);
            }
            if body {
                statuses.extend(["413", "415"]);
            }
            if secured {
                statuses.extend(["401", "403", "404"]);
            }
            if path.contains('{') {
                statuses.push("404");
            }
            if path.contains("{period}") {
                statuses.push("422");
            }
            if path == "/api/v1/auth/login" && method == "post" {
                statuses.extend(["401", "429"]);
            }
            let conflict = CONFLICTS.iter().find(|(m, p, _)| m == method && p == path).map(|c| c.2);
            if conflict.is_some() {
                statuses.push("409");
            }
            let responses = op.entry("responses").or_insert_with(|| json!({}));
            let Some(responses) = responses.as_object_mut() else { continue };
            for status in statuses {
                let text = match status {
                    "409" => conflict.unwrap_or(ERRORS[4].1),
                    _ => ERRORS.iter().find(|(s, _)| *s == status).map_or("", |(_, t)| t),
                };
                let r = responses.entry(status).or_insert_with(|| json!({}));
                if r.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                    r["description"] = json!(text);
                }
                if r.get("content").is_none() {
                    r["content"] = json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
                }
            }
            for r in responses.values_mut() {
                if r.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                    r["description"] = json!("");
                }
            }
        }
    }
}

/// Gives every request and response body an example, built from the examples of its schema
/// and of the schemas it is made of, so that each one satisfies its own schema.
fn examples(v: &mut Value) {
    let schemas = v.pointer("/components/schemas").cloned().unwrap_or_else(|| json!({}));
    let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            let mut contents: Vec<&mut Value> = Vec::new();
            for (key, part) in op.iter_mut() {
                match key.as_str() {
                    "requestBody" => contents.extend(part.get_mut("content")),
                    "responses" => contents.extend(
                        part.as_object_mut()
                            .into_iter()
                            .flat_map(|rs| rs.values_mut())
                            .filter_map(|r| r.get_mut("content")),
                    ),
                    _ => {}
                }
            }
            for content in contents {
                let Some(content) = content.as_object_mut() else { continue };
                for (media, m) in content.iter_mut() {
                    if m.get("example").is_some() {
                        continue;
                    }
                    let ex = match media.as_str() {
                        "text/csv" => json!("name,unit,price\n阳山水蜜桃,斤,15.80\n"),
                        m if m.starts_with("application/vnd.openxmlformats") => continue,
                        _ => example(&m["schema"], &schemas, 0),
                    };
                    m["example"] = ex;
                }
            }
        }
    }
}

fn example(s: &Value, schemas: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return example(&schemas[name], schemas, depth + 1);
    }
    if let Some(e) = s.get("example") {
        return e.clone();
    }
    if let Some(e) = s.get("examples").and_then(Value::as_array).and_then(|e| e.first()) {
        return e.clone();
    }
    if let Some(e) = s.get("const") {
        return e.clone();
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return e.clone();
    }
    let first_branch = |key: &str| {
        s.get(key).and_then(Value::as_array).and_then(|bs| bs.iter().find(|b| b.get("type") != Some(&json!("null"))))
    };
    if s.get("properties").is_none()
        && let Some(b) = first_branch("oneOf").or_else(|| first_branch("anyOf"))
    {
        return example(b, schemas, depth + 1);
    }
    if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
        let mut out = Map::new();
        for p in parts {
            if let Value::Object(o) = example(p, schemas, depth + 1) {
                out.extend(o);
            }
        }
        return Value::Object(out);
    }
    let ty = match s.get("type") {
        Some(Value::Array(ts)) => ts.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        Some(t) => t.clone(),
        None if s.get("properties").is_some() => json!("object"),
        None => Value::Null,
    };
    match ty.as_str() {
        Some("object") => {
            let mut out = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    out.insert(k.clone(), example(p, schemas, depth + 1));
                }
            }
            if out.is_empty()
                && let Some(extra) = s.get("additionalProperties").filter(|a| a.is_object())
            {
                out.insert("matched".into(), example(extra, schemas, depth + 1));
            }
            Value::Object(out)
        }
        Some("array") => json!([example(&s["items"], schemas, depth + 1)]),
        Some("string") => match s.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-06-01T08:30:00+08:00"),
            Some("date") => json!("2026-06-01"),
            _ => json!("阳山"),
        },
        Some("integer") => s.get("minimum").cloned().unwrap_or(json!(1)),
        Some("number") => s.get("minimum").cloned().unwrap_or(json!(1)),
        Some("boolean") => json!(true),
        _ => Value::Null,
    }
}
