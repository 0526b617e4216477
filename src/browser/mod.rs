//! The only place that touches the browser: timers and fetch, as thin adapters.
//!
//! Everything here calls the global scope (`globalThis.fetch`, `setTimeout`), not
//! `window.`, so it works in workers too.

pub mod fetch;
pub mod timer;
