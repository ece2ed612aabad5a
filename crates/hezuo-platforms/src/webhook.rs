//! Outgoing webhooks, Standard Webhooks 1.0 (PLATFORMS.md §5): the endpoint secret, the
//! signature, and the retry schedule.
//!
//! A delivery is `POST url` with the payload bytes and the headers [`HEADER_ID`] (the message
//! id, the same on every retry), [`HEADER_TIMESTAMP`] (Unix seconds of the attempt) and
//! [`HEADER_SIGNATURE`] (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the
//! base64-decoded secret). Randomness (a new secret's bytes, a delay's jitter) and the clock are
//! parameters.

use crate::backoff::jitter;
use crate::crypto;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::Mac;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// docs/integrations.md, whose Rust example of verifying a delivery runs as a documentation test.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/integrations.md")]
pub struct IntegrationsDoc;

/// The prefix of an endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The header with the message id.
pub const HEADER_ID: &str = "webhook-id";
/// The header with the attempt's Unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header with the signature(s).
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// A delivery succeeds with a 2xx answer within this time.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest payload sent, in bytes (payloads stay under 20 kB).
pub const MAX_PAYLOAD_BYTES: usize = 20_000;
/// The default delays between attempts, in seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18000, 36000, 36000];
/// After a 429 or 503 answer the next attempt waits at least this long.
pub const BUSY_MIN_WAIT: Duration = Duration::from_secs(60);
/// A `Retry-After` longer than this is cut to it: an endpoint cannot park a delivery forever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// An endpoint whose deliveries have only failed for this long is disabled.
pub const DISABLE_AFTER_FAILING: Duration = Duration::from_secs(5 * 24 * 3600);
/// How far a receiver accepts a `webhook-timestamp` from its own clock.
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Why a secret is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The part after `whsec_` is not standard base64.
    #[error("the webhook secret is not base64 after `whsec_`")]
    NotBase64,
    /// The secret decodes to no bytes.
    #[error("the webhook secret is empty")]
    Empty,
}

/// An endpoint's signing key (the decoded bytes of `whsec_…`). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A new endpoint secret from 32 random bytes the caller draws: `whsec_` + base64.
pub fn generate_secret(random: [u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

impl Secret {
    /// Reads `whsec_` + base64 (the prefix may be left out, as Standard Webhooks allows).
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::NotBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret { key })
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = crypto::hmac_sha256(&self.key);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value: `v1,` + base64(HMAC-SHA256(key, `id.timestamp.body`)).
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(msg_id, timestamp, body).finalize().into_bytes()))
    }

    /// Whether any of the space-separated `v1,…` signatures in `header` is this secret's
    /// signature of the message (compared in constant time; other versions are ignored). The
    /// timestamp's freshness is a separate check: [`timestamp_is_fresh`].
    pub fn verify(&self, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let mac = self.mac(msg_id, timestamp, body);
        header
            .split_whitespace()
            .filter_map(|item| item.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, signature)| STANDARD.decode(signature).ok())
            .any(|signature| mac.clone().verify_slice(&signature).is_ok())
    }
}

/// Signs with a `whsec_…` secret given as text.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, SecretError> {
    Ok(Secret::parse(secret)?.sign(msg_id, timestamp, body))
}

/// Whether a `webhook-timestamp` is within [`TIMESTAMP_TOLERANCE`] of `now` (either way).
pub fn timestamp_is_fresh(timestamp: i64, now: DateTime<Utc>) -> bool {
    let tolerance = i64::try_from(TIMESTAMP_TOLERANCE.as_secs()).unwrap_or(i64::MAX);
    now.timestamp().checked_sub(timestamp).is_some_and(|d| d.abs() <= tolerance)
}

/// What an attempt's answer means for the delivery and the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer (within the timeout): delivered.
    Delivered,
    /// 410 Gone: disable the endpoint at once.
    Gone,
    /// Anything else (another status, a timeout, a refused connection, a redirect, which is
    /// not followed): retry per the schedule.
    Retry,
}

