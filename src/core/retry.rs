//! Backoff for failed refreshes and safe timer delays.

use super::{DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DELAY_MS, MAX_WAIT_MS};
use libm::floor;

/// Largest delay `setTimeout` honours; a larger one overflows the browser's
/// 32-bit timer and fires immediately (a known bug of Rust timer wrappers).
pub const MAX_TIMER_DELAY_MS: u64 = 2_147_483_647;

/// How a refresh cycle retries transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Refresh requests per cycle, the first one included.
    pub max_attempts: u32,
    /// First backoff step.
    pub base_delay_ms: u64,
    /// Largest backoff step before jitter.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay_ms: DEFAULT_BASE_DELAY_MS,
            max_delay_ms: DEFAULT_MAX_DELAY_MS,
        }
    }
}

/// Delay before retrying after failed `attempt` (1-based).
///
/// Exponential backoff with full jitter (`rand01 * min(cap, base * 2^(n-1))`)
/// spreads the retries of many tabs/users apart after an outage. A
/// server-sent `Retry-After` is a floor, and everything is capped at
/// [`MAX_WAIT_MS`] so no input can park the session for long.
pub fn backoff_delay_ms(
    policy: &RetryPolicy,
    attempt: u32,
    rand01: f64,
    retry_after_ms: Option<u64>,
) -> u64 {
    let doublings = attempt.saturating_sub(1);
    let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
    let ceiling = policy
        .base_delay_ms
        .saturating_mul(factor)
        .min(policy.max_delay_ms)
        .min(MAX_WAIT_MS);
    let jitter = scale(ceiling, rand01);
    jitter.max(retry_after_ms.unwrap_or(0)).min(MAX_WAIT_MS)
}

/// `floor(value * r)` with `r` forced into [0, 1); NaN counts as 0 so a bad
/// random source degrades to "retry at once" rather than misbehaving.
fn scale(value: u64, r: f64) -> u64 {
    let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
    // `value` <= MAX_WAIT_MS, far below 2^53, so the product is exact enough
    // and, being in [0, value], casts back safely.
    let scaled = floor(value as f64 * r);
    if scaled >= value as f64 {
        value.saturating_sub(1)
    } else if scaled > 0.0 {
        scaled as u64
    } else {
        0
    }
}

/// Milliseconds from `now_ms` until `at_ms`, saturated to what `setTimeout`
/// can represent. A clamped timer fires early and the session simply
/// re-arms, which is harmless; an overflowing one would fire at once forever.
pub fn clamp_timer_delay(at_ms: u64, now_ms: u64) -> u32 {
    let delay = at_ms.saturating_sub(now_ms).min(MAX_TIMER_DELAY_MS);
    u32::try_from(delay).unwrap_or(u32::MAX >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 1_000,
        max_delay_ms: 30_000,
    };

    #[test]
    fn exponential_ceiling_with_full_jitter() {
        let near_one = 0.999_999_999;
        let ceilings: Vec<u64> = (1..=7)
            .map(|a| backoff_delay_ms(&P, a, near_one, None) + 1)
            .collect();
        assert_eq!(
            ceilings,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
        );
        assert_eq!(backoff_delay_ms(&P, 3, 0.5, None), 2_000);
        assert_eq!(backoff_delay_ms(&P, 3, 0.0, None), 0);
        assert_eq!(backoff_delay_ms(&P, 0, 0.5, None), 500);
    }

    #[test]
    fn hostile_inputs_do_not_overflow() {
        assert!(backoff_delay_ms(&P, u32::MAX, 0.5, None) <= 30_000);
        let huge = RetryPolicy {
            max_attempts: u32::MAX,
            base_delay_ms: u64::MAX,
            max_delay_ms: u64::MAX,
        };
        assert!(backoff_delay_ms(&huge, u32::MAX, 0.999, None) <= MAX_WAIT_MS);
        assert!(backoff_delay_ms(&huge, 64, 1.0, Some(u64::MAX)) <= MAX_WAIT_MS);
        assert_eq!(backoff_delay_ms(&P, 2, f64::NAN, None), 0);
        assert_eq!(backoff_delay_ms(&P, 2, -3.0, None), 0);
        assert_eq!(backoff_delay_ms(&P, 2, 7.0, None), 1_999);
        assert_eq!(backoff_delay_ms(&P, 2, f64::INFINITY, None), 1_999);
        let zero = RetryPolicy {
            base_delay_ms: 0,
            ..P
        };
        assert_eq!(backoff_delay_ms(&zero, 3, 0.7, None), 0);
    }

    #[test]
    fn retry_after_is_a_floor_but_capped() {
        assert_eq!(backoff_delay_ms(&P, 1, 0.5, Some(10_000)), 10_000);
        assert_eq!(backoff_delay_ms(&P, 6, 0.9, Some(10_000)), 27_000);
        assert_eq!(
            backoff_delay_ms(&P, 1, 0.5, Some(10 * MAX_WAIT_MS)),
            MAX_WAIT_MS
        );
    }

    #[test]
    fn timer_delay_is_clamped() {
        assert_eq!(clamp_timer_delay(1_500, 1_000), 500);
        assert_eq!(clamp_timer_delay(500, 1_000), 0);
        assert_eq!(clamp_timer_delay(u64::MAX, 0), 2_147_483_647);
        assert_eq!(
            u64::from(clamp_timer_delay(MAX_TIMER_DELAY_MS + 1, 0)),
            MAX_TIMER_DELAY_MS
        );
    }
}
