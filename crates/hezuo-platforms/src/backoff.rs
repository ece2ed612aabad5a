//! Waiting after a rate-limit answer (PLATFORMS.md §1): the platform's own wait when it says
//! one, otherwise exponential backoff with ±20 % jitter, all within a run's budget.
//!
//! Jitter is a parameter: the caller draws a per-mille value in `[-1000, 1000]` (−1000 is
//! −20 %, 1000 is +20 %) from whatever randomness it has. No floating point: delays are scaled
//! in integer nanoseconds.

use std::time::Duration;

/// The first backoff delay.
pub const BACKOFF_START: Duration = Duration::from_secs(1);
/// The longest backoff delay (jitter included).
pub const BACKOFF_CAP: Duration = Duration::from_secs(5 * 60);
/// The jitter span in per-mille of a delay: ±20 %.
pub const JITTER_SPAN_PERMILLE: i32 = 200;
/// How long a run keeps trying before it gives up (and keeps its cursor).
pub const RUN_BUDGET: Duration = Duration::from_secs(10 * 60);

/// `delay` scaled by `1 + 0.2 × jitter_permille / 1000`; `jitter_permille` is clamped to
/// `[-1000, 1000]`, so the result stays within ±20 % of `delay`. Exact to the nanosecond
/// (rounded down).
pub fn jitter(delay: Duration, jitter_permille: i32) -> Duration {
    const PARTS: u128 = 1_000_000;
    let j = jitter_permille.clamp(-1000, 1000);
    // 1_000_000 ± 200 × 1000 lies in [800_000, 1_200_000]: never negative.
    let factor = u128::try_from(1_000_000 + i64::from(JITTER_SPAN_PERMILLE) * i64::from(j)).unwrap_or(PARTS);
    let nanos = delay.as_nanos() * factor / PARTS;
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, sub)
}

/// The backoff before retry number `attempt` (0 for the first retry): 1 s, 2 s, 4 s, … doubling
/// up to 5 min, with ±20 % jitter, never more than [`BACKOFF_CAP`].
pub fn backoff(attempt: u32, jitter_permille: i32) -> Duration {
    let base = 2_u64
        .checked_pow(attempt)
        .and_then(|factor| BACKOFF_START.as_secs().checked_mul(factor))
        .map_or(BACKOFF_CAP, Duration::from_secs)
        .min(BACKOFF_CAP);
    jitter(base, jitter_permille).min(BACKOFF_CAP)
}

/// How long to wait after a throttled answer: what the platform said (Taobao's "This ban will
/// last for N more seconds"), or else [`backoff()`].
pub fn throttle_wait(platform_wait: Option<Duration>, attempt: u32, jitter_permille: i32) -> Duration {
    platform_wait.unwrap_or_else(|| backoff(attempt, jitter_permille))
}

/// Whether waiting `wait` more still ends within the run's budget, `elapsed` having passed since
/// the run began. When it does not, the run gives up now rather than sleeping past its budget.
pub fn within_budget(elapsed: Duration, wait: Duration) -> bool {
    elapsed.checked_add(wait).is_some_and(|end| end <= RUN_BUDGET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_one_second_to_five_minutes() {
        let secs: Vec<u64> = (0..12).map(|a| backoff(a, 0).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX, 0), BACKOFF_CAP);
        assert_eq!(backoff(64, 0), BACKOFF_CAP);
    }

    #[test]
    fn jitter_is_plus_or_minus_twenty_percent() {
        assert_eq!(backoff(0, -1000), Duration::from_millis(800));
        assert_eq!(backoff(0, 1000), Duration::from_millis(1200));
        assert_eq!(backoff(0, 500), Duration::from_millis(1100));
        assert_eq!(backoff(3, -250), Duration::from_millis(7600));
        // Clamped beyond ±1000.
        assert_eq!(backoff(0, 5000), Duration::from_millis(1200));
        assert_eq!(backoff(0, i32::MIN), Duration::from_millis(800));
        // Never above the cap, even jittered up.
        assert_eq!(backoff(9, 1000), BACKOFF_CAP);
        assert_eq!(backoff(9, -1000), Duration::from_secs(240));
        assert_eq!(jitter(Duration::from_nanos(3), 1), Duration::from_nanos(3));
        assert_eq!(jitter(Duration::from_secs(36000), -1000), Duration::from_secs(28800));
    }

    #[test]
    fn platform_wait_wins_and_budget_is_ten_minutes() {
        assert_eq!(throttle_wait(Some(Duration::from_secs(3)), 5, 1000), Duration::from_secs(3));
        assert_eq!(throttle_wait(None, 1, 0), Duration::from_secs(2));
        assert_eq!(RUN_BUDGET, Duration::from_secs(600));
        assert!(within_budget(Duration::from_secs(590), Duration::from_secs(10)));
        assert!(!within_budget(Duration::from_secs(590), Duration::from_secs(11)));
        assert!(!within_budget(Duration::ZERO, Duration::from_secs(3600)));
        assert!(!within_budget(Duration::MAX, Duration::from_secs(1)));
    }
}
