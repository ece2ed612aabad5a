//! OpenAPI schemas of request fields whose rules a Rust type does not show: the text and
//! amount rules of `validate`, `hezuo_catalog::fields` and the use cases, as patterns and
//! ranges, so that a client (or a fuzzer) sending what the document allows is never refused
//! for the shape of a field. Patterns use only `[0-9]` and explicit classes, never `\d` or
//! `\s`, whose meaning differs between regex dialects.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaFormat};

/// Characters `str::trim` removes (Unicode White_Space).
const WS: &str = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Neither white space, a control character, an invisible character (zero-width, fillers) nor
/// a bidirectional control: what a trimmed value starts and ends with
/// (`hezuo_catalog::text_problem`).
const VISIBLE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\xad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0]";
/// No control character and no bidirectional control at all.
const NO_CONTROL: &str = r"[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]";
/// No control character but a tab, no bidirectional control.
const TAB_OK: &str = r"[^\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]";
/// No control character but a tab or a line break, no bidirectional control.
const LINES_OK: &str = r"[^\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]";

/// Text that is trimmed and then holds 1..=`max` characters of `inner` (starting and ending
/// with a visible one); `blank_ok` also allows nothing but white space (read as absent).
fn trimmed(max: usize, inner: &str, blank_ok: bool) -> String {
    let body = format!("{VISIBLE}(?:{inner}{{0,{}}}{VISIBLE})?", max - 2);
    if blank_ok { format!("^{WS}*(?:{body}{WS}*)?$") } else { format!("^{WS}*{body}{WS}*$") }
}

fn text(description: &str, pattern: String, min_length: usize, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length((min_length > 0).then_some(min_length))
        .pattern(Some(pattern))
        .examples([example])
        .into()
}

/// A decimal amount as a string or a JSON number, exact to `step` (0.01, 0.001 …). The bounds
/// are for the document only: amounts themselves are never floats.
fn amount(
    description: &str,
    pattern: &str,
    step: f64,
    range: (f64, f64),
    exclusive_minimum: bool,
    example: &str,
) -> RefOr<Schema> {
    let string = ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern)).examples([example]);
    let mut number = ObjectBuilder::new().schema_type(Type::Number).maximum(Some(range.1)).multiple_of(Some(step));
    number = if exclusive_minimum { number.exclusive_minimum(Some(range.0)) } else { number.minimum(Some(range.0)) };
    OneOfBuilder::new().item(string).item(number).description(Some(description)).examples([example]).into()
}

