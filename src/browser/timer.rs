//! Timers whose delay can never overflow `setTimeout`.

use gloo_timers::future::TimeoutFuture;

/// The largest delay `setTimeout` honours; anything above fires at once.
pub const MAX_TIMER_DELAY_MS: u64 = 2_147_483_647;

/// Clamps a delay to what `setTimeout` honours (gloo issue 121: a larger one fires at once).
pub fn clamp_delay_ms(delay_ms: u64) -> u32 {
    // The clamp guarantees the value fits in `u32`.
    u32::try_from(delay_ms.min(MAX_TIMER_DELAY_MS)).unwrap_or(u32::MAX >> 1)
}

/// Resolves after `delay_ms`, clamped. Dropping the future clears the timer.
pub fn sleep(delay_ms: u64) -> TimeoutFuture {
    TimeoutFuture::new(clamp_delay_ms(delay_ms))
}
