//! The wasm-bindgen facade: what JavaScript sees. Thin: options in, promises out.
//! The TypeScript declarations are written by hand in `token_warden.d.ts` so the
//! `.d.ts` says `Promise<Response>` and a typed `on()`, never `any`.

use alloc::borrow::ToOwned;
use alloc::string::String;

mod options;
mod token_manager;

pub use token_manager::TokenManager;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("token_warden.d.ts");

/// The token-warden version, e.g. `"0.1.0"`.
#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    crate::core::VERSION.to_owned()
}

/// True when `value` is an error thrown or rejected by token-warden.
#[wasm_bindgen(js_name = isTokenWardenError, skip_typescript)]
pub fn is_token_warden_error(value: &JsValue) -> bool {
    crate::browser::js_error::is_token_warden_error(value)
}
