//! Reading platform answers field by field (with short, path-named reasons when a field is
//! wrong), exact money from JSON text, and the canonical JSON that Douyin signs.
//!
//! Answers are read into `serde_json::Value` and walked by hand rather than deserialized into
//! structs: error messages then name the field and never quote the body, and ids and amounts
//! are taken from their JSON text (`arbitrary_precision`), never through floating point.

use crate::model::PlatformError;
use crate::time;
use chrono::{DateTime, Utc};
use hezuo_core::{Decimal, Money, ParseError};
use serde_json::{Map, Number, Value};

pub(crate) type Result<T> = std::result::Result<T, PlatformError>;

/// Parses an answer body as JSON; the reason names the position only.
pub(crate) fn parse(body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body)
        .map_err(|e| PlatformError::Malformed(format!("not JSON (line {} column {})", e.line(), e.column())))
}

/// Whether a JSON number or string holds yuan (two decimals) or fen (an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Yuan, as decimal text with at most two places.
    Yuan,
    /// Fen (cents), as an integer.
    Fen,
}

/// Which JSON types an amount may come as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Only a JSON string (`"5.00"`).
    String,
    /// A JSON number (read from its exact text) or a string.
    NumberOrString,
}

/// A JSON object being read, with its path for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    at: &'a str,
}

/// An owned path, so that nested objects can name themselves (`trade[3].orders`).
pub(crate) fn path(parent: &str, child: impl std::fmt::Display) -> String {
    if parent.is_empty() { child.to_string() } else { format!("{parent}.{child}") }
}

/// A Malformed error naming `at` (the whole answer when `at` is empty).
pub(crate) fn malformed(at: &str, why: impl std::fmt::Display) -> PlatformError {
    let at = if at.is_empty() { "answer" } else { at };
    PlatformError::Malformed(format!("{at}: {why}"))
}

