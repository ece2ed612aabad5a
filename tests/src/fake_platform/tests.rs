//! Tests of the fake, over HTTP on 127.0.0.1, with requests built and answers parsed by
//! hezuo-platforms.

use super::*;
use chrono::TimeZone;
use hezuo_core::Money;
use hezuo_platforms::douyin::Douyin;
use hezuo_platforms::taobao::{SignMethod, Taobao};
use hezuo_platforms::{
    Body, Method as RequestMethod, OVERLAP, OrderState, Page, PlatformError, PlatformOrder, Request, Window,
};
use serde_json::Value;
use std::collections::BTreeSet;

fn credentials() -> Credentials {
    Credentials::new("app-key-1", "app-secret-1", Some("token-1".into()))
}

fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 1, h, m, s).unwrap()
}

fn cents(c: i64) -> Money {
    Money::from_cents(c)
}

/// The window whose requests cover exactly `[start, end]` (hezuo reads from `from − OVERLAP`).
fn read_window(start: DateTime<Utc>, end: DateTime<Utc>) -> Window {
    Window::new(start + OVERLAP, end)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Sends `request` as a thin HTTP layer would: its method, `url(base_url)`, its content type
/// and exactly its body bytes. Returns the status and the answer's bytes.
async fn send_status(fake: &FakePlatform, request: &Request) -> (u16, Vec<u8>) {
    assert_eq!(request.method, RequestMethod::Post);
    let answer = http()
        .post(request.url(&fake.base_url()))
        .header("content-type", request.body.content_type())
        .body(request.body.to_bytes())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.bytes().await.unwrap().to_vec())
}

async fn send(fake: &FakePlatform, request: &Request) -> Vec<u8> {
    let (status, body) = send_status(fake, request).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    body
}

fn orders_request(fake: &FakePlatform, credentials: &Credentials, window: &Window, page: u32) -> Request {
    fake.kind().platform().orders_request(credentials, window, page, Utc::now())
}

fn refunds_request(fake: &FakePlatform, window: &Window, page: u32) -> Request {
    fake.kind().platform().refunds_request(&fake.credentials(), window, page, Utc::now())
}

async fn orders_page(fake: &FakePlatform, window: &Window, page: u32) -> Page<PlatformOrder> {
    let body = send(fake, &orders_request(fake, &fake.credentials(), window, page)).await;
    fake.kind().platform().parse_orders(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)))
}

async fn orders_error(fake: &FakePlatform, request: &Request) -> PlatformError {
    let body = send(fake, request).await;
    fake.kind().platform().parse_orders(&body).expect_err("an error answer")
}

/// `request` with parameter `name` set to `value` (a JSON value; text on form bodies), signed
/// again with `resign` when given, otherwise left with its old signature.
fn with_param(kind: Kind, request: &Request, name: &str, value: Value, resign: Option<&Credentials>) -> Request {
    let mut request = request.clone();
    match (&mut request.body, kind) {
        (Body::Form(params), Kind::Taobao | Kind::Pdd) => {
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            match params.iter_mut().find(|(k, _)| k == name) {
                Some(pair) => pair.1 = text,
                None => params.push((name.to_owned(), text)),
            }
            if let Some(credentials) = resign {
                params.retain(|(k, _)| k != "sign");
                let sign = if kind == Kind::Taobao {
                    hezuo_platforms::taobao::sign(params, &credentials.app_secret, SignMethod::Md5)
                } else {
                    hezuo_platforms::pdd::sign(params, &credentials.app_secret)
                };
                params.push(("sign".to_owned(), sign));
            }
        }
        (Body::Raw { bytes, .. }, Kind::Douyin) => {
            let mut json: Value = serde_json::from_slice(bytes).unwrap();
            json[name] = value;
            match resign {
                Some(credentials) => {
                    let timestamp: i64 = request.query_value("timestamp").unwrap().parse().unwrap();
                    let now = DateTime::from_timestamp(timestamp, 0).unwrap();
                    return Douyin.call(credentials, &request.path, &json, now);
                }
                None => *bytes = hezuo_platforms::douyin::param_json(&json).into_bytes(),
            }
        }
        (body, kind) => panic!("{kind:?} with {body:?}"),
    }
    request
}

