//! Douyin 抖店, PLATFORMS.md §4: `/order/searchList` and `/afterSale/List`, common parameters in
//! the query, `param_json` as the body, Unix seconds, fen integers.

use super::model::{FakeOrder, FakeRefund};
use super::server::{
    Failure, Incoming, Params, Query, Rows, check_credentials, check_page, check_timestamp, check_window, form_pairs,
    int_or_text, parse_unix,
};
use super::{Kind, List, LoggedRequest};
use axum::http::Method;
use chrono::{DateTime, Utc};
use hezuo_platforms::Credentials;
use hezuo_platforms::douyin;
use serde_json::{Map, Value, json};

pub(super) fn read(
    incoming: &Incoming<'_>,
    credentials: &Credentials,
    now: DateTime<Utc>,
    entry: &mut LoggedRequest,
) -> Result<Query, Failure> {
    let list = match incoming.path {
        douyin::ORDERS_PATH => List::Orders,
        douyin::REFUNDS_PATH => List::Refunds,
        _ => return Err(Failure::Route(entry.route.clone())),
    };
    if incoming.method != Method::POST {
        return Err(Failure::Route(entry.route.clone()));
    }
    let method = douyin::method_name(incoming.path);
    entry.list = Some(list);
    let (start_name, end_name) = match list {
        List::Orders => ("update_time_start", "update_time_end"),
        List::Refunds => ("update_start_time", "update_end_time"),
    };
    let query = Params::new(form_pairs(incoming.query.as_bytes()))?;
    entry.api = query.get("method").map(str::to_owned);
    // The body, read leniently first for the request log.
    let text = std::str::from_utf8(incoming.body).ok();
    let body = text.and_then(|t| serde_json::from_str::<Value>(t).ok());
    let body = match &body {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    if let Some(map) = body {
        let peek_time = |name| int(map, name).ok().flatten().and_then(hezuo_platforms::time::from_unix);
        entry.start = peek_time(start_name);
        entry.end = peek_time(end_name);
        entry.page = int(map, "page").ok().flatten().and_then(|n| u32::try_from(n).ok());
        entry.page_size = int(map, "size").ok().flatten().and_then(|n| u32::try_from(n).ok());
    }

    let api = query.require("method")?;
    if api != method {
        return Err(Failure::UnknownApi(format!("{api} on {}", incoming.path)));
    }
    check_credentials(credentials, query.require("app_key")?, query.get("access_token"), "access_token")?;
    let timestamp = query.require("timestamp")?;
    let timestamp = parse_unix("timestamp", timestamp).map_err(|e| Failure::Timestamp(e.reason()))?;
    check_timestamp(timestamp, now)?;
    query.expect("v", "2")?;
    query.expect("sign_method", "hmac-sha256")?;
    let sign = query.require("sign")?;
    let Some(text) = text else { return Err(Failure::Invalid("param_json", "not UTF-8".to_owned())) };
    // Over the raw body bytes, exactly as they arrived.
    if sign != douyin::sign(&credentials.app_key, &credentials.app_secret, &method, text, query.require("timestamp")?) {
        return Err(Failure::Sign);
    }
    let Some(map) = body else { return Err(Failure::Invalid("param_json", "not a JSON object".to_owned())) };
    let canonical = douyin::param_json(&Value::Object(map.clone()));
    if canonical != text {
        return Err(Failure::Invalid(
            "param_json",
            "not canonical (keys sorted at every level, no whitespace, no escaped / or non-ASCII)".to_owned(),
        ));
    }

    let start = time(map, start_name)?;
    let end = time(map, end_name)?;
    check_window(Kind::Douyin, start, end)?;
    let page = count(map, "page")?;
    let size = count(map, "size")?;
    check_page(Kind::Douyin, "page", page, "size", size)?;
    let mut query = Query::new(list, start, end, page, size);
    query.ascending = match list {
        List::Orders => {
            match map.get("order_by") {
                None => {}
                Some(Value::String(by)) if by == "update_time" => {}
                Some(other) => {
                    return Err(Failure::Invalid("order_by", format!("{other} (the fake sorts by update_time only)")));
                }
            }
            match map.get("order_asc") {
                None => false,
                Some(Value::Bool(asc)) => *asc,
                Some(other) => return Err(Failure::Invalid("order_asc", format!("{other} is not a boolean"))),
            }
        }
        List::Refunds => match map.get("order_by") {
            None => false,
            Some(Value::Array(keys)) => match keys.first() {
                None => false,
                Some(Value::String(key)) if key == "update_time asc" => true,
                Some(Value::String(key)) if key == "update_time desc" => false,
                Some(other) => {
                    return Err(Failure::Invalid(
                        "order_by",
                        format!("{other} (the fake sorts by \"update_time asc\" or \"update_time desc\" only)"),
                    ));
                }
            },
            Some(other) => return Err(Failure::Invalid("order_by", format!("{other} is not a list"))),
        },
    };
    Ok(query)
}

/// An integer field (a JSON integer or a string of digits); absent is `None`.
fn int(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, Failure> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| Failure::Invalid(name, format!("{n} is not an integer")))
        }
        Some(Value::String(s)) => {
            s.parse().map(Some).map_err(|_| Failure::Invalid(name, format!("{s:?} is not an integer")))
        }
        Some(other) => Err(Failure::Invalid(name, format!("{other} is not an integer"))),
    }
}