impl<'a> Obj<'a> {
    /// `value` as an object, or Malformed naming `at`.
    pub(crate) fn new(value: &'a Value, at: &'a str) -> Result<Obj<'a>> {
        match value {
            Value::Object(map) => Ok(Obj { map, at }),
            _ => Err(malformed(at, "not an object")),
        }
    }

    /// The path of this object.
    pub(crate) fn at(&self) -> &'a str {
        self.at
    }

    fn bad(&self, key: &str, why: impl std::fmt::Display) -> PlatformError {
        malformed(&path(self.at, key), why)
    }

    /// Whether the key is present (even as `null`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The value of `key`; absent and `null` are both `None`.
    pub(crate) fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// The value of `key`, which must be present and not `null`.
    pub(crate) fn get(&self, key: &str) -> Result<&'a Value> {
        self.opt(key).ok_or_else(|| self.bad(key, "missing"))
    }

    /// The object under `key`, to be read with the path `at` (built with [`path`]).
    pub(crate) fn obj(&self, key: &str, at: &'a str) -> Result<Obj<'a>> {
        Obj::new(self.get(key)?, at)
    }

    /// The array under `key`; absent or `null` is an empty list (platforms omit empty lists).
    pub(crate) fn list(&self, key: &str) -> Result<&'a [Value]> {
        match self.opt(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.bad(key, "not a list")),
        }
    }

    /// A string field.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str> {
        match self.get(key)? {
            Value::String(s) => Ok(s),
            _ => Err(self.bad(key, "not a string")),
        }
    }

    /// A string field that may be absent, `null` or empty (all `None`).
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(key, "not a string")),
        }
    }

    /// An id: a non-empty string, or a JSON integer kept as its exact digits.
    pub(crate) fn id(&self, key: &str) -> Result<String> {
        match self.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            Value::Number(n) if is_integer(n) => Ok(n.to_string()),
            _ => Err(self.bad(key, "not an id")),
        }
    }

    /// A non-negative integer: a JSON integer or a string of digits.
    pub(crate) fn uint(&self, key: &str) -> Result<u64> {
        let v = self.get(key)?;
        as_uint(v).ok_or_else(|| self.bad(key, "not a non-negative integer"))
    }

    /// A signed integer: a JSON integer or a string of digits with an optional `-`.
    pub(crate) fn int(&self, key: &str) -> Result<i64> {
        let v = self.get(key)?;
        as_int(v).ok_or_else(|| self.bad(key, "not an integer"))
    }

    /// A non-negative integer that fits `u32`.
    pub(crate) fn u32(&self, key: &str) -> Result<u32> {
        u32::try_from(self.uint(key)?).map_err(|_| self.bad(key, "too large"))
    }

    /// A count of pieces: an integer from 1 to `u32::MAX`.
    pub(crate) fn count(&self, key: &str) -> Result<u32> {
        match self.u32(key)? {
            0 => Err(self.bad(key, "zero pieces")),
            n => Ok(n),
        }
    }

    /// A string or number field as text (codes); absent, `null` and empty are `None`.
    pub(crate) fn opt_text(&self, key: &str) -> Option<String> {
        match self.opt(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A boolean (`true`/`false`, or the strings `"true"`/`"false"`).
    pub(crate) fn boolean(&self, key: &str) -> Result<bool> {
        match self.get(key)? {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            _ => Err(self.bad(key, "not a boolean")),
        }
    }

    /// A non-negative amount, read exactly.
    pub(crate) fn money(&self, key: &str, unit: Unit, form: Form) -> Result<Money> {
        let v = self.get(key)?;
        let m = match (v, unit, form) {
            (Value::String(s), Unit::Yuan, _) => yuan_text(s),
            (Value::Number(n), Unit::Yuan, Form::NumberOrString) => yuan_text(&n.to_string()),
            (Value::Number(_), Unit::Yuan, Form::String) => Err("a number where yuan text is expected".to_owned()),
            (_, Unit::Fen, _) => as_int(v).map(Money::from_cents).ok_or_else(|| "not an integer of fen".to_owned()),
            _ => Err("not an amount".to_owned()),
        }
        .map_err(|why| self.bad(key, why))?;
        if m.is_negative() {
            return Err(self.bad(key, "negative amount"));
        }
        Ok(m)
    }

    /// A time as `yyyy-MM-dd HH:mm:ss` in Beijing time.
    pub(crate) fn beijing_time(&self, key: &str) -> Result<DateTime<Utc>> {
        let text = self.str(key)?;
        time::parse_beijing(text).ok_or_else(|| self.bad(key, "not a time (yyyy-MM-dd HH:mm:ss)"))
    }

    /// Like [`Obj::beijing_time`], absent, `null` or empty being `None`.
    pub(crate) fn opt_beijing_time(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(text) => {
                time::parse_beijing(text).map(Some).ok_or_else(|| self.bad(key, "not a time (yyyy-MM-dd HH:mm:ss)"))
            }
        }
    }

    /// A time as Unix seconds (integer or digit string).
    pub(crate) fn unix_time(&self, key: &str) -> Result<DateTime<Utc>> {
        let secs = self.int(key)?;
        time::from_unix(secs).ok_or_else(|| self.bad(key, "time out of range"))
    }

    /// A time given either as Unix seconds or as Beijing-time text.
    pub(crate) fn any_time(&self, key: &str) -> Result<DateTime<Utc>> {
        match self.get(key)? {
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => self.unix_time(key),
            Value::String(_) => self.beijing_time(key),
            _ => self.unix_time(key),
        }
    }

    /// Like [`Obj::any_time`], absent, `null`, empty and `0` being `None`.
    pub(crate) fn opt_any_time(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() || s == "0" => Ok(None),
            Some(v) if as_int(v) == Some(0) => Ok(None),
            Some(_) => self.any_time(key).map(Some),
        }
    }
}

fn is_integer(n: &Number) -> bool {
    n.as_u64().is_some() || n.as_i64().is_some()
}

fn as_uint(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
        }
        _ => None,
    }
}

/// Yuan from decimal text, exactly: `"12.3"` is 12.30; `"6.155"` is refused, never rounded.
/// JSON's exponent form (`1.23e1`) is accepted because it is still exact text.
pub(crate) fn yuan_text(text: &str) -> std::result::Result<Money, String> {
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).map_err(|_| ParseError::NotANumber).and_then(Money::from_decimal)
    } else {
        Money::parse(text)
    };
    parsed.map_err(|e| match e {
        ParseError::TooManyDecimals(_) => "more than 2 decimals of yuan".to_owned(),
        ParseError::NotANumber => "not a decimal amount of yuan".to_owned(),
        other => other.to_string(),
    })
}

