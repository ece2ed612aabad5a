//! Pinduoduo open platform, PLATFORMS.md §3.
//!
//! Calls are `POST {base_url}/api/router` with form parameters, signed like TOP's `md5`. Times
//! in requests are Unix seconds. Times in answers (`updated_at`, `confirm_time`,
//! `updated_time`) are accepted both as Unix seconds (a JSON integer or a string of digits) and
//! as `yyyy-MM-dd HH:mm:ss` Beijing-time text, the two forms Pinduoduo's APIs use.
//!
//! Money: orders give yuan as JSON *numbers* (`12.3`), read from the number's exact text;
//! more than two decimals is refused, never rounded. Refunds give yuan as strings (`"5.00"`);
//! a number there is refused too, as it would be ambiguous.
//!
//! Lines: Pinduoduo has no line id. A line is named by its `sku_id` when the answer has one
//! (refunds name the same `sku_id`), otherwise by its position in `item_list` from `"1"`.
//!
//! States: `order_status` 1 (awaiting shipment) is paid, 2 (shipped) shipped, 3 (received)
//! completed. Pinduoduo lists only paid orders, so there is no unpaid or closed status; any
//! other value is unrecognized (skipped). A whole-order refund arrives as a refund.

use crate::json::{self, Form, Obj, Unit, path};
use crate::model::{
    Body, Credentials, Method, OrderState, Page, PlatformError, PlatformLine, PlatformOrder, PlatformRefund, Request,
    api_error,
};
use crate::plan::Window;
use crate::taobao::sorted_concat;
use crate::{PAGE_SIZE, Platform, crypto};
use chrono::{DateTime, TimeDelta, Utc};
use hezuo_core::{Money, split};

/// The path of every call.
pub const PATH: &str = "/api/router";
/// The API that lists orders by update time.
pub const ORDERS_TYPE: &str = "pdd.order.number.list.increment.get";
/// The API that lists refunds (after-sales) by update time.
pub const REFUNDS_TYPE: &str = "pdd.refund.list.increment.get";
/// The error code of the call-rate limit.
pub const THROTTLE_CODE: &str = "70031";

/// The Pinduoduo `sign`: upper hex MD5(client_secret + S + client_secret), S the parameters
/// other than `sign` sorted by name as `name1value1…`. Booleans are written `true`/`false`
/// (`bool::to_string` does).
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], client_secret: &str) -> String {
    let s = sorted_concat(params);
    crypto::upper_hex(&crypto::md5(format!("{client_secret}{s}{client_secret}").as_bytes()))
}

/// The Pinduoduo platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pdd;

impl Pdd {
    fn call(
        &self,
        credentials: &Credentials,
        api: &str,
        api_params: Vec<(&str, String)>,
        now: DateTime<Utc>,
    ) -> Request {
        let mut params: Vec<(String, String)> =
            vec![("type".into(), api.into()), ("client_id".into(), credentials.app_key.clone())];
        if let Some(token) = &credentials.access_token {
            params.push(("access_token".into(), token.clone()));
        }
        params.push(("timestamp".into(), now.timestamp().to_string()));
        params.push(("data_type".into(), "JSON".into()));
        params.extend(api_params.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let sign = sign(&params, &credentials.app_secret);
        params.push(("sign".into(), sign));
        Request { method: Method::Post, path: PATH.into(), query: Vec::new(), body: Body::Form(params) }
    }
}

impl Platform for Pdd {
    fn name(&self) -> &'static str {
        "pdd"
    }

    /// Pinduoduo refuses more than 30 minutes between `start_updated_at` and `end_updated_at`.
    fn max_window(&self) -> TimeDelta {
        TimeDelta::minutes(30)
    }

    fn first_page(&self) -> u32 {
        1
    }

