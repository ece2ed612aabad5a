//! Platform time formats: Beijing-time text (`yyyy-MM-dd HH:mm:ss`, GMT+8) and Unix seconds.
//!
//! Beijing time is the fixed offset +08:00: China has kept it all year since 1991, so a fixed
//! offset and the `Asia/Shanghai` zone agree on every date a platform can send.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// GMT+8, the offset of every platform's text times.
pub const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("+08:00 is a valid offset"),
};

const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// `t` as `yyyy-MM-dd HH:mm:ss` in Beijing time (sub-seconds dropped).
pub fn format_beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&BEIJING).format(FORMAT).to_string()
}

/// Reads `yyyy-MM-dd HH:mm:ss` as Beijing time.
pub fn parse_beijing(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, FORMAT).ok()?;
    naive.and_local_timezone(BEIJING).single().map(|t| t.with_timezone(&Utc))
}

/// The instant `secs` seconds after the Unix epoch.
pub fn from_unix(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn beijing_text_round_trips() {
        let t = Utc.with_ymd_and_hms(2025, 11, 30, 16, 30, 5).unwrap();
        assert_eq!(format_beijing(t), "2025-12-01 00:30:05");
        assert_eq!(parse_beijing("2025-12-01 00:30:05"), Some(t));
        assert_eq!(parse_beijing("2025-12-01T00:30:05"), None);
        assert_eq!(parse_beijing("2025-13-01 00:30:05"), None);
        assert_eq!(parse_beijing(""), None);
        assert_eq!(from_unix(1_764_520_205), Some(t));
    }
}
