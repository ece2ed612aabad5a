//! Extractors whose rejections use the API's error envelope: a JSON body, path ids, query
//! strings and the authenticated caller.

use crate::{AppState, error::ApiError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{StatusCode, header, request::Parts};
use hezuo_app::{Actor, Principal};
use serde::de::DeserializeOwned;

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 for broken
/// JSON, 422 for JSON that does not fit the request type (missing, unknown or mistyped
/// fields), naming the field.
pub struct ApiJson<T>(pub T);

fn is_json(parts_ct: Option<&axum::http::HeaderValue>) -> bool {
    let Some(ct) = parts_ct.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The field a serde error is about: the path to it (for a missing field, the path of its
/// parent plus the name in backticks that "missing field `x`" carries).
fn field_of(path: &serde_path_to_error::Path, message: &str) -> Option<String> {
    let mut field = path.to_string();
    if field == "." {
        field.clear();
    }
    if message.starts_with("missing field")
        && let Some(name) = message.split('`').nth(1)
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    Some(field)
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let normal = plain_numbers(bytes);
    let bytes: &[u8] = &normal;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = field_of(e.path(), &message);
                let text = message.split(" at line ").next().unwrap_or(&message).to_owned();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", text).with_field(field)
            }
            _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("malformed JSON: {message}")),
        }
    })?;
    de.end().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("malformed JSON: {e}")))?;
    if let Some(problem) = shape_problem(bytes) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", problem));
    }
    Ok(value)
}

/// The body with every JSON number written plainly: no exponent, no trailing zeros after the
/// point (`62.0` → `62`, `1e-06` → `0.000001`, `2.50` → `2.5`). The value is the same number,
/// exactly (nothing goes through a float), and JSON calls `62.0` an integer, so an id or a
/// count sent that way is read as one; money and rates never see an exponent.
fn plain_numbers(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            let from = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.extend_from_slice(&bytes[from..i]);
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let from = i;
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            let token = &bytes[from..i];
            match std::str::from_utf8(token).ok().and_then(plain_number) {
                Some(p) => out.extend_from_slice(p.as_bytes()),
                None => out.extend_from_slice(token),
            }
            continue;
        }
        out.push(b);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

/// A JSON number token in plain decimal form; `None` to leave it as it is (not a valid number,
/// or an exponent too large to write out).
fn plain_number(token: &str) -> Option<String> {
    let (negative, body) = token.strip_prefix('-').map_or((false, token), |b| (true, b));
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], body[at + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    if !(-64..=64).contains(&exp) {
        return None;
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if mantissa.contains('.') && frac.is_empty() {
        return None;
    }
    let digits: String = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    let (mut whole, mut fraction) = if point <= 0 {
        (String::from("0"), format!("{}{digits}", "0".repeat((-point) as usize)))
    } else if point as usize >= digits.len() {
        (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_owned(), digits[point as usize..].to_owned())
    };
    let trimmed = whole.trim_start_matches('0');
    whole = if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() };
    while fraction.ends_with('0') {
        fraction.pop();
    }
    let sign = if negative { "-" } else { "" };
    Some(if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") })
}

/// The key serde_json uses inside its own representation of exact numbers; a client that
/// sends it as an object key would pass an object off as a number.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// What serde accepts but the API does not, in JSON that has already parsed: a body that is
/// not an object, an array of arrays (serde would read a struct from an array), and serde's
/// private number token.
fn shape_problem(bytes: &[u8]) -> Option<&'static str> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[start] != b'{' {
        return Some("the body must be a JSON object");
    }
    let mut open: Vec<u8> = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let from = i;
                let mut escaped = false;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    escaped |= bytes[i] == b'\\';
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let raw = &bytes[from..=i.min(bytes.len() - 1)];
                let text = if escaped {
                    serde_json::from_slice::<String>(raw).ok()
                } else {
                    std::str::from_utf8(&raw[1..raw.len().saturating_sub(1)]).ok().map(str::to_owned)
                };
                if text.as_deref() == Some(NUMBER_TOKEN) {
                    return Some("a value is not of the expected type");
                }
            }
            b'[' => {
                if open.last() == Some(&b'[') {
                    return Some("an array of arrays is not accepted: send objects with named fields");
                }
                open.push(b'[');
            }
            b'{' => open.push(b'{'),
            b']' | b'}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is too large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A CSV file as the request body (`text/csv`; spreadsheets' other CSV types are accepted too).
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !matches!(
            mime.as_str(),
            "text/csv" | "application/csv" | "text/plain" | "application/vnd.ms-excel" | "application/octet-stream"
        ) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as Content-Type: text/csv",
            ));
        }
        Bytes::from_request(req, state).await.map(CsvBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the file is larger than the import limit",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
            }
        })
    }
}

/// A numeric id from the path; anything else names no object, so it is a 404.
pub struct Id(pub i64);

/// Two ids from the path (`/cooperatives/{id}/members/{member_id}`).
pub struct Ids(pub i64, pub i64);

pub(crate) fn id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>().map_err(|_| ApiError::not_found())
}

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(v) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
        Ok(Id(id(&v)?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((a, b)) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
        Ok(Ids(id(&a)?, id(&b)?))
    }
}

/// Query string parameters; a value of the wrong shape is a 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// The authenticated caller. Runs before any body is read, so a bad token is always a 401.
pub struct Caller(pub Principal, pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok());
        let token = header
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing bearer token"))?;
        let (principal, actor) = state.app.authenticate(token).await?;
        Ok(Caller(principal, actor))
    }
}

#[cfg(test)]
mod tests {
    use super::{plain_number, plain_numbers, shape_problem};

    #[test]
    fn numbers_are_written_plainly_and_exactly() {
        for (token, plain) in [
            ("62.0", "62"),
            ("1e-06", "0.000001"),
            ("1E+3", "1000"),
            ("2.50", "2.5"),
            ("-0.10", "-0.1"),
            ("12.345e1", "123.45"),
            ("0.0", "0"),
            ("5", "5"),
            ("3169474.0", "3169474"),
        ] {
            assert_eq!(plain_number(token).as_deref(), Some(plain), "{token}");
        }
        assert_eq!(plain_number("1e400"), None);
        let body = br#"{"a": 62.0, "b": "62.0", "c": [1e2, -2.50], "d": "x\"1.0"}"#;
        assert_eq!(
            String::from_utf8(plain_numbers(body).into_owned()).unwrap(),
            r#"{"a": 62, "b": "62.0", "c": [100, -2.5], "d": "x\"1.0"}"#
        );
    }

    #[test]
    fn shapes_serde_would_take() {
        assert!(shape_problem(b"[1, 2]").is_some());
        assert!(shape_problem(br#"{"lines": [[1, "2"]]}"#).is_some());
        assert!(shape_problem(br#"{"price": {"\u0024serde_json::private::Number": "1"}}"#).is_some());
        assert!(shape_problem(br#"{"lines": [{"a": [1]}], "name": "[[x]]"}"#).is_none());
    }
}
