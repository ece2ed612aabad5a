//! Values of statement fields: times in a zone, and exact money totals for control checks.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// What a time field may look like, for error messages.
pub(crate) const TIME_FORMATS: &str = "2026-10-01 12:00:00, 2026-10-01 or RFC 3339 (2026-10-01T12:00:00+08:00)";

/// `YYYY-MM-DD HH:MM:SS` read without a parser first (statements repeat it a million times),
/// else every form the catalog import reads (RFC 3339, local dates and times with `-` or `/`).
pub(crate) fn parse_time(v: &str, tz: Tz) -> Option<DateTime<Utc>> {
    match fast_local(v.as_bytes()) {
        Some(local) => tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
        None => hezuo_catalog::import::parse_time(v, tz),
    }
}

/// `YYYY-MM-DD HH:MM:SS` without chrono's format interpreter: it is the shape of nearly every
/// row and dominates parse time otherwise.
fn fast_local(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?)?.and_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)
}

/// `cents` as `123.45`, for totals summed in `i128` (they cannot overflow there).
pub(crate) fn format_cents(cents: i128) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    fn t(v: &str) -> Option<String> {
        parse_time(v, SH).map(|t| t.to_rfc3339())
    }

    #[test]
    fn times_parse_in_the_zone_or_with_their_offset() {
        assert_eq!(t("2026-10-01 08:30:05").as_deref(), Some("2026-10-01T00:30:05+00:00"));
        assert_eq!(t("2026-10-01").as_deref(), Some("2026-09-30T16:00:00+00:00"));
        assert_eq!(t("2026/10/01 08:30:05").as_deref(), Some("2026-10-01T00:30:05+00:00"));
        assert_eq!(t("2026-10-01T08:30:05Z").as_deref(), Some("2026-10-01T08:30:05+00:00"));
        assert_eq!(t("2026-10-01T08:30:05+08:00").as_deref(), Some("2026-10-01T00:30:05+00:00"));
        for bad in ["", "2026-13-01", "2026-02-30 00:00:00", "2026-10-01 24:00:00", "1/10/2026", "2026-1０-01 00:00:00"]
        {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_cents() {
        assert_eq!(format_cents(30000), "300.00");
        assert_eq!(format_cents(-5), "-0.05");
        assert_eq!(format_cents(0), "0.00");
    }
}
