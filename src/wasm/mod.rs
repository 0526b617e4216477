//! The wasm boundary: what the JavaScript runtime (`npm/*.js`) calls. One class,
//! [`SessionCore`], whose inputs and effects cross as numbers (see [`wire`]).
//!
//! The browser work (requests, the timer, Web Locks, BroadcastChannel, listeners,
//! waiters, options) lives in the hand-written runtime: written in Rust it cost four
//! fifths of the download (async state machines and a shim per imported JS function),
//! and none of it touches the token.

pub mod session_core;
pub mod wire;

pub use session_core::SessionCore;

use alloc::string::String;
use wasm_bindgen::prelude::*;

/// The token-warden version, e.g. `"0.1.0"`.
#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    String::from(crate::core::VERSION)
}
