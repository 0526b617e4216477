//! One-shot timers on gloo-timers, with the delay clamped to what `setTimeout` honours.

use gloo_timers::callback::Timeout;

use crate::core::MAX_TIMER_DELAY_MS;

/// Calls `f` after `delay_ms` (clamped to 0 ..= 2^31 − 1 ms: `setTimeout` fires at once
/// above that, and gloo-timers takes a `u32`). Dropping the returned handle cancels it.
pub fn after(delay_ms: f64, f: impl FnOnce() + 'static) -> Timeout {
    // `as` saturates: NaN and negatives become 0.
    let ms = (delay_ms as u64).min(MAX_TIMER_DELAY_MS);
    Timeout::new(ms as u32, f)
}