    fn orders_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        let params = vec![
            ("start_updated_at", window.read_from().timestamp().to_string()),
            ("end_updated_at", window.to.timestamp().to_string()),
            ("order_status", "5".to_owned()),
            ("refund_status", "5".to_owned()),
            ("page", page.to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        self.call(credentials, ORDERS_TYPE, params, now)
    }

    fn refunds_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        let params = vec![
            ("start_updated_at", window.read_from().timestamp().to_string()),
            ("end_updated_at", window.to.timestamp().to_string()),
            ("after_sales_status", "10".to_owned()),
            ("after_sales_type", "1".to_owned()),
            ("page", page.to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        self.call(credentials, REFUNDS_TYPE, params, now)
    }

    fn parse_orders(&self, body: &[u8]) -> Result<Page<PlatformOrder>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_error(&root)?;
        const AT: &str = "order_sn_increment_get_response";
        let answer = root.obj(AT, AT)?;
        let total = answer.uint("total_count")?;
        let list = answer.list("order_sn_list")?;
        let mut items = Vec::with_capacity(list.len());
        for (i, order) in list.iter().enumerate() {
            let at = format!("order_sn_list[{i}]");
            items.push(parse_order(Obj::new(order, &at)?)?);
        }
        Ok(Page { items, total })
    }

    fn parse_refunds(&self, body: &[u8]) -> Result<Page<PlatformRefund>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_error(&root)?;
        const AT: &str = "refund_increment_get_response";
        let answer = root.obj(AT, AT)?;
        let total = answer.uint("total_count")?;
        let list = answer.list("refund_list")?;
        let mut items = Vec::with_capacity(list.len());
        for (i, refund) in list.iter().enumerate() {
            let at = format!("refund_list[{i}]");
            items.push(parse_refund(Obj::new(refund, &at)?)?);
        }
        Ok(Page { items, total })
    }
}

/// The normalized state of an `order_status` (see the module documentation).
pub fn state(order_status: i64) -> OrderState {
    match order_status {
        1 => OrderState::Paid,
        2 => OrderState::Shipped,
        3 => OrderState::Completed,
        _ => OrderState::Unrecognized,
    }
}

/// The lines' gross amounts: each line starts at `goods_price × goods_count` (`starts`, in
/// cents), and the lines must add up to `net` = `pay_amount − postage`. The difference
/// `Σ starts − net` (the discounts; negative for a surcharge) is spread over the lines with
/// [`split`] in proportion to their starting amounts, and each line is its start less its share.
/// Shares never exceed a line's start when `net ≥ 0`, so no line goes negative.
///
/// When every start is zero, `net` itself is split by the lines' piece counts (`counts`).
pub fn line_gross(starts: &[Money], counts: &[u32], net: Money) -> Result<Vec<Money>, PlatformError> {
    let overflow = || PlatformError::Malformed("amount out of range".to_owned());
    let weights: Vec<i64> = starts.iter().map(|m| m.cents()).collect();
    let sum = weights.iter().try_fold(0_i64, |acc, w| acc.checked_add(*w)).ok_or_else(overflow)?;
    let split_error = |e: hezuo_core::SplitError| PlatformError::Malformed(format!("line amounts: {e}"));
    if sum == 0 {
        let by_count: Vec<i64> = counts.iter().map(|c| i64::from(*c)).collect();
        return split(net, &by_count).map_err(split_error);
    }
    let difference = sum.checked_sub(net.cents()).ok_or_else(overflow)?;
    let shares = split(Money::from_cents(difference), &weights).map_err(split_error)?;
    starts.iter().zip(shares).map(|(start, share)| start.checked_sub(share).map_err(|_| overflow())).collect()
}

fn parse_order(order: Obj<'_>) -> Result<PlatformOrder, PlatformError> {
    let order_status = order.int("order_status")?;
    let pay_amount = order.money("pay_amount", Unit::Yuan, Form::NumberOrString)?;
    let postage = order.money("postage", Unit::Yuan, Form::NumberOrString)?;
    let net = pay_amount
        .checked_sub(postage)
        .ok()
        .filter(|m| !m.is_negative())
        .ok_or_else(|| json::malformed(order.at(), "postage exceeds pay_amount"))?;

    let items = order.list("item_list")?;
    let mut ids = Vec::with_capacity(items.len());
    let mut skus = Vec::with_capacity(items.len());
    let mut counts = Vec::with_capacity(items.len());
    let mut starts = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let at = path(order.at(), format!("item_list[{j}]"));
        let item = Obj::new(item, &at)?;
        let count = item.count("goods_count")?;
        let price = item.money("goods_price", Unit::Yuan, Form::NumberOrString)?;
        let start = price
            .cents()
            .checked_mul(i64::from(count))
            .map(Money::from_cents)
            .ok_or_else(|| json::malformed(&at, "goods_price × goods_count out of range"))?;
        ids.push(if item.opt("sku_id").is_some() { item.id("sku_id")? } else { (j + 1).to_string() });
        // The SKU's merchant code, else the goods' one.
        skus.push(item.opt_str("outer_id")?.or(item.opt_str("outer_goods_id")?).map(str::to_owned));
        counts.push(count);
        starts.push(start);
    }
    let lines = if items.is_empty() {
        Vec::new()
    } else {
        let gross = line_gross(&starts, &counts, net).map_err(|e| json::malformed(order.at(), e))?;
        ids.into_iter()
            .zip(skus)
            .zip(counts)
            .zip(gross)
            .map(|(((line_id, sku), quantity), amount)| PlatformLine { line_id, sku, quantity, amount })
            .collect()
    };
    let result = PlatformOrder {
        id: order.id("order_sn")?,
        state: state(order_status),
        status: order_status.to_string(),
        modified: order.any_time("updated_at")?,
        paid_at: order.opt_any_time("confirm_time")?,
        lines,
    };
    crate::check_lines(&result, order.at())?;
    Ok(result)
}

