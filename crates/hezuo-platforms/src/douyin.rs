//! Douyin 抖店 open platform, PLATFORMS.md §4.
//!
//! Calls are `POST {base_url}/{path}` with the common parameters in the query and the API's
//! parameters as the body: `param_json`, canonical JSON (keys sorted at every level, no
//! whitespace, `/` and non-ASCII unescaped), sent as the exact bytes that were signed. Times are
//! Unix seconds; money is fen (integers).
//!
//! States: `order_status` 105 (paid) and 2 (preparing) are paid, 101 (part shipped) and 3
//! (shipped) shipped, 5 completed, 1 (awaiting payment) unpaid. 4 (cancelled) is decided by the
//! order's `pay_time`: `0` (or empty) means the buyer never paid — closed before payment,
//! skipped; a payment time, or no `pay_time` in the answer at all, means closed after payment —
//! every line refunded, a full cancel. Leaning to "after payment" when the answer is silent
//! means a cancel is never lost; cancelling an order hezuo never booked does nothing.

use crate::json::{self, Obj, Unit, path};
use crate::model::{
    Body, Credentials, Method, OrderState, Page, PlatformError, PlatformLine, PlatformOrder, PlatformRefund, Request,
    api_error,
};
use crate::plan::Window;
use crate::{PAGE_SIZE, Platform, crypto};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::Mac;
use serde_json::{Value, json};

/// The API that searches orders.
pub const ORDERS_PATH: &str = "/order/searchList";
/// The API that lists after-sales (refunds).
pub const REFUNDS_PATH: &str = "/afterSale/List";
/// The `code` of a successful answer.
pub const SUCCESS_CODE: i64 = 10000;
/// The `code` of the call-rate limit.
pub const THROTTLE_CODE: i64 = 40003;
/// The `aftersale_status` of a refund that succeeded.
pub const REFUND_SUCCEEDED: i64 = 12;
/// The `aftersale_type` of a return and refund.
pub const RETURN_AND_REFUND: i64 = 0;

/// The `method` of an API path: `/order/searchList` → `order.searchList`.
pub fn method_name(path: &str) -> String {
    path.trim_start_matches('/').replace('/', ".")
}

/// The `param_json` of the API's parameters: canonical JSON (keys sorted at every level, no
/// whitespace, `/` and non-ASCII as they are, numbers as their exact text).
pub fn param_json(params: &Value) -> String {
    json::canonical(params)
}

