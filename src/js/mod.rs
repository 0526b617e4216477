//! The wasm-bindgen facade: what JavaScript sees.

use wasm_bindgen::prelude::*;

/// The token-warden version, e.g. `"0.1.0"`.
#[wasm_bindgen]
pub fn version() -> String {
    crate::core::VERSION.to_owned()
}
