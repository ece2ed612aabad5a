//! Window planning and paging (PLATFORMS.md §1), pure arithmetic on times the caller passes.

use chrono::{DateTime, TimeDelta, Utc};
use std::ops::RangeInclusive;

/// How far back each window is read before its start: rows the platform stamped early but
/// committed late are not missed.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(5);

/// How far behind `now` the last window ends: the newest minute is left for the next run.
pub const SETTLE: TimeDelta = TimeDelta::seconds(60);

/// A closed window `[from, to)` of platform modified times.
///
/// It is *read* from [`Window::read_from`] (`from − OVERLAP`) to `to`; once its orders and
/// refunds are all committed, the feed's cursor moves to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Start of the window (the cursor before it).
    pub from: DateTime<Utc>,
    /// End of the window (the cursor after it), exclusive.
    pub to: DateTime<Utc>,
}

impl Window {
    /// The window `[from, to)`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Window {
        Window { from, to }
    }

    /// Where the requests for this window start: `from − OVERLAP`.
    pub fn read_from(&self) -> DateTime<Utc> {
        self.from - OVERLAP
    }

    /// The span a request for this window covers (`to − read_from`).
    pub fn read_span(&self) -> TimeDelta {
        self.to - self.read_from()
    }
}

/// The windows of a run: consecutive, covering `[cursor, end)` where `end` is `now − SETTLE`
/// truncated to the whole second (every platform's time format has whole seconds).
///
/// `max` is the longest span a *request* may cover, overlap included (Pinduoduo refuses more
/// than 30 minutes between `start_updated_at` and `end_updated_at`): each window therefore
/// advances the cursor by at most `max − OVERLAP`, and `to − read_from ≤ max` always holds. The
/// last window is shorter when the time left is. Nothing is planned when `end ≤ cursor` or
/// `max` is not positive. (A `max` not longer than the overlap, which no platform has, advances
/// by `max` itself.)
///
/// The iterator is lazy: a cursor years behind costs nothing until it is walked.
pub fn windows(cursor: DateTime<Utc>, now: DateTime<Utc>, max: TimeDelta) -> Windows {
    let end = now - SETTLE;
    let end = end - TimeDelta::nanoseconds(i64::from(end.timestamp_subsec_nanos()));
    let step = if max > OVERLAP { max - OVERLAP } else { max };
    Windows { next: cursor, end, step }
}

/// The lazy sequence of [`Window`]s returned by [`windows`].
#[derive(Debug, Clone)]
pub struct Windows {
    next: DateTime<Utc>,
    end: DateTime<Utc>,
    step: TimeDelta,
}

impl Iterator for Windows {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        if self.step <= TimeDelta::zero() || self.next >= self.end {
            return None;
        }
        let to = match self.next.checked_add_signed(self.step) {
            Some(t) if t < self.end => t,
            _ => self.end,
        };
        let window = Window::new(self.next, to);
        self.next = to;
        Some(window)
    }
}

/// How many pages of `page_size` rows hold `total` rows (0 for an empty window or a page size
/// of 0).
pub fn page_count(total: u64, page_size: u32) -> u64 {
    if page_size == 0 { 0 } else { total.div_ceil(u64::from(page_size)) }
}