/// The Douyin `sign` (`sign_method=hmac-sha256`): lower hex HMAC-SHA256(key = app_secret,
/// app_secret + "app_key" + app_key + "method" + method + "param_json" + param_json +
/// "timestamp" + timestamp + "v" + "2" + app_secret).
pub fn sign(app_key: &str, app_secret: &str, method: &str, param_json: &str, timestamp: &str) -> String {
    let mut mac = crypto::hmac_sha256(app_secret.as_bytes());
    for part in [
        app_secret,
        "app_key",
        app_key,
        "method",
        method,
        "param_json",
        param_json,
        "timestamp",
        timestamp,
        "v",
        "2",
        app_secret,
    ] {
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The Douyin platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Douyin;

impl Douyin {
    /// A signed call of the API at `path` with `params`, at `now`.
    pub fn call(&self, credentials: &Credentials, path: &str, params: &Value, now: DateTime<Utc>) -> Request {
        let method = method_name(path);
        let body = param_json(params);
        let timestamp = now.timestamp().to_string();
        let sign = sign(&credentials.app_key, &credentials.app_secret, &method, &body, &timestamp);
        let mut query = vec![("app_key".to_owned(), credentials.app_key.clone()), ("method".to_owned(), method)];
        if let Some(token) = &credentials.access_token {
            query.push(("access_token".to_owned(), token.clone()));
        }
        query.extend([
            ("timestamp".to_owned(), timestamp),
            ("v".to_owned(), "2".to_owned()),
            ("sign_method".to_owned(), "hmac-sha256".to_owned()),
            ("sign".to_owned(), sign),
        ]);
        Request {
            method: Method::Post,
            path: path.to_owned(),
            query,
            body: Body::Raw { content_type: "application/json", bytes: body.into_bytes() },
        }
    }
}

impl Platform for Douyin {
    fn name(&self) -> &'static str {
        "douyin"
    }

    /// The product's rule: a day per request.
    fn max_window(&self) -> TimeDelta {
        TimeDelta::days(1)
    }

    fn first_page(&self) -> u32 {
        0
    }

    fn orders_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        let params = json!({
            "update_time_start": window.read_from().timestamp(),
            "update_time_end": window.to.timestamp(),
            "page": page,
            "size": PAGE_SIZE,
            "order_by": "update_time",
            "order_asc": false,
        });
        self.call(credentials, ORDERS_PATH, &params, now)
    }

    fn refunds_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        let params = json!({
            "update_start_time": window.read_from().timestamp(),
            "update_end_time": window.to.timestamp(),
            "page": page,
            "size": PAGE_SIZE,
            "order_by": ["update_time asc"],
        });
        self.call(credentials, REFUNDS_PATH, &params, now)
    }

    fn parse_orders(&self, body: &[u8]) -> Result<Page<PlatformOrder>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_code(&root)?;
        let data = root.obj("data", "data")?;
        let total = data.uint("total")?;
        let list = data.list("shop_order_list")?;
        let mut items = Vec::with_capacity(list.len());
        for (i, order) in list.iter().enumerate() {
            let at = format!("shop_order_list[{i}]");
            items.push(parse_order(Obj::new(order, &at)?)?);
        }
        Ok(Page { items, total })
    }

    fn parse_refunds(&self, body: &[u8]) -> Result<Page<PlatformRefund>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_code(&root)?;
        let data = root.obj("data", "data")?;
        let total = data.uint("total")?;
        let list = data.list("items")?;
        let mut items = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let at = format!("items[{i}]");
            let item = Obj::new(item, &at)?;
            let at = path(&at, "aftersale_info");
            items.push(parse_refund(item.obj("aftersale_info", &at)?)?);
        }
        Ok(Page { items, total })
    }
}

/// The normalized state of an `order_status`; `pay_time` is the order's `pay_time` when the
/// answer has one (0 = never paid), which decides a cancelled order (see the module
/// documentation).
pub fn state(order_status: i64, pay_time: Option<i64>) -> OrderState {
    match order_status {
        105 | 2 => OrderState::Paid,
        101 | 3 => OrderState::Shipped,
        5 => OrderState::Completed,
        1 => OrderState::Unpaid,
        4 if pay_time == Some(0) => OrderState::ClosedBeforePayment,
        4 => OrderState::ClosedAfterPayment,
        _ => OrderState::Unrecognized,
    }
}

fn parse_order(order: Obj<'_>) -> Result<PlatformOrder, PlatformError> {
    let order_status = order.int("order_status")?;
    let paid_at = order.opt_any_time("pay_time")?;
    // Present but 0 or empty: never paid. Absent: unknown.
    let pay_time = order.opt("pay_time").map(|_| paid_at.map_or(0, |t| t.timestamp()));
    let skus = order.list("sku_order_list")?;
    let mut lines = Vec::with_capacity(skus.len());
    for (j, sku) in skus.iter().enumerate() {
        let at = path(order.at(), format!("sku_order_list[{j}]"));
        let sku = Obj::new(sku, &at)?;
        lines.push(PlatformLine {
            line_id: sku.id("sku_order_id")?,
            // The SKU's merchant code, else the product's one.
            sku: sku.opt_str("out_sku_id")?.or(sku.opt_str("out_product_id")?).map(str::to_owned),
            quantity: sku.count("item_num")?,
            amount: sku.money("pay_amount", Unit::Fen, json::Form::NumberOrString)?,
        });
    }
    let result = PlatformOrder {
        id: order.id("order_id")?,
        state: state(order_status, pay_time),
        status: order_status.to_string(),
        modified: order.unix_time("update_time")?,
        paid_at,
        lines,
    };
    crate::check_lines(&result, order.at())?;
    Ok(result)
}