fn time(map: &Map<String, Value>, name: &'static str) -> Result<DateTime<Utc>, Failure> {
    let secs = int(map, name)?.ok_or(Failure::Missing(name))?;
    hezuo_platforms::time::from_unix(secs).ok_or_else(|| Failure::Invalid(name, format!("{secs} is out of range")))
}

fn count(map: &Map<String, Value>, name: &'static str) -> Result<u32, Failure> {
    let n = int(map, name)?.ok_or(Failure::Missing(name))?;
    u32::try_from(n).map_err(|_| Failure::Invalid(name, format!("{n} is not a non-negative integer")))
}

fn success(data: Value) -> Value {
    json!({ "code": douyin::SUCCESS_CODE, "msg": "success", "data": data })
}

pub(super) fn orders(rows: &Rows<'_, FakeOrder>, query: &Query) -> Value {
    let list: Vec<Value> = rows.items.iter().map(|o| order(o)).collect();
    success(json!({ "total": rows.total, "page": query.page, "size": query.page_size, "shop_order_list": list }))
}

/// One shop order as `order.searchList` sends it.
pub(super) fn order(order: &FakeOrder) -> Value {
    let skus: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            let mut sku = json!({
                "sku_order_id": line.line_id,
                "item_num": line.quantity,
                "pay_amount": line.amount.cents(),
            });
            if let Some(code) = &line.sku {
                sku["out_sku_id"] = json!(code);
            }
            sku
        })
        .collect();
    json!({
        "order_id": order.id,
        "order_status": int_or_text(&order.status.raw(Kind::Douyin)),
        "update_time": order.modified.timestamp(),
        "create_time": order.created.timestamp(),
        "pay_time": order.paid_at.map_or(0, |t| t.timestamp()),
        "pay_amount": order.total().cents(),
        "sku_order_list": skus,
    })
}

pub(super) fn refunds(rows: &Rows<'_, FakeRefund>, query: &Query) -> Value {
    let list: Vec<Value> = rows.items.iter().map(|r| json!({ "aftersale_info": refund(r) })).collect();
    success(json!({ "total": rows.total, "page": query.page, "size": query.page_size, "items": list }))
}

/// One after-sale's `aftersale_info` as `afterSale.List` sends it.
pub(super) fn refund(refund: &FakeRefund) -> Value {
    let related: Vec<Value> = refund
        .line_ids
        .iter()
        .zip(refund.douyin_pieces())
        .map(|(line, pieces)| json!({ "sku_order_id": line, "item_num": pieces }))
        .collect();
    json!({
        "aftersale_id": refund.refund_id,
        "order_id": refund.order_id,
        "related_order_info": related,
        "refund_amount": refund.amount.cents(),
        "aftersale_status": if refund.succeeded { douyin::REFUND_SUCCEEDED } else { 6 },
        "aftersale_type": if refund.quantity_returned.is_some() { douyin::RETURN_AND_REFUND } else { 1 },
        "update_time": refund.modified.timestamp(),
    })
}

pub(super) fn throttled() -> Value {
    json!({ "code": douyin::THROTTLE_CODE, "msg": "请求过于频繁", "sub_code": "isv.request-limit", "sub_msg": "限流" })
}

pub(super) fn error(failure: &Failure) -> Value {
    let (code, msg, sub_code, sub_msg) = match failure {
        Failure::Route(route) => (40002, "非法的参数", "isv.api-not-exist", format!("接口不存在: {route}")),
        Failure::Missing(name) => (40001, "缺少必选参数", "isv.missing-parameter", format!("缺少参数 {name}")),
        Failure::Invalid(name, why) => (40002, "非法的参数", "isv.parameter-invalid", format!("{name}: {why}")),
        Failure::Window(why) => (40002, "非法的参数", "isv.parameter-invalid", format!("更新时间范围: {why}")),
        Failure::Timestamp(why) => (40002, "非法的参数", "isv.timestamp-invalid", format!("timestamp: {why}")),
        Failure::UnknownApi(api) => (40002, "非法的参数", "isv.method-invalid", format!("method {api}")),
        Failure::AppKey => (30001, "认证失败", "isv.app-key-invalid", "app_key不存在".to_owned()),
        Failure::Token => (30002, "权限不足", "isv.access-token-expired", "access_token已过期".to_owned()),
        Failure::Sign => (30001, "认证失败", "isv.sign-invalid", "签名校验失败".to_owned()),
    };
    json!({ "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "data": {} })
}
