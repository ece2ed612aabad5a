//! Pinduoduo, PLATFORMS.md §3: `/api/router`, form or JSON body, Unix seconds in requests,
//! yuan numbers in orders and yuan strings in refunds.

use super::model::{FakeOrder, FakeRefund, FakeStatus};
use super::server::{
    Failure, Incoming, Params, Query, Rows, check_credentials, check_page, check_timestamp, check_window, form_pairs,
    id_value, int_or_text, parse_u32, parse_unix, yuan_number, yuan_text,
};
use super::{Kind, List, LoggedRequest};
use axum::http::Method;
use chrono::{DateTime, Utc};
use hezuo_platforms::Credentials;
use hezuo_platforms::pdd;
use hezuo_platforms::time::format_beijing;
use serde_json::{Value, json};

/// Pinduoduo's default `page_size`.
const DEFAULT_PAGE_SIZE: u32 = 100;

pub(super) fn read(
    incoming: &Incoming<'_>,
    credentials: &Credentials,
    now: DateTime<Utc>,
    entry: &mut LoggedRequest,
) -> Result<Query, Failure> {
    if incoming.path != pdd::PATH || incoming.method != Method::POST {
        return Err(Failure::Route(entry.route.clone()));
    }
    let mut pairs = form_pairs(incoming.query.as_bytes());
    if incoming.is_json() {
        pairs.extend(json_pairs(incoming.body)?);
    } else if incoming.is_form() {
        pairs.extend(form_pairs(incoming.body));
    } else {
        return Err(Failure::Invalid("body", "neither a form nor JSON".to_owned()));
    }
    let params = Params::new(pairs)?;
    let api = params.require("type")?;
    entry.api = Some(api.to_owned());
    let list = match api {
        pdd::ORDERS_TYPE => List::Orders,
        pdd::REFUNDS_TYPE => List::Refunds,
        other => return Err(Failure::UnknownApi(other.to_owned())),
    };
    entry.list = Some(list);
    let peek_time = |name| params.get(name).and_then(|v| parse_unix("", v).ok());
    entry.start = peek_time("start_updated_at");
    entry.end = peek_time("end_updated_at");
    entry.page = params.peek_number("page");
    entry.page_size = params.peek_number("page_size");

    check_credentials(credentials, params.require("client_id")?, params.get("access_token"), "access_token")?;
    let timestamp = params.require("timestamp")?;
    let timestamp = parse_unix("timestamp", timestamp).map_err(|e| Failure::Timestamp(e.reason()))?;
    check_timestamp(timestamp, now)?;
    let data_type = params.require("data_type")?;
    if !data_type.eq_ignore_ascii_case("JSON") {
        return Err(Failure::Invalid("data_type", format!("{data_type:?} instead of \"JSON\"")));
    }
    let sign = params.require("sign")?;
    if sign != pdd::sign(params.all(), &credentials.app_secret) {
        return Err(Failure::Sign);
    }

    let start = parse_unix("start_updated_at", params.require("start_updated_at")?)?;
    let end = parse_unix("end_updated_at", params.require("end_updated_at")?)?;
    check_window(Kind::Pdd, start, end)?;
    let page = params.number("page", 1)?;
    let page_size = params.number("page_size", DEFAULT_PAGE_SIZE)?;
    check_page(Kind::Pdd, "page", page, "page_size", page_size)?;
    let mut query = Query::new(list, start, end, page, page_size);
    match list {
        List::Orders => {
            let status = one_of(&params, "order_status", &[1, 2, 3, 5])?;
            one_of(&params, "refund_status", &[1, 2, 3, 4, 5])?;
            query.order_status = (status != 5).then(|| status.to_string());
        }
        List::Refunds => {
            let status = parse_u32("after_sales_status", params.require("after_sales_status")?)?;
            query.succeeded_only = status == 10;
            query.returned = match one_of(&params, "after_sales_type", &[1, 2, 3])? {
                2 => Some(false),
                3 => Some(true),
                _ => None,
            };
        }
    }
    Ok(query)
}

