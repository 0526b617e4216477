//! Time and jitter for the core, read from the browser.

/// Local wall-clock time in ms since the epoch (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A uniform random number in [0, 1) for backoff jitter (`Math.random()`; jitter needs no
/// cryptographic quality).
pub fn rand01() -> f64 {
    js_sys::Math::random()
}