/// The outcome of an attempt that got `status` (`None`: no answer in time).
pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Retry,
    }
}

/// Why a retry schedule could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Nothing was given.
    #[error("the retry schedule is empty")]
    Empty,
    /// An item is not a whole number of seconds.
    #[error("retry schedule item {position} ({item:?}) is not a whole number of seconds")]
    NotSeconds {
        /// 1-based position of the item.
        position: usize,
        /// The item as written.
        item: String,
    },
    /// An item is zero: a retry at once would hammer the endpoint.
    #[error("retry schedule item {position} is zero")]
    Zero {
        /// 1-based position of the item.
        position: usize,
    },
}

/// The delays between delivery attempts: the n-th delay is waited after the n-th failed
/// attempt; when they run out the delivery is dead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> RetrySchedule {
        RetrySchedule { delays: DEFAULT_SCHEDULE.iter().map(|s| Duration::from_secs(*s)).collect() }
    }
}

impl RetrySchedule {
    /// Reads comma-separated seconds (`"5,300,1800"`; spaces around items allowed).
    pub fn parse(text: &str) -> Result<RetrySchedule, ScheduleError> {
        if text.trim().is_empty() {
            return Err(ScheduleError::Empty);
        }
        let mut delays = Vec::new();
        for (i, item) in text.split(',').enumerate() {
            let position = i + 1;
            let item = item.trim();
            if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ScheduleError::NotSeconds { position, item: item.to_owned() });
            }
            let secs: u64 = item.parse().map_err(|_| ScheduleError::NotSeconds { position, item: item.to_owned() })?;
            if secs == 0 {
                return Err(ScheduleError::Zero { position });
            }
            delays.push(Duration::from_secs(secs));
        }
        Ok(RetrySchedule { delays })
    }

    /// The delays, in order.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How many retries follow the first attempt.
    pub fn retries(&self) -> usize {
        self.delays.len()
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;
    fn from_str(text: &str) -> Result<RetrySchedule, ScheduleError> {
        RetrySchedule::parse(text)
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs: Vec<String> = self.delays.iter().map(|d| d.as_secs().to_string()).collect();
        f.write_str(&secs.join(","))
    }
}

/// The wait before the next attempt, after `attempts` failed ones (1 after the first failure),
/// or `None` when the schedule is exhausted: the delivery is dead.
///
/// The scheduled delay gets ±20 % jitter (`jitter_permille` in `[-1000, 1000]`, see
/// [`crate::backoff::jitter`]); after a 429 or 503 it is at least [`BUSY_MIN_WAIT`]; a
/// `Retry-After` is honoured as a minimum too (cut to [`MAX_RETRY_AFTER`]), never as a way to
/// retry sooner than the schedule.
pub fn next_delay(
    attempts: u32,
    schedule: &RetrySchedule,
    jitter_permille: i32,
    retry_after: Option<Duration>,
    status: Option<u16>,
) -> Option<Duration> {
    let index = usize::try_from(attempts.max(1) - 1).ok()?;
    let mut delay = jitter(*schedule.delays.get(index)?, jitter_permille);
    if matches!(status, Some(429 | 503)) {
        delay = delay.max(BUSY_MIN_WAIT);
    }
    if let Some(asked) = retry_after {
        delay = delay.max(asked.min(MAX_RETRY_AFTER));
    }
    Some(delay)
}

