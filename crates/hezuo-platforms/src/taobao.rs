//! Taobao open platform (TOP), PLATFORMS.md §2.
//!
//! Calls are `POST {base_url}/router/rest` with form parameters; times are Beijing-time text;
//! money is yuan as strings.
//!
//! States: `WAIT_SELLER_SEND_GOODS` is paid; `SELLER_CONSIGNED_PART`, `WAIT_BUYER_CONFIRM_GOODS`
//! and `TRADE_BUYER_SIGNED` shipped; `TRADE_FINISHED` completed. `TRADE_NO_CREATE_PAY`,
//! `WAIT_BUYER_PAY` and `PAY_PENDING` are unpaid. Whether a closed trade was paid is decided by
//! its status alone, as Taobao defines the two: `TRADE_CLOSED` is a trade closed *after*
//! payment (every line refunded: a full cancel), `TRADE_CLOSED_BY_TAOBAO` one closed *before*
//! payment (skipped). `pay_time` is not needed for the decision and only fills `paid_at`.

use crate::crypto;
use crate::json::{self, Form, Obj, Unit, path};
use crate::model::{
    Body, Credentials, Method, OrderState, Page, PlatformError, PlatformLine, PlatformOrder, PlatformRefund, Request,
    api_error,
};
use crate::plan::Window;
use crate::time::format_beijing;
use crate::{PAGE_SIZE, Platform};
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// The path of every call.
pub const PATH: &str = "/router/rest";
/// The API that lists trades by modified time.
pub const ORDERS_METHOD: &str = "taobao.trades.sold.increment.get";
/// The API that lists refunds by modified time.
pub const REFUNDS_METHOD: &str = "taobao.refunds.receive.get";
/// The trade fields asked for.
pub const ORDER_FIELDS: &str = "tid,status,created,modified,pay_time,payment,orders";
/// The refund fields asked for (`taobao.refunds.receive.get` requires a `fields` parameter too).
pub const REFUND_FIELDS: &str = "refund_id,tid,oid,refund_fee,status,modified,has_good_return,num";

/// How a Taobao call is signed (`sign_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignMethod {
    /// `md5`: upper hex MD5(secret + S + secret).
    #[default]
    Md5,
    /// `hmac`: upper hex HMAC-MD5(key = secret, S).
    HmacMd5,
    /// `hmac-sha256`: upper hex HMAC-SHA256(key = secret, S).
    HmacSha256,
}

impl SignMethod {
    /// The `sign_method` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::Md5 => "md5",
            SignMethod::HmacMd5 => "hmac",
            SignMethod::HmacSha256 => "hmac-sha256",
        }
    }
}

/// The string every TOP and Pinduoduo sign covers: the parameters other than `sign`, sorted by
/// name in byte order, as `name1value1name2value2…`.
pub(crate) fn sorted_concat<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut pairs: Vec<(&str, &str)> =
        params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(k, _)| *k != "sign").collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()
}