fn parse_refund(info: Obj<'_>) -> Result<PlatformRefund, PlatformError> {
    let related = info.list("related_order_info")?;
    let mut line_ids = Vec::with_capacity(related.len());
    let mut pieces: u32 = 0;
    for (j, line) in related.iter().enumerate() {
        let at = path(info.at(), format!("related_order_info[{j}]"));
        let line = Obj::new(line, &at)?;
        line_ids.push(line.id("sku_order_id")?);
        if line.opt("item_num").is_some() {
            pieces =
                pieces.checked_add(line.u32("item_num")?).ok_or_else(|| json::malformed(&at, "too many pieces"))?;
        }
    }
    let quantity_returned = if info.int("aftersale_type")? == RETURN_AND_REFUND {
        if pieces == 0 {
            return Err(json::malformed(info.at(), "a return without item_num in related_order_info"));
        }
        Some(pieces)
    } else {
        None
    };
    Ok(PlatformRefund {
        refund_id: info.id("aftersale_id")?,
        order_id: info.id("order_id")?,
        line_ids,
        amount: info.money("refund_amount", Unit::Fen, json::Form::NumberOrString)?,
        quantity_returned,
        succeeded: info.int("aftersale_status")? == REFUND_SUCCEEDED,
        modified: info.unix_time("update_time")?,
    })
}