/// Reads a `Retry-After` header: delta-seconds (`"120"`) or an HTTP date (`"Wed, 21 Oct 2015
/// 07:28:00 GMT"`, measured from `now`; a past date is zero). Anything else is `None`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";

    #[test]
    fn known_answer_from_the_spec() {
        // python3 -c 'import hmac,hashlib,base64; k=base64.b64decode("C2FVsBQIhrscChlQIMV+b5sSYspob7oD"); m=b"msg_27UH4WbU6Z5A5EzD8u03UvzRbpk.1649367553."+b"{\"email\":\"test@example.com\",\"username\":\"test_user\"}"; print("v1,"+base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())'
        assert_eq!(sign(SECRET, ID, 1649367553, BODY).unwrap(), "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        // Without the prefix, too.
        assert_eq!(
            sign("C2FVsBQIhrscChlQIMV+b5sSYspob7oD", ID, 1649367553, BODY).unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn generated_secret_signs_utf8_bodies() {
        let secret = generate_secret(core::array::from_fn(|i| u8::try_from(i).unwrap()));
        // python3 -c 'import base64; print("whsec_"+base64.b64encode(bytes(range(32))).decode())'
        assert_eq!(secret, "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        let s = Secret::parse(&secret).unwrap();
        // python3 -c 'import hmac,hashlib,base64; m="msg_2a.1764554400.".encode()+"{\"type\":\"order.created\",\"data\":{\"note\":\"苹果\"}}".encode(); print("v1,"+base64.b64encode(hmac.new(bytes(range(32)),m,hashlib.sha256).digest()).decode())'
        let body = r#"{"type":"order.created","data":{"note":"苹果"}}"#.as_bytes();
        assert_eq!(s.sign("msg_2a", 1764554400, body), "v1,pQuZN4GOSDTR+jvdUT0MJo7w6BauviLWWZjACnWljjk=");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn verify_accepts_any_listed_v1_signature() {
        let s = Secret::parse(SECRET).unwrap();
        let good = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        assert!(s.verify(ID, 1649367553, BODY, good));
        assert!(s.verify(ID, 1649367553, BODY, &format!("v1,AAAA {good}")));
        assert!(s.verify(ID, 1649367553, BODY, &format!("v1a,xyz  v2,abc {good} v1,!!notbase64")));
        assert!(!s.verify(ID, 1649367554, BODY, good));
        assert!(!s.verify("msg_other", 1649367553, BODY, good));
        assert!(!s.verify(ID, 1649367553, b"{}", good));
        assert!(!s.verify(ID, 1649367553, BODY, "v2,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="));
        assert!(!s.verify(ID, 1649367553, BODY, ""));
        // A truncated signature never matches.
        assert!(!s.verify(ID, 1649367553, BODY, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3"));
        let other = Secret::parse(&generate_secret([7; 32])).unwrap();
        assert!(!other.verify(ID, 1649367553, BODY, good));
    }

    #[test]
    fn bad_secrets() {
        assert_eq!(Secret::parse("whsec_not base64!"), Err(SecretError::NotBase64));
        assert_eq!(Secret::parse("whsec_"), Err(SecretError::Empty));
        assert!(sign("whsec_%%%", ID, 1, BODY).is_err());
    }

    #[test]
    fn timestamps_within_five_minutes() {
        let now = Utc.with_ymd_and_hms(2022, 4, 7, 21, 39, 13).unwrap();
        assert_eq!(now.timestamp(), 1649367553);
        assert!(timestamp_is_fresh(1649367553, now));
        assert!(timestamp_is_fresh(1649367553 - 300, now));
        assert!(timestamp_is_fresh(1649367553 + 300, now));
        assert!(!timestamp_is_fresh(1649367553 - 301, now));
        assert!(!timestamp_is_fresh(i64::MIN, now));
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(Some(200)), Outcome::Delivered);
        assert_eq!(outcome(Some(204)), Outcome::Delivered);
        assert_eq!(outcome(Some(410)), Outcome::Gone);
        for status in [Some(301), Some(400), Some(429), Some(500), Some(503), None] {
            assert_eq!(outcome(status), Outcome::Retry, "{status:?}");
        }
    }

    #[test]
    fn schedule_parses_and_refuses_junk() {
        let s = RetrySchedule::parse("5,300,1800,7200,18000,36000,36000").unwrap();
        assert_eq!(s, RetrySchedule::default());
        assert_eq!(s.to_string(), "5,300,1800,7200,18000,36000,36000");
        assert_eq!(s.retries(), 7);
        assert_eq!(" 1, 2 ,3".parse::<RetrySchedule>().unwrap().delays(), [1, 2, 3].map(Duration::from_secs));
        assert_eq!(RetrySchedule::parse(""), Err(ScheduleError::Empty));
        assert_eq!(RetrySchedule::parse("  "), Err(ScheduleError::Empty));
        assert_eq!(RetrySchedule::parse("5,0,6"), Err(ScheduleError::Zero { position: 2 }));
        assert_eq!(RetrySchedule::parse("5,,6"), Err(ScheduleError::NotSeconds { position: 2, item: String::new() }));
        assert_eq!(RetrySchedule::parse("5,1.5"), Err(ScheduleError::NotSeconds { position: 2, item: "1.5".into() }));
        assert_eq!(RetrySchedule::parse("5m"), Err(ScheduleError::NotSeconds { position: 1, item: "5m".into() }));
        assert_eq!(RetrySchedule::parse("-5"), Err(ScheduleError::NotSeconds { position: 1, item: "-5".into() }));
        assert_eq!(
            RetrySchedule::parse("99999999999999999999999"),
            Err(ScheduleError::NotSeconds { position: 1, item: "99999999999999999999999".into() })
        );
        assert_eq!(ScheduleError::Zero { position: 2 }.to_string(), "retry schedule item 2 is zero");
    }

    #[test]
    fn next_delay_follows_the_schedule_then_dies() {
        let s = RetrySchedule::default();
        let plain: Vec<Option<u64>> =
            (1..=8).map(|a| next_delay(a, &s, 0, None, Some(500)).map(|d| d.as_secs())).collect();
        assert_eq!(
            plain,
            vec![Some(5), Some(300), Some(1800), Some(7200), Some(18000), Some(36000), Some(36000), None]
        );
        assert_eq!(next_delay(0, &s, 0, None, None), Some(Duration::from_secs(5)));
        // Jitter ±20 %.
        assert_eq!(next_delay(2, &s, 1000, None, None), Some(Duration::from_secs(360)));
        assert_eq!(next_delay(2, &s, -1000, None, None), Some(Duration::from_secs(240)));
        assert_eq!(next_delay(1, &s, -1000, None, None), Some(Duration::from_secs(4)));
    }

    #[test]
    fn busy_answers_and_retry_after_are_minimums() {
        let s = RetrySchedule::default();
        assert_eq!(next_delay(1, &s, 0, None, Some(429)), Some(Duration::from_secs(60)));
        assert_eq!(next_delay(1, &s, 0, None, Some(503)), Some(Duration::from_secs(60)));
        assert_eq!(next_delay(2, &s, 0, None, Some(503)), Some(Duration::from_secs(300)));
        assert_eq!(next_delay(1, &s, 0, Some(Duration::from_secs(120)), Some(503)), Some(Duration::from_secs(120)));
        assert_eq!(next_delay(2, &s, 0, Some(Duration::from_secs(10)), Some(500)), Some(Duration::from_secs(300)));
        assert_eq!(next_delay(1, &s, 0, Some(Duration::from_secs(10_000_000)), None), Some(MAX_RETRY_AFTER));
        // Exhausted stays exhausted whatever the endpoint asks.
        assert_eq!(next_delay(8, &s, 0, Some(Duration::from_secs(1)), Some(429)), None);
        // A test schedule in seconds.
        let fast = RetrySchedule::parse("1,1,2").unwrap();
        assert_eq!(next_delay(3, &fast, 0, None, Some(500)), Some(Duration::from_secs(2)));
        assert_eq!(next_delay(4, &fast, 0, None, Some(500)), None);
    }

    #[test]
    fn retry_after_header() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