/// The TOP `sign` of `params` (any `sign` among them is ignored), over their UTF-8 bytes.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], secret: &str, method: SignMethod) -> String {
    let s = sorted_concat(params);
    let digest = match method {
        SignMethod::Md5 => crypto::md5(format!("{secret}{s}{secret}").as_bytes()),
        SignMethod::HmacMd5 => crypto::hmac_md5(secret.as_bytes(), s.as_bytes()),
        SignMethod::HmacSha256 => {
            use hmac::Mac;
            let mut mac = crypto::hmac_sha256(secret.as_bytes());
            mac.update(s.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    crypto::upper_hex(&digest)
}

/// The Taobao platform, signing with the chosen method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taobao {
    sign_method: SignMethod,
}

impl Taobao {
    /// Taobao signing with `sign_method`.
    pub const fn new(sign_method: SignMethod) -> Taobao {
        Taobao { sign_method }
    }

    /// The sign method in use.
    pub fn sign_method(&self) -> SignMethod {
        self.sign_method
    }

    fn call(
        &self,
        credentials: &Credentials,
        api: &str,
        api_params: Vec<(&str, String)>,
        now: DateTime<Utc>,
    ) -> Request {
        let mut params: Vec<(String, String)> =
            vec![("method".into(), api.into()), ("app_key".into(), credentials.app_key.clone())];
        if let Some(token) = &credentials.access_token {
            params.push(("session".into(), token.clone()));
        }
        params.extend([
            ("timestamp".into(), format_beijing(now)),
            ("v".into(), "2.0".into()),
            ("format".into(), "json".into()),
            ("sign_method".into(), self.sign_method.as_str().into()),
        ]);
        params.extend(api_params.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let sign = sign(&params, &credentials.app_secret, self.sign_method);
        params.push(("sign".into(), sign));
        Request { method: Method::Post, path: PATH.into(), query: Vec::new(), body: Body::Form(params) }
    }

    fn list_call(
        &self,
        credentials: &Credentials,
        api: &str,
        fields: &str,
        window: &Window,
        page: u32,
        now: DateTime<Utc>,
    ) -> Request {
        let params = vec![
            ("fields", fields.to_owned()),
            ("start_modified", format_beijing(window.read_from())),
            ("end_modified", format_beijing(window.to)),
            ("page_no", page.to_string()),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        self.call(credentials, api, params, now)
    }
}

impl Platform for Taobao {
    fn name(&self) -> &'static str {
        "taobao"
    }

    /// Taobao allows a day; the product uses 30 minutes.
    fn max_window(&self) -> TimeDelta {
        TimeDelta::minutes(30)
    }

    fn first_page(&self) -> u32 {
        1
    }

    fn orders_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        self.list_call(credentials, ORDERS_METHOD, ORDER_FIELDS, window, page, now)
    }

    fn refunds_request(&self, credentials: &Credentials, window: &Window, page: u32, now: DateTime<Utc>) -> Request {
        self.list_call(credentials, REFUNDS_METHOD, REFUND_FIELDS, window, page, now)
    }

    fn parse_orders(&self, body: &[u8]) -> Result<Page<PlatformOrder>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_error(&root)?;
        const AT: &str = "trades_sold_increment_get_response";
        let answer = root.obj(AT, AT)?;
        let total = answer.uint("total_results")?;
        let at = path(AT, "trades");
        let trades = match answer.opt("trades") {
            None => &[][..],
            Some(v) => Obj::new(v, &at)?.list("trade")?,
        };
        let mut items = Vec::with_capacity(trades.len());
        for (i, trade) in trades.iter().enumerate() {
            let at = format!("trade[{i}]");
            items.push(parse_trade(Obj::new(trade, &at)?)?);
        }
        Ok(Page { items, total })
    }

    fn parse_refunds(&self, body: &[u8]) -> Result<Page<PlatformRefund>, PlatformError> {
        let value = json::parse(body)?;
        let root = json::root(&value)?;
        check_error(&root)?;
        const AT: &str = "refunds_receive_get_response";
        let answer = root.obj(AT, AT)?;
        let total = answer.uint("total_results")?;
        let at = path(AT, "refunds");
        let refunds = match answer.opt("refunds") {
            None => &[][..],
            Some(v) => Obj::new(v, &at)?.list("refund")?,
        };
        let mut items = Vec::with_capacity(refunds.len());
        for (i, refund) in refunds.iter().enumerate() {
            let at = format!("refund[{i}]");
            items.push(parse_refund(Obj::new(refund, &at)?)?);
        }
        Ok(Page { items, total })
    }
}

/// The normalized state of a trade `status` (see the module documentation).
pub fn state(status: &str) -> OrderState {
    match status {
        "WAIT_SELLER_SEND_GOODS" => OrderState::Paid,
        "SELLER_CONSIGNED_PART" | "WAIT_BUYER_CONFIRM_GOODS" | "TRADE_BUYER_SIGNED" => OrderState::Shipped,
        "TRADE_FINISHED" => OrderState::Completed,
        "TRADE_NO_CREATE_PAY" | "WAIT_BUYER_PAY" | "PAY_PENDING" => OrderState::Unpaid,
        "TRADE_CLOSED_BY_TAOBAO" => OrderState::ClosedBeforePayment,
        "TRADE_CLOSED" => OrderState::ClosedAfterPayment,
        _ => OrderState::Unrecognized,
    }
}