/// Orders of every status, two lines each.
fn varied_order(i: u32, modified: DateTime<Utc>) -> FakeOrder {
    let status = match i % 5 {
        0 => FakeStatus::Unpaid,
        1 => FakeStatus::Paid,
        2 => FakeStatus::Shipped,
        3 => FakeStatus::Completed,
        _ => FakeStatus::ClosedAfterPayment,
    };
    FakeOrder::new((2_890_400_000_000_000_000_u64 + u64::from(i)).to_string(), status, modified)
        .line(FakeLine::new(
            (7_000_000 + 2 * i).to_string(),
            format!("SKU-{}", i % 7),
            1 + i % 3,
            cents(100 + i64::from(i)),
        ))
        .line(FakeLine::new((7_000_001 + 2 * i).to_string(), "EGG-30", 2, cents(990)))
}

fn api_code(error: &PlatformError) -> &str {
    match error {
        PlatformError::Api { code, .. } => code,
        other => panic!("not an API error: {other:?}"),
    }
}

fn sign_code(kind: Kind) -> &'static str {
    match kind {
        Kind::Taobao => "25",
        Kind::Pdd => "20004",
        Kind::Douyin => "30001/isv.sign-invalid",
    }
}

#[tokio::test]
async fn signed_requests_get_orders_newest_first_with_total_and_pages() {
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        let (start, end) = (t(0, 55, 0), t(1, 25, 0));
        let mut want = BTreeSet::new();
        for i in 0..230 {
            let order = varied_order(i, start + TimeDelta::seconds(7 * i64::from(i)));
            want.insert(order.id.clone());
            fake.put_order(order);
        }
        // The window is inclusive at both ends, to the second.
        fake.put_order(varied_order(900, end));
        want.insert(varied_order(900, end).id);
        fake.put_order(varied_order(901, start - TimeDelta::seconds(1)));
        fake.put_order(varied_order(902, end + TimeDelta::seconds(1)));

        let window = read_window(start, end);
        let platform = kind.platform();
        let first = orders_page(&fake, &window, platform.first_page()).await;
        assert_eq!(first.total, 231, "{kind:?}");
        assert_eq!(first.items[0].id, varied_order(900, end).id, "{kind:?}: newest first");
        let pages: Vec<u32> = platform.pages(first.total).collect();
        let f = kind.first_page();
        assert_eq!(pages, vec![f + 2, f + 1, f], "{kind:?}");

        let mut by_page = Vec::new();
        for page in pages.iter().copied() {
            let answer = orders_page(&fake, &window, page).await;
            assert_eq!(answer.total, 231);
            by_page.push((page, answer.items));
        }
        by_page.sort_by_key(|(page, _)| *page);
        let sizes: Vec<usize> = by_page.iter().map(|(_, items)| items.len()).collect();
        assert_eq!(sizes, vec![100, 100, 31], "{kind:?}");
        let all: Vec<PlatformOrder> = by_page.into_iter().flat_map(|(_, items)| items).collect();
        assert!(all.windows(2).all(|w| w[0].modified >= w[1].modified), "{kind:?}: sorted newest first");
        let seen: BTreeSet<String> = all.iter().map(|o| o.id.clone()).collect();
        assert_eq!(seen, want, "{kind:?}");
        assert_eq!(all.len(), want.len());
        // Every order parses to exactly what the fake holds, unpaid and closed ones included.
        for order in &all {
            let held = fake.order(&order.id).unwrap();
            assert_eq!(*order, held.expected(kind), "{kind:?}");
        }
        let states: BTreeSet<String> = all.iter().map(|o| format!("{:?}", o.state)).collect();
        assert!(states.len() >= 4, "{kind:?}: {states:?}");

        let log = fake.requests();
        assert_eq!(log.len(), 4);
        assert!(log.iter().all(|r| matches!(r.outcome, Outcome::Answered { total: 231, .. })));
        assert!(log.iter().all(|r| r.list == Some(List::Orders) && r.span() == Some(TimeDelta::minutes(30))));
        assert_eq!(log.iter().map(|r| r.page.unwrap()).collect::<Vec<_>>(), vec![f, f + 2, f + 1, f]);
        assert_eq!(log[0].start, Some(start));
        assert_eq!(log[0].end, Some(end));
        assert_eq!(log[0].page_size, Some(100));
        assert_eq!(fake.rejected(), 0);
        fake.stop().await;
    }
}