/// The top-level object of an answer (its fields are named without a prefix).
pub(crate) fn root(value: &Value) -> Result<Obj<'_>> {
    Obj::new(value, "")
}

/// Canonical JSON: keys sorted (byte order) at every level, no whitespace, `/` and non-ASCII
/// left as they are, numbers as their exact text. Sorting is done here rather than relying on
/// `serde_json::Map` being a `BTreeMap`, which another crate's `preserve_order` feature would
/// silently change.
pub(crate) fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string with the escapes JSON requires and no others (as `serde_json` writes it).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_at_every_level_without_spaces_or_escapes() {
        let v = json!({"z": 1, "a": {"y": [3, {"d": "/path/路径", "c": null}], "b": true}, "m": "引号\"\\\n\u{1}"});
        assert_eq!(
            canonical(&v),
            r#"{"a":{"b":true,"y":[3,{"c":null,"d":"/path/路径"}]},"m":"引号\"\\\n\u0001","z":1}"#
        );
    }

    #[test]
    fn canonical_agrees_with_serde_json_when_its_map_is_sorted() {
        // Without `preserve_order` serde_json's Map is a BTreeMap and its compact output is the
        // canonical form; the hand-written writer must agree byte for byte.
        let v: Value = serde_json::from_str(
            r#"{"update_time_start": 1764547200, "size": 100, "order_by": ["update_time asc"],
                "x": {"b": "a/b", "a": "中文\t", "c": 12.30, "d": -0, "e": 1e5}, "order_asc": false}"#,
        )
        .unwrap();
        assert_eq!(canonical(&v), serde_json::to_string(&v).unwrap());
        // Numbers keep their exact text.
        assert!(canonical(&v).contains(r#""c":12.30"#));
    }

    #[test]
    fn yuan_text_is_exact() {
        assert_eq!(yuan_text("12.3").unwrap().cents(), 1230);
        assert_eq!(yuan_text("6.15").unwrap().cents(), 615);
        assert_eq!(yuan_text("0").unwrap().cents(), 0);
        assert_eq!(yuan_text("1.23e1").unwrap().cents(), 1230);
        assert_eq!(yuan_text("12.300").unwrap().cents(), 1230);
        assert_eq!(yuan_text("6.155").unwrap_err(), "more than 2 decimals of yuan");
        assert_eq!(yuan_text("0.1e-2").unwrap_err(), "more than 2 decimals of yuan");
        assert!(yuan_text("abc").is_err());
    }

    #[test]
    fn fields_report_their_path() {
        let v: Value = serde_json::from_str(
            r#"{"a": {"n": "x", "m": 6.155, "f": 1.5, "id": 1234567890123456789, "t": "2025-12-01 08:00:00"}}"#,
        )
        .unwrap();
        let root = root(&v).unwrap();
        let at = path(root.at(), "a");
        let a = root.obj("a", &at).unwrap();
        assert_eq!(a.id("id").unwrap(), "1234567890123456789");
        assert_eq!(a.uint("n"), Err(PlatformError::Malformed("a.n: not a non-negative integer".into())));
        assert_eq!(a.str("zz"), Err(PlatformError::Malformed("a.zz: missing".into())));
        assert_eq!(
            a.money("m", Unit::Yuan, Form::NumberOrString),
            Err(PlatformError::Malformed("a.m: more than 2 decimals of yuan".into()))
        );
        assert!(a.money("f", Unit::Fen, Form::NumberOrString).is_err());
        assert!(a.money("f", Unit::Yuan, Form::String).is_err());
        assert_eq!(a.any_time("t").unwrap().to_rfc3339(), "2025-12-01T00:00:00+00:00");
        assert!(a.id("t").is_ok());
        assert!(a.list("zz").unwrap().is_empty());
        assert!(a.list("n").is_err());
        assert_eq!(parse(b"{\"a\": secret-stuff"), Err(PlatformError::Malformed("not JSON (line 1 column 7)".into())));
    }
}
