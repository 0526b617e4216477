//! The JS-facing facade: `TokenManager` as wasm-bindgen exports it, options in through
//! serde-wasm-bindgen, events and errors out.

pub mod engine;
pub mod errors;
pub mod events;
pub mod log;
pub mod manager;
pub mod options;
pub mod token_manager;

pub use token_manager::TokenManager;

use wasm_bindgen::prelude::*;

/// The token-warden version, e.g. `"0.1.0"`.
#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    String::from(crate::core::VERSION)
}