macro_rules! schema {
    ($name:ident, $doc:literal, $body:expr) => {
        #[doc = $doc]
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $body
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

schema!(
    Name,
    "A display name of the set-up: trimmed, then 1 to 100 characters without control characters.",
    text("Trimmed, then 1 to 100 characters without control characters.", trimmed(100, NO_CONTROL, false), 1, "桃源村")
);
schema!(
    ProductName,
    "A product's name: trimmed, then 1 to 100 characters on one line.",
    text("Trimmed, then 1 to 100 characters on one line.", trimmed(100, TAB_OK, false), 1, "阳山水蜜桃")
);
schema!(
    Unit,
    "The unit a product is sold in: one word of 1 to 16 characters.",
    text(
        "One word (no spaces) of 1 to 16 characters, surrounding spaces trimmed: kg, 斤, box …",
        trimmed(16, VISIBLE, false),
        1,
        "斤"
    )
);
schema!(
    Sku,
    "A merchant code (商家编码): one word of up to 64 characters; blank means none.",
    text(
        "One word (no spaces) of up to 64 characters, surrounding spaces trimmed; blank means none.",
        trimmed(64, VISIBLE, true),
        0,
        "TAO-001"
    )
);
schema!(
    Category,
    "A product's category: up to 50 characters; blank means none.",
    text("Trimmed, up to 50 characters; blank means none.", trimmed(50, LINES_OK, true), 0, "水果")
);
schema!(
    Description,
    "A product's description: up to 2,000 characters; blank means none.",
    text(
        "Trimmed, up to 2,000 characters; blank means none.",
        trimmed(2000, LINES_OK, true),
        0,
        "阳山镇桃园直采,当天发货"
    )
);
schema!(
    ImageUrl,
    "An http(s) URL of an image.",
    text(
        "An http:// or https:// URL of at most 500 characters without spaces.",
        format!(r"^{WS}*(?:https://{VISIBLE}{{1,492}}|http://{VISIBLE}{{2,493}}){WS}*$"),
        9,
        "https://img.example.com/peach.jpg"
    )
);
schema!(
    Reason,
    "Why a refund was made.",
    text("Trimmed, then 1 to 200 characters.", trimmed(200, LINES_OK, false), 1, "果实磕碰")
);
schema!(
    TrackingNumber,
    "A parcel's tracking number.",
    text("Trimmed, then 1 to 64 characters.", trimmed(64, LINES_OK, false), 1, "SF1234567890")
);
schema!(
    Note,
    "A note of up to 500 characters.",
    text("Trimmed, then 1 to 500 characters.", trimmed(500, LINES_OK, false), 1, "平台补发了差额")
);
schema!(
    OptionalNote,
    "A note of up to 500 characters; blank means none.",
    text("Trimmed, up to 500 characters; blank means none.", trimmed(500, LINES_OK, true), 0, "冷库盘点")
);
schema!(
    Phone,
    "A phone number (`validate::phone`); blank means none.",
    text(
        "Digits with spaces, '-' or parentheses, optionally a leading '+' or '(': 5 to 31 characters, starting (after it) and ending with a digit; surrounding spaces trimmed; blank means none.",
        format!(r"^{WS}*(?:[+(]?[0-9][0-9() -]{{3,28}}[0-9])?{WS}*$"),
        0,
        "0510-83591234"
    )
);
schema!(
    TraceCode,
    "A lot's trace code as printed on its label.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(16))
        .pattern(Some("^[0-9A-Za-z]{1,16}$"))
        .examples(["Kx7mP2qRtW"])
        .into()
);
schema!(
    ExternalId,
    "An order's id in its channel.",
    text(
        "1 to 128 characters without control characters, and without surrounding spaces.",
        format!("^{VISIBLE}(?:{NO_CONTROL}{{0,126}}{VISIBLE})?$"),
        1,
        "TB20260601-0001"
    )
);
schema!(
    Username,
    "A login name.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(3))
        .max_length(Some(64))
        .pattern(Some("^[A-Za-z0-9_.@-]{3,64}$"))
        .examples(["staff-taoyuan"])
        .into()
);
schema!(
    Password,
    "A password.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("password".into())))
        .min_length(Some(8))
        .max_length(Some(128))
        .examples(["hezuo-demo-2026"])
        .into()
);
schema!(
    VillageCode,
    "The 12-digit administrative division code (统计用区划代码) of a village.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]{12}$"))
        .min_length(Some(12))
        .max_length(Some(12))
        .examples(["320206103201"])
        .into()
);
schema!(
    FeedPlatform,
    "The platform a feed pulls from.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["taobao", "pdd", "douyin"]))
        .examples(["taobao"])
        .into()
);
schema!(
    FeedUrl,
    "A platform's API address: https:// (http:// only for hosts inside HEZUO_FEED_ALLOW_NETS), no credentials; its host must resolve to public addresses.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$"))
        .max_length(Some(500))
        .examples(["https://eco.taobao.com"])
        .into()
);
schema!(
    WebhookUrl,
    "Where webhook deliveries are sent: https:// (http:// only for hosts inside HEZUO_WEBHOOK_ALLOW_NETS), no credentials; its host must resolve to public addresses.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$"))
        .max_length(Some(500))
        .examples(["https://erp.example.cn/hooks/hezuo"])
        .into()
);
schema!(
    WebhookEvent,
    "An event webhooks report (PLATFORMS.md §5).",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "order.created",
            "order.refunded",
            "order.cancelled",
            "period.closed",
            "statement.imported"
        ]))
        .examples(["order.created"])
        .into()
);
schema!(
    FeedKey,
    "A platform credential: 1 to 200 characters on one line.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r"^[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]{0,198}[^\x00-\x20\x7f])?$"))
        .min_length(Some(1))
        .max_length(Some(200))
        .examples(["12345678"])
        .into()
);
schema!(
    ChannelCode,
    "A channel's code: 1 to 32 characters of a-z, 0-9, '_' or '-'.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[a-z0-9_-]{1,32}$"))
        .min_length(Some(1))
        .max_length(Some(32))
        .examples(["taobao"])
        .into()
);

