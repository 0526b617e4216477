//! The wall clock and the jitter source, read from JavaScript on every use.
//!
//! `Date.now()` is read each time (never cached) so a laptop that slept, or a page
//! whose clock a test overrides, is seen as it is.

/// Milliseconds since the Unix epoch, as the page sees them.
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    // `as` saturates: NaN or a negative clock becomes 0 rather than wrapping.
    now as u64
}

/// A uniform number in [0, 1) for backoff jitter.
pub fn rand01() -> f64 {
    js_sys::Math::random()
}