#[tokio::test]
async fn rendered_answers_parse_to_exact_amounts() {
    let at = t(1, 10, 0);
    let order = || {
        FakeOrder::new("2890412345678901234", FakeStatus::Paid, at)
            .line(FakeLine::new("1122334455", "APPLE-5J", 2, cents(1230)))
            .line(FakeLine::new("1122334456", "HONEY-1", 3, cents(999)))
            .line(FakeLine::new("1122334457", "RICE", 1, cents(1000)))
            .postage(cents(200))
            .pay_amount(cents(3000))
    };
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        fake.put_order(order());
        fake.put_refund(
            FakeRefund::new("9876543210", "2890412345678901234", cents(500), at).line("1122334455").returned(1),
        );
        fake.put_refund(FakeRefund::new("9876543211", "2890412345678901234", cents(1230), at).succeeded(false));
        let window = read_window(t(1, 0, 0), t(1, 20, 0));

        let body = send(&fake, &orders_request(&fake, &fake.credentials(), &window, kind.first_page())).await;
        let text = String::from_utf8(body.clone()).unwrap();
        let page = kind.platform().parse_orders(&body).unwrap();
        assert_eq!(page.total, 1);
        let parsed = &page.items[0];
        assert_eq!(*parsed, order().expected(kind), "{kind:?}");
        assert_eq!(parsed.state, OrderState::Paid);
        assert_eq!(parsed.modified, at);
        assert_eq!(parsed.paid_at, Some(at));
        let amounts: Vec<i64> = parsed.lines.iter().map(|l| l.amount.cents()).collect();
        match kind {
            Kind::Taobao => {
                assert_eq!(amounts, vec![1230, 999, 1000]);
                // Ids as JSON numbers, money as yuan strings, times in Beijing time.
                assert!(text.contains(r#""tid":2890412345678901234"#), "{text}");
                assert!(text.contains(r#""payment":"30.00""#), "{text}");
                assert!(text.contains(r#""modified":"2025-12-01 09:10:00""#), "{text}");
            }
            Kind::Pdd => {
                // Σ goods_price × goods_count = 12.30 + 9.99 + 10.00 = 32.29; the goods were
                // paid 30.00 − 2.00 = 28.00: the 4.29 discount is spread 1230:999:1000.
                assert_eq!(amounts, vec![1067, 866, 867]);
                assert_eq!(amounts.iter().sum::<i64>(), 2800);
                assert!(text.contains(r#""pay_amount":30,"#), "{text}");
                assert!(text.contains(r#""postage":2,"#), "{text}");
                assert!(text.contains(r#""goods_price":6.15"#), "{text}");
                assert!(text.contains(r#""goods_price":3.33"#), "{text}");
                assert!(text.contains(r#""sku_id":1122334455"#), "{text}");
            }
            Kind::Douyin => {
                assert_eq!(amounts, vec![1230, 999, 1000]);
                assert!(text.contains(r#""pay_amount":1230"#), "{text}");
                assert!(text.contains(r#""pay_amount":3000"#), "{text}");
            }
        }

        let body = send(&fake, &refunds_request(&fake, &window, kind.first_page())).await;
        let text = String::from_utf8(body.clone()).unwrap();
        let page = kind.platform().parse_refunds(&body).unwrap();
        let returned =
            FakeRefund::new("9876543210", "2890412345678901234", cents(500), at).line("1122334455").returned(1);
        let refused = FakeRefund::new("9876543211", "2890412345678901234", cents(1230), at).succeeded(false);
        let ids: Vec<&str> = page.items.iter().map(|r| r.refund_id.as_str()).collect();
        if kind == Kind::Pdd {
            // hezuo asks for after_sales_status=10: succeeded refunds only.
            assert_eq!(page.total, 1);
            assert_eq!(ids, vec!["9876543210"]);
            assert!(text.contains(r#""refund_amount":"5.00""#), "{text}");
        } else {
            assert_eq!(page.total, 2);
            assert_eq!(ids, vec!["9876543210", "9876543211"]);
            assert_eq!(page.items[1], refused.expected(kind));
            assert_eq!(page.items[1].amount, cents(1230));
            assert!(!page.items[1].succeeded);
        }
        assert_eq!(page.items[0], returned.expected(kind), "{kind:?}");
        assert_eq!(page.items[0].amount, cents(500));
        assert_eq!(page.items[0].quantity_returned, Some(1));
        assert_eq!(page.items[0].line_ids, vec!["1122334455".to_owned()]);
        assert!(page.items[0].succeeded);
        assert_eq!(fake.rejected(), 0);
    }
}

#[tokio::test]
async fn bad_credentials_signatures_and_timestamps_are_rejected_and_counted() {
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        fake.put_order(varied_order(1, t(1, 10, 0)));
        let window = read_window(t(1, 0, 0), t(1, 20, 0));
        let first = kind.first_page();
        let good = credentials();
        let mut rejected = 0;
        let mut expect_rejected = |error: PlatformError, code: &str| {
            rejected += 1;
            assert_eq!(api_code(&error), code, "{kind:?}: {error:?}");
            assert_eq!(fake.rejected(), rejected, "{kind:?}");
        };

        // Signed with another secret.
        let wrong_secret = Credentials::new("app-key-1", "another-secret", Some("token-1".into()));
        let error = orders_error(&fake, &orders_request(&fake, &wrong_secret, &window, first)).await;
        expect_rejected(error, sign_code(kind));

        // A parameter changed after signing.
        let request = orders_request(&fake, &good, &window, first);
        let page_name = if kind == Kind::Taobao { "page_no" } else { "page" };
        let tampered = with_param(kind, &request, page_name, Value::from(first + 1), None);
        expect_rejected(orders_error(&fake, &tampered).await, sign_code(kind));

        // Another access token, correctly signed.
        let other_token = Credentials::new("app-key-1", "app-secret-1", Some("token-2".into()));
        let error = orders_error(&fake, &orders_request(&fake, &other_token, &window, first)).await;
        let token_code = match kind {
            Kind::Taobao => "27/invalid-sessionkey",
            Kind::Pdd => "10019",
            Kind::Douyin => "30002/isv.access-token-expired",
        };
        expect_rejected(error, token_code);

        // No access token at all.
        let no_token = Credentials::new("app-key-1", "app-secret-1", None);
        let error = orders_error(&fake, &orders_request(&fake, &no_token, &window, first)).await;
        let missing_code = match kind {
            Kind::Taobao => "26",
            Kind::Pdd => "10000",
            Kind::Douyin => "40001/isv.missing-parameter",
        };
        expect_rejected(error, missing_code);

        // Another app key, correctly signed.
        let other_key = Credentials::new("app-key-2", "app-secret-1", Some("token-1".into()));
        let error = orders_error(&fake, &orders_request(&fake, &other_key, &window, first)).await;
        let key_code = match kind {
            Kind::Taobao => "29",
            Kind::Pdd => "10016",
            Kind::Douyin => "30001/isv.app-key-invalid",
        };
        expect_rejected(error, key_code);

        // Signed 11 minutes ago: refused; 9 minutes ago: fine.
        let platform = kind.platform();
        let stale = platform.orders_request(&good, &window, first, Utc::now() - TimeDelta::minutes(11));
        let timestamp_code = match kind {
            Kind::Taobao => "31/isv.invalid-timestamp",
            Kind::Pdd => "10000",
            Kind::Douyin => "40002/isv.timestamp-invalid",
        };
        expect_rejected(orders_error(&fake, &stale).await, timestamp_code);
        let recent = platform.orders_request(&good, &window, first, Utc::now() - TimeDelta::minutes(9));
        assert_eq!(platform.parse_orders(&send(&fake, &recent).await).unwrap().total, 1);

        // The fake's clock an hour ahead: a request signed now is stale.
        fake.set_clock_offset(TimeDelta::hours(1));
        assert!(fake.now() > Utc::now() + TimeDelta::minutes(59));
        let error = orders_error(&fake, &orders_request(&fake, &good, &window, first)).await;
        expect_rejected(error, timestamp_code);
        fake.set_clock_offset(TimeDelta::zero());
        assert_eq!(orders_page(&fake, &window, first).await.total, 1);

        let log = fake.requests();
        let reasons: Vec<&str> = log
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Rejected(reason) => Some(reason.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasons.len(), 7, "{kind:?}: {reasons:?}");
        assert_eq!(reasons[0], "wrong signature");
        assert_eq!(reasons[2], "wrong access token");
        assert_eq!(reasons[4], "wrong app key");
        assert!(reasons[5].starts_with("timestamp: "), "{reasons:?}");
        // Rejected requests are logged with what could be read of them.
        assert_eq!(log[0].list, Some(List::Orders));
        assert_eq!(log[0].page, Some(first));
        assert_eq!(log[0].span(), Some(TimeDelta::minutes(20)));
    }
}

#[tokio::test]
async fn windows_and_pages_beyond_the_limits_are_rejected() {
    let base = t(0, 0, 0);
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        fake.put_order(varied_order(1, base + TimeDelta::minutes(1)));
        let first = kind.first_page();
        let platform = kind.platform();
        let max = kind.max_window();

        // Exactly the limit is fine; a second more is not.
        assert_eq!(orders_page(&fake, &read_window(base, base + max), first).await.total, 1);
        let too_long = read_window(base, base + max + TimeDelta::seconds(1));
        let error = orders_error(&fake, &orders_request(&fake, &fake.credentials(), &too_long, first)).await;
        assert!(matches!(error, PlatformError::Api { .. }), "{kind:?}: {error:?}");
        let body = send(&fake, &refunds_request(&fake, &too_long, first)).await;
        assert!(matches!(platform.parse_refunds(&body), Err(PlatformError::Api { .. })), "{kind:?}");
        // An empty window (end = start).
        let empty = read_window(base, base);
        assert!(matches!(
            orders_error(&fake, &orders_request(&fake, &fake.credentials(), &empty, first)).await,
            PlatformError::Api { .. }
        ));
        assert_eq!(fake.rejected(), 3, "{kind:?}");

        // Page size above 100 and a page before the first, correctly signed.
        let credentials = fake.credentials();
        let window = read_window(base, base + TimeDelta::minutes(20));
        let request = orders_request(&fake, &credentials, &window, first);
        let size_name = match kind {
            Kind::Taobao | Kind::Pdd => "page_size",
            Kind::Douyin => "size",
        };
        let big = with_param(kind, &request, size_name, Value::from(101), Some(&credentials));
        assert!(matches!(orders_error(&fake, &big).await, PlatformError::Api { .. }), "{kind:?}");
        let ok = with_param(kind, &request, size_name, Value::from(1), Some(&credentials));
        assert_eq!(platform.parse_orders(&send(&fake, &ok).await).unwrap().items.len(), 1);
        let page_name = if kind == Kind::Taobao { "page_no" } else { "page" };
        if first > 0 {
            let zero = with_param(kind, &request, page_name, Value::from(0), Some(&credentials));
            assert!(matches!(orders_error(&fake, &zero).await, PlatformError::Api { .. }), "{kind:?}");
        } else {
            let negative = with_param(kind, &request, page_name, Value::from(-1), Some(&credentials));
            assert!(matches!(orders_error(&fake, &negative).await, PlatformError::Api { .. }), "{kind:?}");
        }
        // A page past the end is empty, with the total.
        let past = orders_page(&fake, &window, first + 5).await;
        assert_eq!((past.total, past.items.len()), (1, 0));
        assert_eq!(fake.rejected(), 5, "{kind:?}");

        // Every window hezuo plans is within the limit.
        let before = fake.requests().len();
        for window in platform.windows(base, base + TimeDelta::hours(3)) {
            orders_page(&fake, &window, first).await;
        }
        let planned = &fake.requests()[before..];
        assert!(!planned.is_empty());
        assert!(planned.iter().all(|r| r.span().unwrap() <= max && matches!(r.outcome, Outcome::Answered { .. })));
        assert_eq!(fake.rejected(), 5, "{kind:?}");
    }
}

#[tokio::test]
async fn throttled_answers_parse_as_throttled() {
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        let window = read_window(t(1, 0, 0), t(1, 20, 0));
        fake.throttle_next(2);
        let want_wait = match kind {
            Kind::Taobao => Some(std::time::Duration::from_secs(1)),
            Kind::Pdd | Kind::Douyin => None,
        };
        let request = orders_request(&fake, &fake.credentials(), &window, kind.first_page());
        assert_eq!(orders_error(&fake, &request).await, PlatformError::Throttled { wait: want_wait }, "{kind:?}");
        let body = send(&fake, &refunds_request(&fake, &window, kind.first_page())).await;
        assert_eq!(kind.platform().parse_refunds(&body), Err(PlatformError::Throttled { wait: want_wait }));
        assert_eq!(orders_page(&fake, &window, kind.first_page()).await.total, 0);
        let outcomes: Vec<Outcome> = fake.requests().into_iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, vec![Outcome::Throttled, Outcome::Throttled, Outcome::Answered { total: 0, rows: 0 }]);
        assert_eq!(fake.rejected(), 0);
    }
}

#[tokio::test]
async fn refunds_are_listed_by_modified_time() {
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        let (start, end) = (t(1, 0, 0), t(1, 30, 0));
        for (id, at) in [("501", t(1, 5, 0)), ("502", t(1, 29, 0)), ("503", end), ("504", start), ("505", t(1, 31, 0))]
        {
            fake.put_refund(FakeRefund::new(id, "9001", cents(100), at).line("77").returned(2));
        }
        let window = read_window(start, end);
        let body = send(&fake, &refunds_request(&fake, &window, kind.first_page())).await;
        let page = kind.platform().parse_refunds(&body).unwrap();
        assert_eq!(page.total, 4, "{kind:?}");
        let ids: Vec<&str> = page.items.iter().map(|r| r.refund_id.as_str()).collect();
        if kind == Kind::Douyin {
            // hezuo asks Douyin for order_by=["update_time asc"], and gets it: oldest first.
            assert_eq!(ids, vec!["504", "501", "502", "503"]);
        } else {
            assert_eq!(ids, vec!["503", "502", "501", "504"]);
        }
        assert!(page.items.iter().all(|r| r.quantity_returned == Some(2) && r.amount == cents(100)));
        assert_eq!(fake.requests()[0].list, Some(List::Refunds));
        assert_eq!(fake.rejected(), 0);
    }
}

#[tokio::test]
async fn an_order_changed_between_pages_moves_to_the_first_page() {
    for kind in Kind::ALL {
        let fake = FakePlatform::start(kind, credentials()).await;
        let (start, end) = (t(1, 0, 0), t(1, 25, 0));
        for i in 0..150 {
            fake.put_order(varied_order(i, start + TimeDelta::seconds(i64::from(i))));
        }
        let oldest = varied_order(0, start).id;
        let window = read_window(start, end);
        let first = kind.first_page();
        let total = orders_page(&fake, &window, first).await.total;
        let pages: Vec<u32> = kind.platform().pages(total).collect();
        assert_eq!(pages, vec![first + 1, first]);

        // Once the last page has been answered, the oldest order changes: it becomes the newest.
        let moved = oldest.clone();
        fake.on_page(List::Orders, first + 1, move |data| {
            assert!(data.update_order(&moved, |o| {
                o.status = FakeStatus::Completed;
                o.modified = t(1, 20, 0);
            }));
        });
        let last = orders_page(&fake, &window, first + 1).await;
        assert_eq!(last.items.len(), 50);
        assert_eq!(last.items.last().unwrap().id, oldest, "{kind:?}");
        assert_eq!(fake.order(&oldest).unwrap().modified, t(1, 20, 0), "the hook ran");
        let top = orders_page(&fake, &window, first).await;
        assert_eq!(top.total, 150);
        assert_eq!(top.items[0].id, oldest, "{kind:?}: read backwards, the changed order shows up twice");
        assert_eq!(top.items[0].state, OrderState::Completed);
        // The hook ran once.
        fake.update_order(&oldest, |o| o.modified = start);
        orders_page(&fake, &window, first + 1).await;
        assert_eq!(fake.order(&oldest).unwrap().modified, start);
        assert_eq!(fake.rejected(), 0);
    }
}

#[tokio::test]
async fn other_encodings_and_routes() {
    let window = read_window(t(1, 0, 0), t(1, 20, 0));
    let credentials = credentials();

    // Taobao: hmac-sha256 signing, and the parameters in a GET query.
    let fake = FakePlatform::start(Kind::Taobao, credentials.clone()).await;
    fake.put_order(varied_order(1, t(1, 10, 0)));
    let request = Taobao::new(SignMethod::HmacSha256).orders_request(&credentials, &window, 1, Utc::now());
    assert_eq!(Taobao::default().parse_orders(&send(&fake, &request).await).unwrap().total, 1);
    let query = String::from_utf8(request.body.to_bytes()).unwrap();
    let answer = http().get(format!("{}/router/rest?{query}", fake.base_url())).send().await.unwrap();
    assert_eq!(Taobao::default().parse_orders(&answer.bytes().await.unwrap()).unwrap().total, 1);
    // A parameter given twice is refused.
    let twice = format!("{query}&page_no=1");
    let answer = http().get(format!("{}/router/rest?{twice}", fake.base_url())).send().await.unwrap();
    assert!(Taobao::default().parse_orders(&answer.bytes().await.unwrap()).is_err());
    // A path the platform does not have: 404 with the platform's error.
    let mut elsewhere = request.clone();
    elsewhere.path = "/api/router".into();
    let (status, body) = send_status(&fake, &elsewhere).await;
    assert_eq!(status, 404);
    assert!(matches!(Taobao::default().parse_orders(&body), Err(PlatformError::Api { .. })));
    assert_eq!(fake.rejected(), 2);
    assert_eq!(fake.requests()[3].route, "POST /api/router");

    // Pinduoduo: a JSON body with numbers and booleans, signed over their text.
    let fake = FakePlatform::start(Kind::Pdd, credentials.clone()).await;
    fake.put_order(varied_order(1, t(1, 10, 0)));
    let request = Kind::Pdd.platform().orders_request(&credentials, &window, 1, Utc::now());
    let Body::Form(params) = &request.body else { panic!() };
    let mut params: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "sign").cloned().collect();
    params.push(("is_lucky_flag".into(), "true".into()));
    let sign = hezuo_platforms::pdd::sign(&params, &credentials.app_secret);
    let mut json = serde_json::Map::new();
    for (k, v) in params {
        let value = match v.as_str() {
            "true" => Value::Bool(true),
            _ if k == "page" || k == "page_size" || k == "timestamp" => Value::from(v.parse::<i64>().unwrap()),
            _ => Value::String(v),
        };
        json.insert(k, value);
    }
    json.insert("sign".into(), Value::String(sign));
    let answer = http()
        .post(format!("{}/api/router", fake.base_url()))
        .header("content-type", "application/json")
        .body(Value::Object(json).to_string())
        .send()
        .await
        .unwrap();
    let page = Kind::Pdd.platform().parse_orders(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(fake.rejected(), 0);

    // Douyin: a body that is not canonical JSON is refused even when signed over its bytes.
    let fake = FakePlatform::start(Kind::Douyin, credentials.clone()).await;
    let request = Kind::Douyin.platform().orders_request(&credentials, &window, 0, Utc::now());
    let Body::Raw { bytes, .. } = &request.body else { panic!() };
    let spaced = String::from_utf8(bytes.clone()).unwrap().replacen(',', ", ", 1);
    let timestamp = request.query_value("timestamp").unwrap();
    let sign = hezuo_platforms::douyin::sign("app-key-1", "app-secret-1", "order.searchList", &spaced, timestamp);
    let mut query = request.query.clone();
    query.iter_mut().find(|(k, _)| k == "sign").unwrap().1 = sign;
    let respaced =
        Request { query, body: Body::Raw { content_type: "application/json", bytes: spaced.into() }, ..request };
    let error = orders_error(&fake, &respaced).await;
    assert_eq!(api_code(&error), "40002/isv.parameter-invalid");
    assert_eq!(fake.rejected(), 1);
    // A method that does not match the path.
    let mut mismatched = Kind::Douyin.platform().refunds_request(&credentials, &window, 0, Utc::now());
    mismatched.path = "/order/searchList".into();
    assert!(matches!(orders_error(&fake, &mismatched).await, PlatformError::Api { .. }));
    assert_eq!(fake.rejected(), 2);
}

#[tokio::test]
async fn stop_and_drop_close_the_port() {
    let fake = FakePlatform::start(Kind::Pdd, credentials()).await;
    let url = fake.base_url();
    let window = read_window(t(1, 0, 0), t(1, 20, 0));
    orders_page(&fake, &window, 1).await;
    fake.stop().await;
    assert!(http().post(format!("{url}/api/router")).send().await.is_err());

    let fake = FakePlatform::start(Kind::Douyin, credentials()).await;
    let url = fake.base_url();
    drop(fake);
    // The server task sees the shutdown signal at its next turn; give it up to 5 s.
    let mut closed = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if http().post(format!("{url}/order/searchList")).send().await.is_err() {
            closed = true;
            break;
        }
    }
    assert!(closed, "the port is still open after drop");
}

#[test]
fn statuses_and_expected_states() {
    let at = t(1, 0, 0);
    let line = || FakeLine::new("1", "A", 1, cents(100));
    for (status, taobao, pdd, douyin) in [
        (FakeStatus::Unpaid, OrderState::Unpaid, OrderState::Unrecognized, OrderState::Unpaid),
        (FakeStatus::Paid, OrderState::Paid, OrderState::Paid, OrderState::Paid),
        (FakeStatus::Shipped, OrderState::Shipped, OrderState::Shipped, OrderState::Shipped),
        (FakeStatus::Completed, OrderState::Completed, OrderState::Completed, OrderState::Completed),
        (
            FakeStatus::ClosedBeforePayment,
            OrderState::ClosedBeforePayment,
            OrderState::Unrecognized,
            OrderState::ClosedBeforePayment,
        ),
        (
            FakeStatus::ClosedAfterPayment,
            OrderState::ClosedAfterPayment,
            OrderState::Paid,
            OrderState::ClosedAfterPayment,
        ),
    ] {
        let order = FakeOrder::new("1", status.clone(), at).line(line());
        assert_eq!(order.expected(Kind::Taobao).state, taobao, "{status:?}");
        assert_eq!(order.expected(Kind::Pdd).state, pdd, "{status:?}");
        assert_eq!(order.expected(Kind::Douyin).state, douyin, "{status:?}");
    }
    assert_eq!(FakeStatus::Raw("PAID_FORBID_CONSIGN".into()).raw(Kind::Taobao), "PAID_FORBID_CONSIGN");
    // Default Pinduoduo prices: the amount per piece, rounded up.
    assert_eq!(FakeLine::new("1", "A", 3, cents(1000)).pdd_unit_price(), cents(334));
    assert_eq!(FakeLine::new("1", "A", 2, cents(1230)).pdd_unit_price(), cents(615));
    assert_eq!(FakeLine::new("1", "A", 2, cents(1230)).unit_price(cents(700)).pdd_unit_price(), cents(700));
    // Douyin spreads returned pieces over the lines.
    let refund = FakeRefund::new("1", "2", cents(1), at).line("a").line("b").line("c");
    assert_eq!(refund.clone().returned(5).douyin_pieces(), vec![2, 2, 1]);
    assert_eq!(refund.douyin_pieces(), vec![1, 1, 1]);
    // Times are kept to the second.
    let mut data = FakeData::default();
    data.put_order(FakeOrder::new("9", FakeStatus::Paid, at + TimeDelta::milliseconds(700)));
    assert_eq!(data.order("9").unwrap().modified, at);
    assert!(!data.update_order("nope", |_| {}));
}