fn parse_refund(refund: Obj<'_>) -> Result<PlatformRefund, PlatformError> {
    let status = refund.int("after_sales_status")?;
    let kind = refund.int("after_sales_type")?;
    let line_ids = if refund.opt("sku_id").is_some() { vec![refund.id("sku_id")?] } else { Vec::new() };
    Ok(PlatformRefund {
        refund_id: refund.id("id")?,
        order_id: refund.id("order_sn")?,
        line_ids,
        amount: refund.money("refund_amount", Unit::Yuan, Form::String)?,
        // after_sales_type 3: return and refund, the goods came back.
        quantity_returned: if kind == 3 { Some(refund.count("goods_number")?) } else { None },
        succeeded: status == 10,
        modified: refund.any_time("updated_time")?,
    })
}

/// An `error_response` answer as an error: code 70031 is throttling.
fn check_error(root: &Obj<'_>) -> Result<(), PlatformError> {
    let Some(value) = root.opt("error_response") else { return Ok(()) };
    let error = Obj::new(value, "error_response")?;
    let code = error.opt_text("error_code").unwrap_or_default();
    if code == THROTTLE_CODE {
        return Err(PlatformError::Throttled { wait: None });
    }
    let msg = error.opt_text("error_msg").unwrap_or_default();
    let code = match error.opt_text("sub_code") {
        Some(sub) => format!("{code}/{sub}"),
        None => code,
    };
    let message = match error.opt_text("sub_msg") {
        Some(sub) => format!("{msg}: {sub}"),
        None => msg,
    };
    Err(api_error(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sign_known_answer_with_boolean() {
        let p = [
            ("type", "pdd.order.information.get".to_owned()),
            ("client_id", "4b6e2b0a8c3f4e1d9a7b".to_owned()),
            ("timestamp", "1764554400".to_owned()),
            ("data_type", "JSON".to_owned()),
            ("order_sn", "251201-123456789012345".to_owned()),
            ("is_lucky_flag", true.to_string()),
        ];
        // python3 -c 'import hashlib; p={"type":"pdd.order.information.get","client_id":"4b6e2b0a8c3f4e1d9a7b","timestamp":"1764554400","data_type":"JSON","order_sn":"251201-123456789012345","is_lucky_flag":"true"}; S="".join(k+p[k] for k in sorted(p)); print(hashlib.md5(("pddsecret"+S+"pddsecret").encode()).hexdigest().upper())'
        assert_eq!(sign(&p, "pddsecret"), "5AABF01639778E92C7ACD75263BE94E7");
    }

    fn creds() -> Credentials {
        Credentials::new("4b6e2b0a8c3f4e1d9a7b", "pddsecret", Some("tok-pdd-1".into()))
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

    fn names(r: &Request) -> Vec<&str> {
        match &r.body {
            Body::Form(p) => p.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not a form: {other:?}"),
        }
    }

    fn recomputed(r: &Request) -> String {
        match &r.body {
            Body::Form(p) => sign(p, "pddsecret"),
            other => panic!("not a form: {other:?}"),
        }
    }

    #[test]
    fn orders_request() {
        let r = Pdd.orders_request(&creds(), &window(), 2, now());
        assert_eq!((r.method, r.path.as_str()), (Method::Post, "/api/router"));
        assert!(r.query.is_empty());
        assert_eq!(
            names(&r),
            [
                "type",
                "client_id",
                "access_token",
                "timestamp",
                "data_type",
                "start_updated_at",
                "end_updated_at",
                "order_status",
                "refund_status",
                "page",
                "page_size",
                "sign"
            ]
        );
        let v = |k| r.body.form_value(k).unwrap();
        assert_eq!(v("type"), "pdd.order.number.list.increment.get");
        assert_eq!(v("client_id"), "4b6e2b0a8c3f4e1d9a7b");
        assert_eq!(v("access_token"), "tok-pdd-1");
        assert_eq!(v("timestamp"), "1764554400");
        assert_eq!(v("data_type"), "JSON");
        // 2025-12-01T00:55:00Z and 01:25:00Z: 30 minutes apart, overlap included.
        assert_eq!(v("start_updated_at"), "1764550500");
        assert_eq!(v("end_updated_at"), "1764552300");
        assert_eq!(v("order_status"), "5");
        assert_eq!(v("refund_status"), "5");
        assert_eq!(v("page"), "2");
        assert_eq!(v("page_size"), "100");
        assert_eq!(v("sign"), recomputed(&r));
        // python3 -c 'import hashlib; p={"type":"pdd.order.number.list.increment.get","client_id":"4b6e2b0a8c3f4e1d9a7b","access_token":"tok-pdd-1","timestamp":"1764554400","data_type":"JSON","start_updated_at":"1764550500","end_updated_at":"1764552300","order_status":"5","refund_status":"5","page":"2","page_size":"100"}; S="".join(k+p[k] for k in sorted(p)); print(hashlib.md5(("pddsecret"+S+"pddsecret").encode()).hexdigest().upper())'
        assert_eq!(v("sign"), "7558DCED327B4DF5F60D275A7DB6710D");
    }

    #[test]
    fn refunds_request() {
        let r = Pdd.refunds_request(&creds(), &window(), 1, now());
        let v = |k| r.body.form_value(k).unwrap();
        assert_eq!(v("type"), "pdd.refund.list.increment.get");
        assert_eq!(v("start_updated_at"), "1764550500");
        assert_eq!(v("end_updated_at"), "1764552300");
        assert_eq!(v("after_sales_status"), "10");
        assert_eq!(v("after_sales_type"), "1");
        assert_eq!(v("page"), "1");
        assert_eq!(v("page_size"), "100");
        assert_eq!(r.body.form_value("order_status"), None);
        assert_eq!(v("sign"), recomputed(&r));
        // python3 -c 'import hashlib; p={"type":"pdd.refund.list.increment.get","client_id":"4b6e2b0a8c3f4e1d9a7b","access_token":"tok-pdd-1","timestamp":"1764554400","data_type":"JSON","start_updated_at":"1764550500","end_updated_at":"1764552300","after_sales_status":"10","after_sales_type":"1","page":"1","page_size":"100"}; S="".join(k+p[k] for k in sorted(p)); print(hashlib.md5(("pddsecret"+S+"pddsecret").encode()).hexdigest().upper())'
        assert_eq!(v("sign"), "D13ABA6F69E5EABB68C98668D422E7C4");
    }

    const ORDERS: &str = r#"{"order_sn_increment_get_response": {"total_count": 3, "has_next": false, "order_sn_list": [
        {"order_sn": "251201-123456789012345", "order_status": 1, "refund_status": 1,
         "confirm_time": "2025-12-01 09:00:30", "updated_at": "2025-12-01 09:10:00",
         "pay_amount": 30, "postage": 2.00,
         "item_list": [
            {"sku_id": 1122334455, "outer_id": "APPLE-5J", "goods_count": 2, "goods_price": 6.15},
            {"sku_id": 1122334456, "outer_id": "HONEY-1", "goods_count": 3, "goods_price": 3.33},
            {"sku_id": 1122334457, "outer_id": "", "outer_goods_id": "RICE", "goods_count": 1, "goods_price": 10}
         ]},
        {"order_sn": "251201-000000000000002", "order_status": 3, "refund_status": 1,
         "confirm_time": 1764550830, "updated_at": 1764551400,
         "pay_amount": 12.3, "postage": 0,
         "item_list": [{"outer_id": "APPLE-5J", "goods_count": 2, "goods_price": 6.15}]},
        {"order_sn": "251201-000000000000003", "order_status": 2, "refund_status": 1,
         "confirm_time": "2025-12-01 09:00:30", "updated_at": "1764551400",
         "pay_amount": 13.00, "postage": 0.5,
         "item_list": [{"outer_id": "EGG", "goods_count": 1, "goods_price": 12.3}]}
    ]}}"#;

    #[test]
    fn parses_orders_with_discounts_spread_exactly() {
        let page = Pdd.parse_orders(ORDERS.as_bytes()).unwrap();
        assert_eq!(page.total, 3);
        let o = &page.items[0];
        assert_eq!(o.id, "251201-123456789012345");
        assert_eq!(o.state, OrderState::Paid);
        assert_eq!(o.status, "1");
        assert_eq!(o.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 10, 0).unwrap());
        assert_eq!(o.paid_at, Some(Utc.with_ymd_and_hms(2025, 12, 1, 1, 0, 30).unwrap()));
        // Starts 12.30 + 9.99 + 10.00 = 32.29; goods paid 30.00 − 2.00 = 28.00; discount 4.29
        // split 1230:999:1000 → 1.63 / 1.33 / 1.33.
        // python3 -c 'D,w=429,[1230,999,1000]; W=sum(w); f=[D*x//W for x in w]; r=sorted(range(3),key=lambda i:(-(D*w[i]%W),-w[i],i)); s=f[:]; [s.__setitem__(i,s[i]+1) for i in r[:D-sum(f)]]; print([x-y for x,y in zip(w,s)])'
        let amounts: Vec<i64> = o.lines.iter().map(|l| l.amount.cents()).collect();
        assert_eq!(amounts, vec![1067, 866, 867]);
        assert_eq!(amounts.iter().sum::<i64>(), 2800);
        assert_eq!(o.lines[0].line_id, "1122334455");
        assert_eq!(o.lines[0].sku.as_deref(), Some("APPLE-5J"));
        assert_eq!(o.lines[1].quantity, 3);
        assert_eq!(o.lines[2].sku.as_deref(), Some("RICE"));

        let o = &page.items[1];
        assert_eq!(o.state, OrderState::Completed);
        assert_eq!(o.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 10, 0).unwrap());
        assert_eq!(o.paid_at, Some(Utc.with_ymd_and_hms(2025, 12, 1, 1, 0, 30).unwrap()));
        assert_eq!(o.lines[0].line_id, "1");
        assert_eq!(o.lines[0].amount, Money::from_cents(1230));

        // A surcharge (paid 12.50 for goods priced 12.30) is spread the same way.
        let o = &page.items[2];
        assert_eq!(o.state, OrderState::Shipped);
        assert_eq!(o.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 10, 0).unwrap());
        assert_eq!(o.lines[0].amount, Money::from_cents(1250));
    }

    #[test]
    fn line_gross_spreads_the_difference() {
        let m = |c: &[i64]| c.iter().map(|c| Money::from_cents(*c)).collect::<Vec<_>>();
        // A discount that divides evenly.
        assert_eq!(line_gross(&m(&[1000, 3000]), &[1, 1], Money::from_cents(3600)).unwrap(), m(&[900, 2700]));
        // One cent over three equal lines: the first gets it (ties to the earlier item).
        assert_eq!(line_gross(&m(&[100, 100, 100]), &[1, 1, 1], Money::from_cents(299)).unwrap(), m(&[99, 100, 100]));
        // Everything discounted away.
        assert_eq!(line_gross(&m(&[100, 200]), &[1, 1], Money::ZERO).unwrap(), m(&[0, 0]));
        // Free goods with a charge: split by pieces.
        assert_eq!(line_gross(&m(&[0, 0]), &[1, 3], Money::from_cents(100)).unwrap(), m(&[25, 75]));
        assert_eq!(line_gross(&m(&[0]), &[1], Money::ZERO).unwrap(), m(&[0]));
    }

    #[test]
    fn money_with_more_than_two_decimals_is_malformed() {
        let body = br#"{"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [
            {"order_sn": "1", "order_status": 1, "updated_at": 1764551400, "pay_amount": 12.305, "postage": 0,
             "item_list": [{"outer_id": "A", "goods_count": 1, "goods_price": 12.3}]}]}}"#;
        assert_eq!(
            Pdd.parse_orders(body),
            Err(PlatformError::Malformed("order_sn_list[0].pay_amount: more than 2 decimals of yuan".into()))
        );
        // 0.1 + 0.2 style values are exact text, never floats.
        let body = br#"{"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [
            {"order_sn": 2512010000000001, "order_status": 1, "updated_at": 1764551400, "pay_amount": 0.3, "postage": 0,
             "item_list": [{"outer_id": "A", "goods_count": 1, "goods_price": 0.1},
                           {"outer_id": "B", "goods_count": 1, "goods_price": 0.2}]}]}}"#;
        let page = Pdd.parse_orders(body).unwrap();
        assert_eq!(page.items[0].id, "2512010000000001");
        assert_eq!(page.items[0].lines.iter().map(|l| l.amount.cents()).collect::<Vec<_>>(), vec![10, 20]);
    }

    #[test]
    fn unknown_status_is_skipped_and_postage_over_pay_is_malformed() {
        let body = br#"{"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [
            {"order_sn": "1", "order_status": 4, "updated_at": 1764551400, "pay_amount": 1, "postage": 0,
             "item_list": [{"outer_id": "A", "goods_count": 1, "goods_price": 1}]}]}}"#;
        let page = Pdd.parse_orders(body).unwrap();
        assert_eq!(page.items[0].state, OrderState::Unrecognized);
        assert_eq!(page.items[0].state.action(), crate::Action::Skip);
        let body = br#"{"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [
            {"order_sn": "1", "order_status": 1, "updated_at": 1764551400, "pay_amount": 1, "postage": 2,
             "item_list": [{"outer_id": "A", "goods_count": 1, "goods_price": 1}]}]}}"#;
        assert_eq!(
            Pdd.parse_orders(body),
            Err(PlatformError::Malformed("order_sn_list[0]: postage exceeds pay_amount".into()))
        );
        let body = br#"{"order_sn_increment_get_response": {"total_count": 1, "order_sn_list": [
            {"order_sn": "1", "order_status": 1, "updated_at": 1764551400, "pay_amount": 1, "postage": 0, "item_list": []}]}}"#;
        assert_eq!(
            Pdd.parse_orders(body),
            Err(PlatformError::Malformed("order_sn_list[0]: a paid order without lines".into()))
        );
    }

    #[test]
    fn parses_refunds() {
        let body = r#"{"refund_increment_get_response": {"total_count": 2, "refund_list": [
            {"id": 9876543210, "order_sn": "251201-123456789012345", "sku_id": 1122334455, "refund_amount": "5.00",
             "after_sales_status": 10, "after_sales_type": 3, "goods_number": 1, "updated_time": "2025-12-01 09:15:00"},
            {"id": "9876543211", "order_sn": "251201-000000000000002", "refund_amount": "12.3",
             "after_sales_status": 10, "after_sales_type": 2, "goods_number": 2, "updated_time": 1764551700}
        ]}}"#;
        let page = Pdd.parse_refunds(body.as_bytes()).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(
            page.items[0],
            PlatformRefund {
                refund_id: "9876543210".into(),
                order_id: "251201-123456789012345".into(),
                line_ids: vec!["1122334455".into()],
                amount: Money::from_cents(500),
                quantity_returned: Some(1),
                succeeded: true,
                modified: Utc.with_ymd_and_hms(2025, 12, 1, 1, 15, 0).unwrap(),
            }
        );
        let r = &page.items[1];
        assert_eq!((r.amount, r.quantity_returned, r.line_ids.is_empty()), (Money::from_cents(1230), None, true));
        assert_eq!(r.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 15, 0).unwrap());
        // Refund amounts are strings: a number is refused.
        let body = br#"{"refund_increment_get_response": {"total_count": 1, "refund_list": [
            {"id": 1, "order_sn": "2", "refund_amount": 500, "after_sales_status": 10, "after_sales_type": 2,
             "updated_time": 1764551700}]}}"#;
        assert_eq!(
            Pdd.parse_refunds(body),
            Err(PlatformError::Malformed("refund_list[0].refund_amount: a number where yuan text is expected".into()))
        );
    }

    #[test]
    fn errors_and_throttling() {
        let body =
            r#"{"error_response": {"error_code": 70031, "error_msg": "调用过于频繁，请调整调用频率"}}"#.as_bytes();
        assert_eq!(Pdd.parse_orders(body), Err(PlatformError::Throttled { wait: None }));
        assert_eq!(Pdd.parse_refunds(body), Err(PlatformError::Throttled { wait: None }));
        let body = r#"{"error_response": {"error_code": 10019, "error_msg": "access_token已过期", "sub_code": "10019", "sub_msg": "expired", "request_id": "x"}}"#.as_bytes();
        assert_eq!(
            Pdd.parse_orders(body),
            Err(PlatformError::Api { code: "10019/10019".into(), message: "access_token已过期: expired".into() })
        );
        assert_eq!(Pdd.parse_refunds(b""), Err(PlatformError::Malformed("not JSON (line 1 column 0)".into())));
        assert_eq!(
            Pdd.parse_orders(br#"{"order_sn_increment_get_response": {"order_sn_list": []}}"#),
            Err(PlatformError::Malformed("order_sn_increment_get_response.total_count: missing".into()))
        );
    }
}