/// The pages to read, last page first, for `total` rows in pages of `page_size` numbered from
/// `first_page` (1 for Taobao and Pinduoduo, 0 for Douyin).
///
/// Results come newest first, so reading backwards means a row modified during the read shows
/// up twice rather than never. With `total = 0` there is nothing to read: the iterator is empty
/// (the page that told the total was the whole answer). Page numbers stop at `u32::MAX`.
pub fn pages_backwards(total: u64, page_size: u32, first_page: u32) -> std::iter::Rev<RangeInclusive<u32>> {
    let count = page_count(total, page_size);
    if count == 0 {
        // An empty range: `1..=0`.
        return RangeInclusive::new(1, 0).rev();
    }
    let last = u32::try_from(u64::from(first_page) + (count - 1)).unwrap_or(u32::MAX);
    (first_page..=last).rev()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 12, 1, h, m, s).unwrap()
    }

    #[test]
    fn windows_cover_cursor_to_now_minus_a_minute() {
        // 30-minute request limit: 25-minute steps, each read from 5 minutes earlier.
        let all: Vec<Window> = windows(t(10, 0, 0), t(11, 0, 0), TimeDelta::minutes(30)).collect();
        assert_eq!(
            all,
            vec![
                Window::new(t(10, 0, 0), t(10, 25, 0)),
                Window::new(t(10, 25, 0), t(10, 50, 0)),
                Window::new(t(10, 50, 0), t(10, 59, 0)),
            ]
        );
        assert_eq!(all[0].read_from(), t(9, 55, 0));
        assert_eq!(all[2].read_from(), t(10, 45, 0));
        assert!(all.iter().all(|w| w.read_span() <= TimeDelta::minutes(30)));
        assert_eq!(all[0].read_span(), TimeDelta::minutes(30));
        // Consecutive: each starts where the previous ended.
        assert!(all.windows(2).all(|p| p[0].to == p[1].from));
    }

    #[test]
    fn exact_boundaries() {
        // Exactly one full step left.
        let all: Vec<Window> = windows(t(10, 0, 0), t(10, 26, 0), TimeDelta::minutes(30)).collect();
        assert_eq!(all, vec![Window::new(t(10, 0, 0), t(10, 25, 0))]);
        // One second more than a step: a 1-second last window.
        let all: Vec<Window> = windows(t(10, 0, 0), t(10, 26, 1), TimeDelta::minutes(30)).collect();
        assert_eq!(all, vec![Window::new(t(10, 0, 0), t(10, 25, 0)), Window::new(t(10, 25, 0), t(10, 25, 1))]);
        // Douyin: a day's limit.
        let all: Vec<Window> = windows(t(0, 0, 0), t(0, 0, 0) + TimeDelta::days(2), TimeDelta::days(1)).collect();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].to - all[0].from, TimeDelta::days(1) - OVERLAP);
        assert_eq!(all[2].to, t(0, 0, 0) + TimeDelta::days(2) - SETTLE);
    }

    #[test]
    fn nothing_when_the_cursor_is_within_the_last_minute() {
        assert_eq!(windows(t(10, 0, 0), t(10, 1, 0), TimeDelta::minutes(30)).count(), 0);
        assert_eq!(windows(t(10, 0, 0), t(10, 0, 30), TimeDelta::minutes(30)).count(), 0);
        assert_eq!(windows(t(10, 0, 0), t(9, 0, 0), TimeDelta::minutes(30)).count(), 0);
        assert_eq!(windows(t(10, 0, 0), t(10, 1, 1), TimeDelta::minutes(30)).count(), 1);
        assert_eq!(windows(t(10, 0, 0), t(12, 0, 0), TimeDelta::zero()).count(), 0);
    }

    #[test]
    fn end_is_truncated_to_the_second() {
        let now = t(10, 10, 0) + TimeDelta::milliseconds(999);
        let all: Vec<Window> = windows(t(10, 0, 0), now, TimeDelta::minutes(30)).collect();
        assert_eq!(all, vec![Window::new(t(10, 0, 0), t(10, 9, 0))]);
    }

    #[test]
    fn a_long_backlog_is_lazy() {
        let far = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let mut it = windows(far, t(0, 0, 0), TimeDelta::minutes(30));
        assert_eq!(it.next(), Some(Window::new(far, far + TimeDelta::minutes(25))));
    }

    #[test]
    fn pages_are_read_backwards() {
        let p = |total, size, first| pages_backwards(total, size, first).collect::<Vec<u32>>();
        assert_eq!(p(250, 100, 1), vec![3, 2, 1]);
        assert_eq!(p(250, 100, 0), vec![2, 1, 0]);
        assert_eq!(p(200, 100, 1), vec![2, 1]);
        assert_eq!(p(201, 100, 1), vec![3, 2, 1]);
        assert_eq!(p(1, 100, 0), vec![0]);
        assert_eq!(p(0, 100, 1), Vec::<u32>::new());
        assert_eq!(p(10, 0, 1), Vec::<u32>::new());
        assert_eq!(page_count(250, 100), 3);
        assert_eq!(page_count(0, 100), 0);
        assert_eq!(pages_backwards(u64::MAX, 1, 1).next(), Some(u32::MAX));
    }
}