/// A year reports cover: 2000 to 2100.
pub const YEAR: &str = "^(?:20[0-9]{2}|2100)$";
/// A date in the years reports cover (with `format: date`, a real day).
pub const REPORT_DATE: &str = "^(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$";
/// A month in the years reports cover.
pub const MONTH: &str = "^(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])$";

schema!(
    ReportDate,
    "A date YYYY-MM-DD in the years 2000 to 2100.",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date)))
        .pattern(Some(REPORT_DATE))
        .examples(["2026-01-15"])
        .into()
);
schema!(
    Month,
    "A month YYYY-MM in the years 2000 to 2100.",
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(MONTH)).examples(["2026-01"]).into()
);
schema!(
    IncomeCategory,
    "Operating income: rent 租赁, service 服务, investment 投资收益, other 其他经营收入 (subsidies are not).",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["rent", "service", "investment", "other"]))
        .examples(["rent"])
        .into()
);
schema!(
    Growth,
    "A ratio to four decimals, as a string.",
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^-?[0-9]+\.[0-9]{4}$")).examples(["0.1250"]).into()
);
schema!(
    IncomeAmountInput,
    "An income amount: more than 0, at most 1,000,000,000,000.",
    amount(
        "CNY, more than 0 and at most 1,000,000,000,000, up to 2 decimals; a string or a JSON number (read exactly)",
        MONEY_POSITIVE_UP_TO_MAX_AMOUNT,
        0.01,
        (0.0, MAX_AMOUNT),
        true,
        "12000.00"
    )
);

/// More than 0, at most 1,000,000,000,000, up to 2 decimals.
const MONEY_POSITIVE_UP_TO_MAX_AMOUNT: &str =
    r"^(?:[1-9][0-9]{0,11}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9])|1000000000000(?:\.00?)?)$";

/// 0 to 10,000,000 with up to 2 decimals.
const MONEY_UP_TO_MAX_PRICE: &str = r"^(?:(?:0|[1-9][0-9]{0,6})(?:\.[0-9]{1,2})?|10000000(?:\.00?)?)$";
/// More than 0, at most 10,000,000, up to 2 decimals.
const MONEY_POSITIVE_UP_TO_MAX_PRICE: &str =
    r"^(?:[1-9][0-9]{0,6}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9])|10000000(?:\.00?)?)$";
/// 0 to 1,000,000,000,000, up to 2 decimals.
const MONEY_NON_NEGATIVE: &str = r"^(?:(?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,2})?|1000000000000(?:\.00?)?)$";
/// More than 0, up to 2 decimals.
const MONEY_POSITIVE: &str = r"^(?:[1-9][0-9]{0,14}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$";
/// More than 0, at most 10,000,000, up to 3 decimals.
const QUANTITY_POSITIVE: &str =
    r"^(?:[1-9][0-9]{0,6}(?:\.[0-9]{1,3})?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])|10000000(?:\.0{1,3})?)$";
/// Not 0, at most 10,000,000 either way, up to 3 decimals.
const QUANTITY_SIGNED: &str =
    r"^-?(?:[1-9][0-9]{0,6}(?:\.[0-9]{1,3})?|0\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])|10000000(?:\.0{1,3})?)$";
/// 0 to 10,000,000, up to 3 decimals.
const QUANTITY_UP_TO_MAX: &str = r"^(?:(?:0|[1-9][0-9]{0,6})(?:\.[0-9]{1,3})?|10000000(?:\.0{1,3})?)$";
/// 0 or more, up to 3 decimals.
const QUANTITY_NON_NEGATIVE: &str = r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,3})?$";
/// 0 to 1, up to 6 decimals.
const RATE: &str = r"^(?:0(?:\.[0-9]{1,6})?|1(?:\.0{1,6})?)$";
/// 0.60 to 1, up to 6 decimals.
const REBATE_RATE: &str = r"^(?:0\.[6-9][0-9]{0,5}|1(?:\.0{1,6})?)$";

const MAX_PRICE: f64 = 10_000_000.0;
const MAX_QUANTITY: f64 = 10_000_000.0;
/// `validate::MAX_AMOUNT`.
const MAX_AMOUNT: f64 = 1_000_000_000_000.0;
/// A bound for amounts that only stored data limits (a refund: what is left of its line).
const LARGEST: f64 = 999_999_999_999_999.0;