fn parse_trade(trade: Obj<'_>) -> Result<PlatformOrder, PlatformError> {
    let status = trade.str("status")?;
    let at = path(trade.at(), "orders");
    let sub_orders = match trade.opt("orders") {
        None => &[][..],
        Some(v) => Obj::new(v, &at)?.list("order")?,
    };
    let mut lines = Vec::with_capacity(sub_orders.len());
    for (j, sub) in sub_orders.iter().enumerate() {
        let at = format!("{}.order[{j}]", trade.at());
        let sub = Obj::new(sub, &at)?;
        lines.push(PlatformLine {
            line_id: sub.id("oid")?,
            // The SKU's merchant code; an item without SKUs carries it on the item (`outer_iid`).
            sku: sub.opt_str("outer_sku_id")?.or(sub.opt_str("outer_iid")?).map(str::to_owned),
            quantity: sub.count("num")?,
            amount: sub.money("payment", Unit::Yuan, Form::NumberOrString)?,
        });
    }
    let order = PlatformOrder {
        id: trade.id("tid")?,
        state: state(status),
        status: status.to_owned(),
        modified: trade.beijing_time("modified")?,
        paid_at: trade.opt_beijing_time("pay_time")?,
        lines,
    };
    crate::check_lines(&order, trade.at())?;
    Ok(order)
}

fn parse_refund(refund: Obj<'_>) -> Result<PlatformRefund, PlatformError> {
    let returned = refund.has("has_good_return") && refund.boolean("has_good_return")?;
    let line_ids = match refund.opt("oid") {
        Some(_) => vec![refund.id("oid")?],
        None => Vec::new(),
    };
    Ok(PlatformRefund {
        refund_id: refund.id("refund_id")?,
        order_id: refund.id("tid")?,
        line_ids,
        amount: refund.money("refund_fee", Unit::Yuan, Form::NumberOrString)?,
        quantity_returned: if returned { Some(refund.count("num")?) } else { None },
        succeeded: refund.str("status")? == "SUCCESS",
        modified: refund.beijing_time("modified")?,
    })
}