/// A `code` other than 10000 as an error: 40003 is throttling.
fn check_code(root: &Obj<'_>) -> Result<(), PlatformError> {
    let code = root.int("code")?;
    if code == SUCCESS_CODE {
        return Ok(());
    }
    if code == THROTTLE_CODE {
        return Err(PlatformError::Throttled { wait: None });
    }
    let msg = root.opt_text("msg").unwrap_or_default();
    let code = match root.opt_text("sub_code") {
        Some(sub) => format!("{code}/{sub}"),
        None => code.to_string(),
    };
    let message = match root.opt_text("sub_msg") {
        Some(sub) => format!("{msg}: {sub}"),
        None => msg,
    };
    Err(api_error(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use hezuo_core::Money;

    #[test]
    fn method_names() {
        assert_eq!(method_name("/order/searchList"), "order.searchList");
        assert_eq!(method_name("/afterSale/List"), "afterSale.List");
        assert_eq!(method_name("product/detail"), "product.detail");
    }

    #[test]
    fn sign_known_answer() {
        let pj = r#"{"name":"苹果/5斤","page":0}"#;
        // python3 -c 'import hmac,hashlib; s="dysecret"; m=s+"app_key"+"7001"+"method"+"product.detail"+"param_json"+"{\"name\":\"苹果/5斤\",\"page\":0}"+"timestamp"+"1764554400"+"v"+"2"+s; print(hmac.new(s.encode(),m.encode(),hashlib.sha256).hexdigest())'
        assert_eq!(
            sign("7001", "dysecret", "product.detail", pj, "1764554400"),
            "dcab3de58acb3436579e98249773595e4e937dbf2bc1ab322e012779674ff28c"
        );
    }

    #[test]
    fn param_json_is_sorted_compact_and_unescaped() {
        let v: Value = serde_json::from_str(r#"{"size": 100, "b": {"z": "/a/b", "a": "抖店"}, "a": [ "x" ]}"#).unwrap();
        assert_eq!(param_json(&v), r#"{"a":["x"],"b":{"a":"抖店","z":"/a/b"},"size":100}"#);
    }

    fn creds() -> Credentials {
        Credentials::new("7001", "dysecret", Some("dy-token-1".into()))
    }

    fn window() -> Window {
        Window::new(
            Utc.with_ymd_and_hms(2025, 12, 1, 1, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2025, 12, 1, 1, 25, 0).unwrap(),
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 12, 1, 2, 0, 0).unwrap()
    }

    fn body_text(r: &Request) -> String {
        match &r.body {
            Body::Raw { content_type, bytes } => {
                assert_eq!(*content_type, "application/json");
                String::from_utf8(bytes.clone()).unwrap()
            }
            other => panic!("not raw: {other:?}"),
        }
    }

    #[test]
    fn orders_request() {
        let r = Douyin.orders_request(&creds(), &window(), 0, now());
        assert_eq!((r.method, r.path.as_str()), (Method::Post, "/order/searchList"));
        let names: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["app_key", "method", "access_token", "timestamp", "v", "sign_method", "sign"]);
        let q = |k| r.query_value(k).unwrap();
        assert_eq!(q("app_key"), "7001");
        assert_eq!(q("method"), "order.searchList");
        assert_eq!(q("access_token"), "dy-token-1");
        assert_eq!(q("timestamp"), "1764554400");
        assert_eq!(q("v"), "2");
        assert_eq!(q("sign_method"), "hmac-sha256");
        let body = body_text(&r);
        assert_eq!(
            body,
            r#"{"order_asc":false,"order_by":"update_time","page":0,"size":100,"update_time_end":1764552300,"update_time_start":1764550500}"#
        );
        assert_eq!(q("sign"), sign("7001", "dysecret", "order.searchList", &body, "1764554400"));
        // python3 -c 'import hmac,hashlib; s="dysecret"; pj="{\"order_asc\":false,\"order_by\":\"update_time\",\"page\":0,\"size\":100,\"update_time_end\":1764552300,\"update_time_start\":1764550500}"; m=s+"app_key7001methodorder.searchListparam_json"+pj+"timestamp1764554400v2"+s; print(hmac.new(s.encode(),m.encode(),hashlib.sha256).hexdigest())'
        assert_eq!(q("sign"), "18a6f61d4bbdb41667b2c536155e891a27a31894efc5ecc58271bc4269975137");
        assert!(!r.url("https://openapi-fxg.jinritemai.com").contains("dysecret"));
    }

    #[test]
    fn refunds_request() {
        let c = Credentials::new("7001", "dysecret", None);
        let r = Douyin.refunds_request(&c, &window(), 2, now());
        assert_eq!(r.path, "/afterSale/List");
        assert_eq!(r.query_value("method"), Some("afterSale.List"));
        assert_eq!(r.query_value("access_token"), None);
        let body = body_text(&r);
        assert_eq!(
            body,
            r#"{"order_by":["update_time asc"],"page":2,"size":100,"update_end_time":1764552300,"update_start_time":1764550500}"#
        );
        // python3 -c 'import hmac,hashlib; s="dysecret"; pj="{\"order_by\":[\"update_time asc\"],\"page\":2,\"size\":100,\"update_end_time\":1764552300,\"update_start_time\":1764550500}"; m=s+"app_key7001methodafterSale.Listparam_json"+pj+"timestamp1764554400v2"+s; print(hmac.new(s.encode(),m.encode(),hashlib.sha256).hexdigest())'
        assert_eq!(r.query_value("sign"), Some("8c8849d9c196c3d1b6e094c71521c33fac742c11e1ce191ab7f987ed54d5ffee"));
    }

    const ORDERS: &str = r#"{"code": 10000, "msg": "success", "log_id": "20251201100000", "data": {"total": 4, "page": 0, "size": 100,
        "shop_order_list": [
          {"order_id": "6919345678901234567", "order_status": 105, "update_time": 1764551400, "create_time": 1764550800,
           "pay_time": 1764550830, "pay_amount": 2130,
           "sku_order_list": [
             {"sku_order_id": "6919345678901234568", "out_sku_id": "APPLE-5J", "item_num": 2, "pay_amount": 1230},
             {"sku_order_id": 6919345678901234569, "out_sku_id": "", "out_product_id": "HONEY", "item_num": 1, "pay_amount": 900}
           ]},
          {"order_id": "6919345678901234570", "order_status": 1, "update_time": 1764551401, "create_time": 1764551000,
           "pay_time": 0, "pay_amount": 500,
           "sku_order_list": [{"sku_order_id": "6919345678901234571", "out_sku_id": "EGG", "item_num": 1, "pay_amount": 500}]},
          {"order_id": "6919345678901234572", "order_status": 4, "update_time": 1764551402, "create_time": 1764000000,
           "pay_time": 1764000100, "pay_amount": 3000,
           "sku_order_list": [{"sku_order_id": "6919345678901234573", "out_sku_id": "RICE", "item_num": 3, "pay_amount": 3000}]},
          {"order_id": "6919345678901234574", "order_status": 4, "update_time": 1764551403, "create_time": 1764000000,
           "pay_time": 0, "pay_amount": 100,
           "sku_order_list": [{"sku_order_id": "6919345678901234575", "out_sku_id": "PEN", "item_num": 1, "pay_amount": 100}]}
        ]}}"#;

    #[test]
    fn parses_orders() {
        let page = Douyin.parse_orders(ORDERS.as_bytes()).unwrap();
        assert_eq!(page.total, 4);
        let o = &page.items[0];
        assert_eq!(o.id, "6919345678901234567");
        assert_eq!((o.state, o.status.as_str()), (OrderState::Paid, "105"));
        assert_eq!(o.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 10, 0).unwrap());
        assert_eq!(o.paid_at, Some(Utc.with_ymd_and_hms(2025, 12, 1, 1, 0, 30).unwrap()));
        assert_eq!(
            o.lines,
            vec![
                PlatformLine {
                    line_id: "6919345678901234568".into(),
                    sku: Some("APPLE-5J".into()),
                    quantity: 2,
                    amount: Money::from_cents(1230)
                },
                PlatformLine {
                    line_id: "6919345678901234569".into(),
                    sku: Some("HONEY".into()),
                    quantity: 1,
                    amount: Money::from_cents(900)
                },
            ]
        );
        let unpaid = &page.items[1];
        assert_eq!((unpaid.state, unpaid.paid_at), (OrderState::Unpaid, None));
        assert_eq!(page.items[2].state, OrderState::ClosedAfterPayment);
        assert_eq!(page.items[2].state.action(), crate::Action::Cancel);
        assert_eq!(page.items[3].state, OrderState::ClosedBeforePayment);
    }

    #[test]
    fn every_status_maps() {
        for (s, want) in
            [(105, OrderState::Paid), (2, OrderState::Paid), (101, OrderState::Shipped), (3, OrderState::Shipped)]
        {
            assert_eq!(state(s, Some(1764550830)), want);
        }
        assert_eq!(state(5, None), OrderState::Completed);
        assert_eq!(state(1, Some(0)), OrderState::Unpaid);
        assert_eq!(state(4, Some(0)), OrderState::ClosedBeforePayment);
        assert_eq!(state(4, Some(1764550830)), OrderState::ClosedAfterPayment);
        // Silent answer: after payment, so a cancel is never lost.
        assert_eq!(state(4, None), OrderState::ClosedAfterPayment);
        assert_eq!(state(103, None), OrderState::Unrecognized);
    }

    #[test]
    fn parses_refunds() {
        let body = r#"{"code": 10000, "msg": "success", "data": {"total": 2, "page": 0, "size": 100, "items": [
            {"aftersale_info": {"aftersale_id": "7012345678901234567", "order_id": "6919345678901234567",
              "related_order_info": [{"sku_order_id": "6919345678901234568", "item_num": 1}],
              "refund_amount": 500, "aftersale_status": 12, "aftersale_type": 0, "update_time": 1764551700},
             "order_info": {}},
            {"aftersale_info": {"aftersale_id": 7012345678901234568, "order_id": 6919345678901234570,
              "related_order_info": [{"sku_order_id": "6919345678901234571", "item_num": 1}],
              "refund_amount": "250", "aftersale_status": 6, "aftersale_type": 1, "update_time": "1764551701"}}
        ]}}"#;
        let page = Douyin.parse_refunds(body.as_bytes()).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(
            page.items[0],
            PlatformRefund {
                refund_id: "7012345678901234567".into(),
                order_id: "6919345678901234567".into(),
                line_ids: vec!["6919345678901234568".into()],
                amount: Money::from_cents(500),
                quantity_returned: Some(1),
                succeeded: true,
                modified: Utc.with_ymd_and_hms(2025, 12, 1, 1, 15, 0).unwrap(),
            }
        );
        let r = &page.items[1];
        assert_eq!(r.refund_id, "7012345678901234568");
        assert_eq!(r.order_id, "6919345678901234570");
        assert_eq!((r.amount, r.quantity_returned, r.succeeded), (Money::from_cents(250), None, false));
    }

    #[test]
    fn errors_and_throttling() {
        let body =
            r#"{"code": 40003, "msg": "请求过于频繁", "sub_code": "isv.request-limit", "sub_msg": "限流"}"#.as_bytes();
        assert_eq!(Douyin.parse_orders(body), Err(PlatformError::Throttled { wait: None }));
        assert_eq!(Douyin.parse_refunds(body), Err(PlatformError::Throttled { wait: None }));
        let body = r#"{"code": 30002, "msg": "权限不足", "sub_code": "isv.access-token-expired", "sub_msg": "access_token已过期", "data": {}}"#.as_bytes();
        assert_eq!(
            Douyin.parse_orders(body),
            Err(PlatformError::Api {
                code: "30002/isv.access-token-expired".into(),
                message: "权限不足: access_token已过期".into()
            })
        );
        assert_eq!(Douyin.parse_orders(br#"{"data": {}}"#), Err(PlatformError::Malformed("code: missing".into())));
    }

    #[test]
    fn malformed_answers() {
        // Fen must be integers.
        let body = br#"{"code": 10000, "data": {"total": 1, "shop_order_list": [{"order_id": "1", "order_status": 105,
            "update_time": 1764551400, "sku_order_list": [{"sku_order_id": "2", "out_sku_id": "A", "item_num": 1, "pay_amount": 12.3}]}]}}"#;
        assert_eq!(
            Douyin.parse_orders(body),
            Err(PlatformError::Malformed(
                "shop_order_list[0].sku_order_list[0].pay_amount: not an integer of fen".into()
            ))
        );
        let body = br#"{"code": 10000, "data": {"total": 1, "shop_order_list": [{"order_id": "1", "order_status": 105,
            "update_time": "2025-12-01 09:10:00", "sku_order_list": [{"sku_order_id": "2", "item_num": 1, "pay_amount": 1}]}]}}"#;
        assert_eq!(
            Douyin.parse_orders(body),
            Err(PlatformError::Malformed("shop_order_list[0].update_time: not an integer".into()))
        );
        let body = br#"{"code": 10000, "data": {"total": 1, "items": [{"aftersale_info": {"aftersale_id": "1", "order_id": "2",
            "related_order_info": [], "refund_amount": 5, "aftersale_status": 12, "aftersale_type": 0, "update_time": 1}}]}}"#;
        assert_eq!(
            Douyin.parse_refunds(body),
            Err(PlatformError::Malformed(
                "items[0].aftersale_info: a return without item_num in related_order_info".into()
            ))
        );
        assert_eq!(Douyin.parse_refunds(b"[1,2]"), Err(PlatformError::Malformed("answer: not an object".into())));
    }
}
