//! The only place that touches the browser: timers, fetch, events, and the manager
//! that performs the core's effects. Thin adapters over the core.
//!
//! Everything here calls the global scope (`globalThis.fetch`, `setTimeout`), not
//! `window.`, so it works in workers too.

pub mod channel;
pub mod clock;
pub mod fetch;
pub mod http;
pub mod js_error;
pub mod listener;
pub mod locks;
pub mod manager;
pub mod primitives;
pub mod shared;
pub mod task;
pub mod timer;
pub mod waiters;