/// Reads the seconds out of "This ban will last for N more seconds".
pub fn ban_seconds(text: &str) -> Option<u64> {
    let rest = text.split("This ban will last for ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// An `error_response` answer as an error: throttling (`code` 7, a sub-code
/// `accesscontrol.limited-by-…`, or a ban message) or the platform's code and message.
fn check_error(root: &Obj<'_>) -> Result<(), PlatformError> {
    let Some(value) = root.opt("error_response") else { return Ok(()) };
    let error = Obj::new(value, "error_response")?;
    let code = error.opt_text("code").unwrap_or_default();
    let sub_code = error.opt_text("sub_code");
    let msg = error.opt_text("msg").unwrap_or_default();
    let sub_msg = error.opt_text("sub_msg");
    let wait = sub_msg.as_deref().and_then(ban_seconds).or_else(|| ban_seconds(&msg)).map(Duration::from_secs);
    let limited = sub_code.as_deref().is_some_and(|c| c.starts_with("accesscontrol.limited-by"));
    if code == "7" || limited || wait.is_some() {
        return Err(PlatformError::Throttled { wait });
    }
    let code = match sub_code {
        Some(sub) => format!("{code}/{sub}"),
        None => code,
    };
    let message = match sub_msg {
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

    fn doc_params(sign_method: &str) -> Vec<(&'static str, String)> {
        vec![
            ("method", "taobao.item.seller.get".into()),
            ("app_key", "12345678".into()),
            ("session", "test".into()),
            ("timestamp", "2016-01-01 12:00:00".into()),
            ("format", "json".into()),
            ("v", "2.0".into()),
            ("sign_method", sign_method.into()),
            ("fields", "num_iid,title,nick,price,num".into()),
            ("num_iid", "11223344".into()),
        ]
    }

    #[test]
    fn sorted_concat_is_byte_ordered_and_skips_sign() {
        let p = [("b", "2"), ("a_b", "3"), ("A", "1"), ("sign", "x"), ("a", "0")];
        assert_eq!(sorted_concat(&p), "A1a0a_b3b2");
    }

    #[test]
    fn md5_sign_matches_the_taobao_guide() {
        // The TOP signing guide's example (secret "helloworld").
        // python3 -c 'import hashlib; p={"method":"taobao.item.seller.get","app_key":"12345678","session":"test","timestamp":"2016-01-01 12:00:00","format":"json","v":"2.0","sign_method":"md5","fields":"num_iid,title,nick,price,num","num_iid":"11223344"}; S="".join(k+p[k] for k in sorted(p)); print(hashlib.md5(("helloworld"+S+"helloworld").encode()).hexdigest().upper())'
        assert_eq!(sign(&doc_params("md5"), "helloworld", SignMethod::Md5), "66987CB115214E59E6EC978214934FB8");
    }

    #[test]
    fn hmac_md5_sign() {
        // python3 -c 'import hashlib,hmac; p={"method":"taobao.item.seller.get","app_key":"12345678","session":"test","timestamp":"2016-01-01 12:00:00","format":"json","v":"2.0","sign_method":"hmac","fields":"num_iid,title,nick,price,num","num_iid":"11223344"}; S="".join(k+p[k] for k in sorted(p)); print(hmac.new(b"helloworld",S.encode(),hashlib.md5).hexdigest().upper())'
        assert_eq!(sign(&doc_params("hmac"), "helloworld", SignMethod::HmacMd5), "D56D7858309C31B6251083A874D48273");
    }

    #[test]
    fn hmac_sha256_sign() {
        // python3 -c 'import hashlib,hmac; p={"method":"taobao.item.seller.get","app_key":"12345678","session":"test","timestamp":"2016-01-01 12:00:00","format":"json","v":"2.0","sign_method":"hmac-sha256","fields":"num_iid,title,nick,price,num","num_iid":"11223344"}; S="".join(k+p[k] for k in sorted(p)); print(hmac.new(b"helloworld",S.encode(),hashlib.sha256).hexdigest().upper())'
        assert_eq!(
            sign(&doc_params("hmac-sha256"), "helloworld", SignMethod::HmacSha256),
            "04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8"
        );
    }

    #[test]
    fn sign_covers_chinese_values_as_utf8() {
        let p =
            [("q", "新鲜苹果 5斤装"), ("method", "taobao.items.search"), ("app_key", "23456789"), ("sign", "ignored")];
        // python3 -c 'import hashlib; S="app_key23456789methodtaobao.items.searchq新鲜苹果 5斤装"; print(hashlib.md5(("密钥abc"+S+"密钥abc").encode()).hexdigest().upper())'
        assert_eq!(sign(&p, "密钥abc", SignMethod::Md5), "2BDC05D6284350F253386FA7A040845C");
        // python3 -c 'import hashlib,hmac; S="app_key23456789methodtaobao.items.searchq新鲜苹果 5斤装"; print(hmac.new("密钥abc".encode(),S.encode(),hashlib.md5).hexdigest().upper())'
        assert_eq!(sign(&p, "密钥abc", SignMethod::HmacMd5), "5F92695A67D434E497DD155E0B927476");
        // python3 -c 'import hashlib,hmac; S="app_key23456789methodtaobao.items.searchq新鲜苹果 5斤装"; print(hmac.new("密钥abc".encode(),S.encode(),hashlib.sha256).hexdigest().upper())'
        assert_eq!(
            sign(&p, "密钥abc", SignMethod::HmacSha256),
            "F806A1845E8296D5E6CCEABACFAD92C5A685820F01A6DF779A5CAEB8514A5B83"
        );
    }

    fn creds() -> Credentials {
        Credentials::new("12345678", "helloworld", Some("6100e23b9d2f".into()))
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

    fn form(r: &Request) -> &[(String, String)] {
        match &r.body {
            Body::Form(p) => p,
            other => panic!("not a form: {other:?}"),
        }
    }

    #[test]
    fn orders_request_has_every_parameter_and_a_valid_sign() {
        let r = Taobao::default().orders_request(&creds(), &window(), 3, now());
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "/router/rest");
        assert!(r.query.is_empty());
        let names: Vec<&str> = form(&r).iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "method",
                "app_key",
                "session",
                "timestamp",
                "v",
                "format",
                "sign_method",
                "fields",
                "start_modified",
                "end_modified",
                "page_no",
                "page_size",
                "sign"
            ]
        );
        let v = |k| r.body.form_value(k).unwrap();
        assert_eq!(v("method"), "taobao.trades.sold.increment.get");
        assert_eq!(v("app_key"), "12345678");
        assert_eq!(v("session"), "6100e23b9d2f");
        assert_eq!(v("timestamp"), "2025-12-01 10:00:00");
        assert_eq!(v("v"), "2.0");
        assert_eq!(v("format"), "json");
        assert_eq!(v("sign_method"), "md5");
        assert_eq!(v("fields"), "tid,status,created,modified,pay_time,payment,orders");
        // Read from five minutes before the window; Beijing time.
        assert_eq!(v("start_modified"), "2025-12-01 08:55:00");
        assert_eq!(v("end_modified"), "2025-12-01 09:25:00");
        assert_eq!(v("page_no"), "3");
        assert_eq!(v("page_size"), "100");
        assert_eq!(v("sign"), sign(form(&r), "helloworld", SignMethod::Md5));
        // python3 -c 'import hashlib; p={"method":"taobao.trades.sold.increment.get","app_key":"12345678","session":"6100e23b9d2f","timestamp":"2025-12-01 10:00:00","v":"2.0","format":"json","sign_method":"md5","fields":"tid,status,created,modified,pay_time,payment,orders","start_modified":"2025-12-01 08:55:00","end_modified":"2025-12-01 09:25:00","page_no":"3","page_size":"100"}; S="".join(k+p[k] for k in sorted(p)); print(hashlib.md5(("helloworld"+S+"helloworld").encode()).hexdigest().upper())'
        assert_eq!(v("sign"), "C9D31512F7C90AA2323E521832EF97D6");
        assert!(!String::from_utf8(r.body.to_bytes()).unwrap().contains("helloworld"));
    }

    #[test]
    fn refunds_request_with_hmac_sha256_and_no_token() {
        let c = Credentials::new("12345678", "helloworld", None);
        let r = Taobao::new(SignMethod::HmacSha256).refunds_request(&c, &window(), 1, now());
        let v = |k| r.body.form_value(k);
        assert_eq!(v("method"), Some("taobao.refunds.receive.get"));
        assert_eq!(v("session"), None);
        assert_eq!(v("sign_method"), Some("hmac-sha256"));
        assert_eq!(v("fields"), Some(REFUND_FIELDS));
        assert_eq!(v("start_modified"), Some("2025-12-01 08:55:00"));
        assert_eq!(v("end_modified"), Some("2025-12-01 09:25:00"));
        assert_eq!(v("page_no"), Some("1"));
        assert_eq!(v("page_size"), Some("100"));
        // python3 -c 'import hashlib,hmac; p={"method":"taobao.refunds.receive.get","app_key":"12345678","timestamp":"2025-12-01 10:00:00","v":"2.0","format":"json","sign_method":"hmac-sha256","fields":"refund_id,tid,oid,refund_fee,status,modified,has_good_return,num","start_modified":"2025-12-01 08:55:00","end_modified":"2025-12-01 09:25:00","page_no":"1","page_size":"100"}; S="".join(k+p[k] for k in sorted(p)); print(hmac.new(b"helloworld",S.encode(),hashlib.sha256).hexdigest().upper())'
        assert_eq!(v("sign"), Some("F0898E594D5B6955F01C87200F94E60C4C75636DC864CC664A6F5B2078CAEC86"));
    }

    const ORDERS: &str = r#"{"trades_sold_increment_get_response": {"total_results": 250, "trades": {"trade": [
        {"tid": 2890412345678901234, "status": "WAIT_SELLER_SEND_GOODS", "created": "2025-12-01 09:00:01",
         "modified": "2025-12-01 09:10:00", "pay_time": "2025-12-01 09:00:30", "payment": "212.37",
         "orders": {"order": [
            {"oid": 2890412345678901235, "outer_sku_id": "APPLE-5J", "num": 2, "payment": "200.07", "refund_status": "NO_REFUND"},
            {"oid": "2890412345678901236", "outer_sku_id": "", "outer_iid": "HONEY-1", "num": 1, "payment": "12.3", "refund_status": "NO_REFUND"}
         ]}},
        {"tid": "2890400000000000001", "status": "WAIT_BUYER_PAY", "created": "2025-12-01 09:05:00",
         "modified": "2025-12-01 09:05:00", "payment": "9.90",
         "orders": {"order": [{"oid": "2890400000000000002", "outer_sku_id": "EGG-30", "num": 1, "payment": "9.90"}]}},
        {"tid": "2890400000000000003", "status": "TRADE_CLOSED", "created": "2025-11-30 20:00:00",
         "modified": "2025-12-01 09:20:59", "pay_time": "2025-11-30 20:01:00", "payment": "30.00",
         "orders": {"order": [{"oid": "2890400000000000004", "outer_sku_id": "RICE-10", "num": 3, "payment": "30.00"}]}},
        {"tid": "2890400000000000005", "status": "TRADE_CLOSED_BY_TAOBAO", "created": "2025-11-30 20:00:00",
         "modified": "2025-12-01 09:21:00", "pay_time": "", "payment": "5.00",
         "orders": {"order": [{"oid": "2890400000000000006", "num": 1, "payment": "5.00"}]}},
        {"tid": "2890400000000000007", "status": "TRADE_FINISHED", "created": "2025-11-20 08:00:00",
         "modified": "2025-12-01 09:22:00", "pay_time": "2025-11-20 08:00:10", "payment": "0.01",
         "orders": {"order": [{"oid": "2890400000000000008", "outer_sku_id": "PEN", "num": 1, "payment": "0.01"}]}}
    ]}}}"#;

    fn bj(text: &str) -> DateTime<Utc> {
        crate::time::parse_beijing(text).unwrap()
    }

    #[test]
    fn parses_trades_with_exact_money_and_states() {
        let page = Taobao::default().parse_orders(ORDERS.as_bytes()).unwrap();
        assert_eq!(page.total, 250);
        assert_eq!(page.page_count(100), 3);
        assert_eq!(page.items.len(), 5);
        let paid = &page.items[0];
        assert_eq!(paid.id, "2890412345678901234");
        assert_eq!(paid.state, OrderState::Paid);
        assert_eq!(paid.status, "WAIT_SELLER_SEND_GOODS");
        assert_eq!(paid.modified, bj("2025-12-01 09:10:00"));
        assert_eq!(paid.modified, Utc.with_ymd_and_hms(2025, 12, 1, 1, 10, 0).unwrap());
        assert_eq!(paid.paid_at, Some(bj("2025-12-01 09:00:30")));
        assert_eq!(
            paid.lines,
            vec![
                PlatformLine {
                    line_id: "2890412345678901235".into(),
                    sku: Some("APPLE-5J".into()),
                    quantity: 2,
                    amount: Money::from_cents(20007)
                },
                PlatformLine {
                    line_id: "2890412345678901236".into(),
                    sku: Some("HONEY-1".into()),
                    quantity: 1,
                    amount: Money::from_cents(1230)
                },
            ]
        );
        let unpaid = &page.items[1];
        assert_eq!(unpaid.state, OrderState::Unpaid);
        assert_eq!(unpaid.paid_at, None);
        assert_eq!(unpaid.state.action(), crate::Action::Skip);
        let closed_after = &page.items[2];
        assert_eq!(closed_after.state, OrderState::ClosedAfterPayment);
        assert_eq!(closed_after.state.action(), crate::Action::Cancel);
        assert_eq!(closed_after.lines[0].amount, Money::from_cents(3000));
        let closed_before = &page.items[3];
        assert_eq!(closed_before.state, OrderState::ClosedBeforePayment);
        assert_eq!(closed_before.paid_at, None);
        assert_eq!(closed_before.lines[0].sku, None);
        assert_eq!(page.items[4].state, OrderState::Completed);
        assert_eq!(page.items[4].lines[0].amount, Money::from_cents(1));
    }

    #[test]
    fn an_empty_window_has_no_trades_key() {
        let page =
            Taobao::default().parse_orders(br#"{"trades_sold_increment_get_response": {"total_results": 0}}"#).unwrap();
        assert_eq!(page, Page { items: vec![], total: 0 });
    }

    #[test]
    fn every_status_maps() {
        for (s, want) in [
            ("WAIT_SELLER_SEND_GOODS", OrderState::Paid),
            ("SELLER_CONSIGNED_PART", OrderState::Shipped),
            ("WAIT_BUYER_CONFIRM_GOODS", OrderState::Shipped),
            ("TRADE_BUYER_SIGNED", OrderState::Shipped),
            ("TRADE_FINISHED", OrderState::Completed),
            ("TRADE_NO_CREATE_PAY", OrderState::Unpaid),
            ("WAIT_BUYER_PAY", OrderState::Unpaid),
            ("PAY_PENDING", OrderState::Unpaid),
            ("TRADE_CLOSED_BY_TAOBAO", OrderState::ClosedBeforePayment),
            ("TRADE_CLOSED", OrderState::ClosedAfterPayment),
            ("PAID_FORBID_CONSIGN", OrderState::Unrecognized),
        ] {
            assert_eq!(state(s), want, "{s}");
        }
    }

    #[test]
    fn parses_refunds() {
        let body = r#"{"refunds_receive_get_response": {"total_results": 2, "refunds": {"refund": [
            {"refund_id": 1650000000001, "tid": 2890412345678901234, "oid": 2890412345678901235, "refund_fee": "5.00",
             "status": "SUCCESS", "modified": "2025-12-01 09:15:00", "has_good_return": true, "num": 1},
            {"refund_id": "1650000000002", "tid": "2890400000000000001", "oid": "2890400000000000002", "refund_fee": "9.9",
             "status": "WAIT_SELLER_AGREE", "modified": "2025-12-01 09:16:00", "has_good_return": false, "num": 1}
        ]}}}"#;
        let page = Taobao::default().parse_refunds(body.as_bytes()).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(
            page.items[0],
            PlatformRefund {
                refund_id: "1650000000001".into(),
                order_id: "2890412345678901234".into(),
                line_ids: vec!["2890412345678901235".into()],
                amount: Money::from_cents(500),
                quantity_returned: Some(1),
                succeeded: true,
                modified: bj("2025-12-01 09:15:00"),
            }
        );
        assert!(!page.items[1].succeeded);
        assert_eq!(page.items[1].amount, Money::from_cents(990));
        assert_eq!(page.items[1].quantity_returned, None);
    }

    #[test]
    fn throttling_answers_carry_the_ban() {
        let body = br#"{"error_response": {"code": 7, "msg": "App Call Limited", "sub_code": "accesscontrol.limited-by-app-access-count", "sub_msg": "This ban will last for 3 more seconds"}}"#;
        let want = PlatformError::Throttled { wait: Some(Duration::from_secs(3)) };
        assert_eq!(Taobao::default().parse_orders(body), Err(want.clone()));
        assert_eq!(Taobao::default().parse_refunds(body), Err(want));
        let body = br#"{"error_response": {"code": 7, "msg": "App Call Limited"}}"#;
        assert_eq!(Taobao::default().parse_orders(body), Err(PlatformError::Throttled { wait: None }));
        let body = br#"{"error_response": {"code": "7", "msg": "App Call Limited", "sub_msg": "This ban will last for 71 more seconds"}}"#;
        assert_eq!(
            Taobao::default().parse_orders(body),
            Err(PlatformError::Throttled { wait: Some(Duration::from_secs(71)) })
        );
        assert_eq!(ban_seconds("This ban will last for 120 more seconds"), Some(120));
        assert_eq!(ban_seconds("This ban will last for many more seconds"), None);
    }

    #[test]
    fn other_errors_keep_code_and_message() {
        let body = r#"{"error_response": {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey", "sub_msg": "SessionKey非法"}}"#.as_bytes();
        assert_eq!(
            Taobao::default().parse_orders(body),
            Err(PlatformError::Api {
                code: "27/invalid-sessionkey".into(),
                message: "Invalid session: SessionKey非法".into()
            })
        );
        let body = br#"{"error_response": {"code": 25, "msg": "Invalid signature"}}"#;
        assert_eq!(
            Taobao::default().parse_refunds(body),
            Err(PlatformError::Api { code: "25".into(), message: "Invalid signature".into() })
        );
    }

    #[test]
    fn malformed_answers_say_why_briefly() {
        let t = Taobao::default();
        assert_eq!(
            t.parse_orders(b"<html>502</html>"),
            Err(PlatformError::Malformed("not JSON (line 1 column 1)".into()))
        );
        assert_eq!(
            t.parse_orders(br#"{"something_else": {}}"#),
            Err(PlatformError::Malformed("trades_sold_increment_get_response: missing".into()))
        );
        let bad_money = br#"{"trades_sold_increment_get_response": {"total_results": 1, "trades": {"trade": [
            {"tid": "1", "status": "TRADE_FINISHED", "modified": "2025-12-01 09:22:00",
             "orders": {"order": [{"oid": "2", "num": 1, "payment": "1.005"}]}}]}}}"#;
        assert_eq!(
            t.parse_orders(bad_money),
            Err(PlatformError::Malformed("trade[0].order[0].payment: more than 2 decimals of yuan".into()))
        );
        let bad_time = br#"{"trades_sold_increment_get_response": {"total_results": 1, "trades": {"trade": [
            {"tid": "1", "status": "TRADE_FINISHED", "modified": "1764550000",
             "orders": {"order": [{"oid": "2", "num": 1, "payment": "1.00"}]}}]}}}"#;
        assert_eq!(
            t.parse_orders(bad_time),
            Err(PlatformError::Malformed("trade[0].modified: not a time (yyyy-MM-dd HH:mm:ss)".into()))
        );
        let no_lines = br#"{"trades_sold_increment_get_response": {"total_results": 1, "trades": {"trade": [
            {"tid": "1", "status": "TRADE_FINISHED", "modified": "2025-12-01 09:22:00"}]}}}"#;
        assert_eq!(
            t.parse_orders(no_lines),
            Err(PlatformError::Malformed("trade[0]: a paid order without lines".into()))
        );
        let zero = br#"{"trades_sold_increment_get_response": {"total_results": 1, "trades": {"trade": [
            {"tid": "1", "status": "TRADE_FINISHED", "modified": "2025-12-01 09:22:00",
             "orders": {"order": [{"oid": "2", "num": 0, "payment": "1.00"}]}}]}}}"#;
        assert_eq!(t.parse_orders(zero), Err(PlatformError::Malformed("trade[0].order[0].num: zero pieces".into())));
        let refund =
            br#"{"refunds_receive_get_response": {"total_results": 1, "refunds": {"refund": [{"refund_id": 1}]}}}"#;
        assert_eq!(t.parse_refunds(refund), Err(PlatformError::Malformed("refund[0].tid: missing".into())));
    }
}
