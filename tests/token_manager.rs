//! The `TokenManager` itself, driven exactly as JavaScript drives it, in headless
//! Chromium (`wasm-pack test --headless --chrome`), against a scripted auth server
//! (`support.rs`) that stands in for the network of every request the manager sends.
//!
//! One test binary: each file in `tests/` is a separate wasm build. Tests run one at a
//! time (wasm-bindgen-test's concurrency is 1); each owns a fresh server under its own
//! path prefix and disposes its managers when they drop. Waits are bounded and only
//! let things happen; assertions are on counts, states, codes and orders, never on time.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "token_manager/support.rs"]
mod support;

#[path = "token_manager/api.rs"]
mod api;
#[path = "token_manager/diagnostics.rs"]
mod diagnostics;
#[path = "token_manager/fetch.rs"]
mod fetch;
#[path = "token_manager/logger.rs"]
mod logger;
#[path = "token_manager/options.rs"]
mod options;
#[path = "token_manager/refresh.rs"]
mod refresh;
#[path = "token_manager/session.rs"]
mod session;
#[path = "token_manager/tabs.rs"]
mod tabs;
#[path = "token_manager/user_switch.rs"]
mod user_switch;
