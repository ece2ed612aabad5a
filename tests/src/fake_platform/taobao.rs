//! Taobao open platform (TOP), PLATFORMS.md §2: `/router/rest`, form body (or query),
//! Beijing-time text, yuan strings.

use super::model::{FakeOrder, FakeRefund, FakeStatus};
use super::server::{
    Failure, Incoming, Params, Query, Rows, check_credentials, check_page, check_timestamp, check_window, form_pairs,
    id_value, yuan_text,
};
use super::{Kind, List, LoggedRequest};
use axum::http::Method;
use chrono::{DateTime, Utc};
use hezuo_platforms::Credentials;
use hezuo_platforms::taobao::{self, SignMethod};
use hezuo_platforms::time::{format_beijing, parse_beijing};
use serde_json::{Map, Value, json};

/// Taobao's default `page_size` when the request has none.
const DEFAULT_PAGE_SIZE: u32 = 40;

pub(super) fn read(
    incoming: &Incoming<'_>,
    credentials: &Credentials,
    now: DateTime<Utc>,
    entry: &mut LoggedRequest,
) -> Result<Query, Failure> {
    if incoming.path != taobao::PATH || !(incoming.method == Method::POST || incoming.method == Method::GET) {
        return Err(Failure::Route(entry.route.clone()));
    }
    let mut pairs = form_pairs(incoming.query.as_bytes());
    if incoming.method == Method::POST && !incoming.body.is_empty() {
        if !incoming.is_form() {
            return Err(Failure::Invalid("body", "not application/x-www-form-urlencoded".to_owned()));
        }
        pairs.extend(form_pairs(incoming.body));
    }
    let params = Params::new(pairs)?;
    let api = params.require("method")?;
    entry.api = Some(api.to_owned());
    let list = match api {
        taobao::ORDERS_METHOD => List::Orders,
        taobao::REFUNDS_METHOD => List::Refunds,
        other => return Err(Failure::UnknownApi(other.to_owned())),
    };
    entry.list = Some(list);
    entry.start = params.get("start_modified").and_then(parse_beijing);
    entry.end = params.get("end_modified").and_then(parse_beijing);
    entry.page = params.peek_number("page_no");
    entry.page_size = params.peek_number("page_size");

    // The common parameters and the signature first, as TOP checks them.
    check_credentials(credentials, params.require("app_key")?, params.get("session"), "session")?;
    let timestamp = params.require("timestamp")?;
    let timestamp = parse_beijing(timestamp)
        .ok_or_else(|| Failure::Timestamp(format!("{timestamp:?} is not yyyy-MM-dd HH:mm:ss")))?;
    check_timestamp(timestamp, now)?;
    params.expect("v", "2.0")?;
    params.expect("format", "json")?;
    let sign_method = match params.require("sign_method")? {
        "md5" => SignMethod::Md5,
        "hmac" => SignMethod::HmacMd5,
        "hmac-sha256" => SignMethod::HmacSha256,
        other => return Err(Failure::Invalid("sign_method", format!("{other:?} is not md5, hmac or hmac-sha256"))),
    };
    let sign = params.require("sign")?;
    if sign != taobao::sign(params.all(), &credentials.app_secret, sign_method) {
        return Err(Failure::Sign);
    }

    // The API's own parameters.
    params.require("fields")?;
    let start = beijing(&params, "start_modified")?;
    let end = beijing(&params, "end_modified")?;
    check_window(Kind::Taobao, start, end)?;
    let page = params.number("page_no", 1)?;
    let page_size = params.number("page_size", DEFAULT_PAGE_SIZE)?;
    check_page(Kind::Taobao, "page_no", page, "page_size", page_size)?;
    Ok(Query::new(list, start, end, page, page_size))
}

fn beijing(params: &Params, name: &'static str) -> Result<DateTime<Utc>, Failure> {
    let text = params.require(name)?;
    parse_beijing(text).ok_or_else(|| Failure::Invalid(name, format!("{text:?} is not yyyy-MM-dd HH:mm:ss")))
}

pub(super) fn orders(rows: &Rows<'_, FakeOrder>) -> Value {
    let mut answer = Map::new();
    answer.insert("total_results".into(), json!(rows.total));
    // Taobao leaves `trades` out of an empty page.
    if !rows.items.is_empty() {
        let trades: Vec<Value> = rows.items.iter().map(|o| trade(o)).collect();
        answer.insert("trades".into(), json!({ "trade": trades }));
    }
    json!({ "trades_sold_increment_get_response": answer })
}