/// A required parameter whose value must be one of `allowed`.
fn one_of(params: &Params, name: &'static str, allowed: &[u32]) -> Result<u32, Failure> {
    let value = parse_u32(name, params.require(name)?)?;
    if !allowed.contains(&value) {
        return Err(Failure::Invalid(name, format!("{value} is not one of {allowed:?}")));
    }
    Ok(value)
}

/// The parameters of a JSON body, as the text that is signed: strings as they are, numbers as
/// their exact text, booleans `true`/`false`, objects and arrays as compact JSON.
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, Failure> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Failure::Invalid("body", format!("not JSON: {e}")))?;
    let Value::Object(map) = value else { return Err(Failure::Invalid("body", "not a JSON object".to_owned())) };
    Ok(map
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

pub(super) fn orders(rows: &Rows<'_, FakeOrder>, query: &Query) -> Value {
    let list: Vec<Value> = rows.items.iter().map(|o| order(o)).collect();
    let shown = u64::from(query.page.saturating_sub(1)) * u64::from(query.page_size) + rows.items.len() as u64;
    json!({"order_sn_increment_get_response": {
        "total_count": rows.total,
        "has_next": shown < rows.total,
        "order_sn_list": list,
    }})
}

/// One order as `pdd.order.number.list.increment.get` sends it.
pub(super) fn order(order: &FakeOrder) -> Value {
    let items: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            let mut item = json!({
                "goods_count": line.quantity,
                "goods_price": yuan_number(line.pdd_unit_price()),
            });
            if !line.line_id.is_empty() {
                item["sku_id"] = id_value(&line.line_id);
            }
            if let Some(sku) = &line.sku {
                item["outer_id"] = json!(sku);
            }
            item
        })
        .collect();
    json!({
        "order_sn": order.id,
        "order_status": int_or_text(&order.status.raw(Kind::Pdd)),
        "refund_status": if order.status == FakeStatus::ClosedAfterPayment { 4 } else { 1 },
        "confirm_time": order.paid_at.map(format_beijing).unwrap_or_default(),
        "updated_at": format_beijing(order.modified),
        "pay_amount": yuan_number(order.total()),
        "postage": yuan_number(order.postage),
        "item_list": items,
    })
}

pub(super) fn refunds(rows: &Rows<'_, FakeRefund>) -> Value {
    let list: Vec<Value> = rows.items.iter().map(|r| refund(r)).collect();
    json!({"refund_increment_get_response": { "total_count": rows.total, "refund_list": list }})
}

/// One refund as `pdd.refund.list.increment.get` sends it.
pub(super) fn refund(refund: &FakeRefund) -> Value {
    let mut value = json!({
        "id": id_value(&refund.refund_id),
        "order_sn": refund.order_id,
        "refund_amount": yuan_text(refund.amount),
        "after_sales_status": if refund.succeeded { 10 } else { 2 },
        "after_sales_type": if refund.quantity_returned.is_some() { 3 } else { 2 },
        "goods_number": refund.quantity_returned.unwrap_or(1),
        "updated_time": format_beijing(refund.modified),
    });
    if let Some(line) = refund.line_ids.first() {
        value["sku_id"] = id_value(line);
    }
    value
}

pub(super) fn throttled() -> Value {
    json!({"error_response": {"error_code": 70031, "error_msg": "调用过于频繁，请调整调用频率"}})
}

pub(super) fn error(failure: &Failure) -> Value {
    let (code, msg) = match failure {
        Failure::Route(route) => (10000, format!("参数错误: 接口地址不存在 {route}")),
        Failure::Missing(name) => (10000, format!("参数错误: 缺少参数 {name}")),
        Failure::Invalid(name, why) => (10000, format!("参数错误: {name}: {why}")),
        Failure::Window(why) => (10000, format!("参数错误: start_updated_at/end_updated_at: {why}")),
        Failure::Timestamp(why) => (10000, format!("参数错误: timestamp: {why}")),
        Failure::UnknownApi(api) => (10000, format!("参数错误: type {api} 不存在")),
        Failure::AppKey => (10016, "client_id不存在".to_owned()),
        Failure::Token => (10019, "access_token已过期".to_owned()),
        Failure::Sign => (20004, "签名验证失败".to_owned()),
    };
    json!({"error_response": {"error_code": code, "error_msg": msg}})
}