schema!(
    PriceInput,
    "A list price: more than 0, at most 10,000,000.00, up to 2 decimals.",
    amount(
        "CNY, more than 0 and at most 10,000,000, up to 2 decimals; a string or a JSON number (read exactly)",
        MONEY_POSITIVE_UP_TO_MAX_PRICE,
        0.01,
        (0.0, MAX_PRICE),
        true,
        "15.80"
    )
);
schema!(
    UnitPriceInput,
    "A price per unit, 0 or more, at most 10,000,000.00.",
    amount(
        "CNY, 0 to 10,000,000, up to 2 decimals; a string or a JSON number (read exactly)",
        MONEY_UP_TO_MAX_PRICE,
        0.01,
        (0.0, MAX_PRICE),
        false,
        "15.80"
    )
);
schema!(
    MoneyInput,
    "An amount of 0 or more.",
    amount(
        "CNY, 0 to 1,000,000,000,000, up to 2 decimals; a string or a JSON number (read exactly)",
        MONEY_NON_NEGATIVE,
        0.01,
        (0.0, MAX_AMOUNT),
        false,
        "20000.00"
    )
);
schema!(
    PositiveMoneyInput,
    "An amount of more than 0.",
    amount(
        "CNY, more than 0, up to 2 decimals; a string or a JSON number (read exactly)",
        MONEY_POSITIVE,
        0.01,
        (0.0, LARGEST),
        true,
        "12.30"
    )
);
schema!(
    QuantityInput,
    "A quantity of more than 0, at most 10,000,000.",
    amount(
        "More than 0 and at most 10,000,000, up to 3 decimals; a string or a JSON number (read exactly)",
        QUANTITY_POSITIVE,
        0.001,
        (0.0, MAX_QUANTITY),
        true,
        "2.500"
    )
);
schema!(
    SignedQuantityInput,
    "A signed quantity, not 0, at most 10,000,000 either way.",
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(QUANTITY_SIGNED)).examples(["-1.500"]))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .exclusive_minimum(Some(0.0))
                .maximum(Some(MAX_QUANTITY))
                .multiple_of(Some(0.001))
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(-10_000_000.0))
                .exclusive_maximum(Some(0.0))
                .multiple_of(Some(0.001))
        )
        .description(Some(
            "Not 0, at most 10,000,000 either way, up to 3 decimals; a string or a JSON number (read exactly)"
        ))
        .examples(["-1.500"])
        .into()
);
schema!(
    ThresholdInput,
    "A quantity from 0 to 10,000,000.",
    amount(
        "0 to 10,000,000, up to 3 decimals; a string or a JSON number (read exactly)",
        QUANTITY_UP_TO_MAX,
        0.001,
        (0.0, MAX_QUANTITY),
        false,
        "20.000"
    )
);
schema!(
    ReturnedQuantityInput,
    "A quantity of 0 or more.",
    amount(
        "0 or more, up to 3 decimals; a string or a JSON number (read exactly)",
        QUANTITY_NON_NEGATIVE,
        0.001,
        (0.0, LARGEST),
        false,
        "1.000"
    )
);
schema!(
    RateInput,
    "A rate from 0 to 1.",
    amount(
        "0 to 1, up to 6 decimals; a string or a JSON number (read exactly)",
        RATE,
        0.000001,
        (0.0, 1.0),
        false,
        "0.05"
    )
);
schema!(
    RebateRateInput,
    "The share of distributable surplus returned by transactions: at least 0.60 (农民专业合作社法 art. 44).",
    amount(
        "0.60 to 1, up to 6 decimals; a string or a JSON number (read exactly)",
        REBATE_RATE,
        0.000001,
        (0.6, 1.0),
        false,
        "0.60"
    )
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_text_pattern_has_the_rule_of_validate_name() {
        let re = regex::Regex::new(&trimmed(100, NO_CONTROL, false)).unwrap();
        for ok in ["桃源村", " 桃源村\t", "a", &"桃".repeat(100), &format!("  {}  ", "桃".repeat(100)), "a b"] {
            assert!(re.is_match(ok), "{ok:?}");
            assert!(crate::validate::name("name", ok).is_ok(), "{ok:?}");
        }
        for bad in ["", "   ", &"桃".repeat(101), "a\u{0}b", "a\tb", "\u{3000}"] {
            assert!(!re.is_match(bad), "{bad:?}");
            assert!(crate::validate::name("name", bad).is_err(), "{bad:?}");
        }
    }
}