/// One trade as `taobao.trades.sold.increment.get` sends it.
pub(super) fn trade(order: &FakeOrder) -> Value {
    let refunded = order.status == FakeStatus::ClosedAfterPayment;
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            let mut sub = json!({
                "oid": id_value(&line.line_id),
                "num": line.quantity,
                "payment": yuan_text(line.amount),
                "refund_status": if refunded { "SUCCESS" } else { "NO_REFUND" },
            });
            if let Some(sku) = &line.sku {
                sub["outer_sku_id"] = json!(sku);
            }
            sub
        })
        .collect();
    let mut trade = json!({
        "tid": id_value(&order.id),
        "status": order.status.raw(Kind::Taobao),
        "created": format_beijing(order.created),
        "modified": format_beijing(order.modified),
        "payment": yuan_text(order.total()),
        "orders": { "order": lines },
    });
    if let Some(paid_at) = order.paid_at {
        trade["pay_time"] = json!(format_beijing(paid_at));
    }
    trade
}

pub(super) fn refunds(rows: &Rows<'_, FakeRefund>) -> Value {
    let mut answer = Map::new();
    answer.insert("total_results".into(), json!(rows.total));
    if !rows.items.is_empty() {
        let list: Vec<Value> = rows.items.iter().map(|r| refund(r)).collect();
        answer.insert("refunds".into(), json!({ "refund": list }));
    }
    json!({ "refunds_receive_get_response": answer })
}

/// One refund as `taobao.refunds.receive.get` sends it.
pub(super) fn refund(refund: &FakeRefund) -> Value {
    let mut value = json!({
        "refund_id": id_value(&refund.refund_id),
        "tid": id_value(&refund.order_id),
        "refund_fee": yuan_text(refund.amount),
        "status": if refund.succeeded { "SUCCESS" } else { "WAIT_SELLER_AGREE" },
        "modified": format_beijing(refund.modified),
        "has_good_return": refund.quantity_returned.is_some(),
        "num": refund.quantity_returned.unwrap_or(1),
    });
    if let Some(line) = refund.line_ids.first() {
        value["oid"] = id_value(line);
    }
    value
}

pub(super) fn throttled() -> Value {
    json!({"error_response": {
        "code": 7,
        "msg": "App Call Limited",
        "sub_code": "accesscontrol.limited-by-app-access-count",
        "sub_msg": "This ban will last for 1 more seconds",
    }})
}

pub(super) fn error(failure: &Failure) -> Value {
    let (code, msg, sub): (u32, &str, Option<(String, String)>) = match failure {
        Failure::Route(route) => (22, "Invalid method", Some(("isv.invalid-route".into(), route.clone()))),
        Failure::Missing("method") => (21, "Missing method", None),
        Failure::Missing("session") => (26, "Missing session", None),
        Failure::Missing("app_key") => (28, "Missing app key", None),
        Failure::Missing("timestamp") => (30, "Missing timestamp", None),
        Failure::Missing(name) => (
            40,
            "Missing required arguments",
            Some((format!("isv.missing-parameter:{name}"), format!("{name} is required"))),
        ),
        Failure::Invalid(name, why) => {
            (41, "Invalid arguments", Some((format!("isv.invalid-parameter:{name}"), why.clone())))
        }
        Failure::AppKey => (29, "Invalid app Key", None),
        Failure::Token => (27, "Invalid session", Some(("invalid-sessionkey".into(), "SessionKey非法".into()))),
        Failure::Timestamp(why) => (31, "Invalid timestamp", Some(("isv.invalid-timestamp".into(), why.clone()))),
        Failure::Sign => (25, "Invalid signature", None),
        Failure::UnknownApi(api) => (22, "Invalid method", Some(("isv.invalid-method".into(), api.clone()))),
        Failure::Window(why) => (41, "Invalid arguments", Some(("isv.invalid-parameter:modified".into(), why.clone()))),
    };
    let mut error = json!({ "code": code, "msg": msg });
    if let Some((sub_code, sub_msg)) = sub {
        error["sub_code"] = json!(sub_code);
        error["sub_msg"] = json!(sub_msg);
    }
    json!({ "error_response": error })
}
