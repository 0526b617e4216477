//! Core errors as real JavaScript `Error`s: `name = "TokenWardenError"` and a stable `code`.

use wasm_bindgen::JsValue;

use super::http::set_str;
use super::primitives::{get, get_string};
use crate::core::Error;

/// The `name` of every error token-warden throws or rejects with.
pub const ERROR_NAME: &str = "TokenWardenError";

/// Builds `Error { name: "TokenWardenError", code, message }`. Messages never hold a token.
pub fn to_js(err: &Error) -> JsValue {
    let js = js_sys::Error::new(&err.message());
    set_str(&js, "name", ERROR_NAME);
    set_str(&js, "code", err.code());
    js.into()
}

/// True when `value` is an error produced by [`to_js`].
pub fn is_token_warden_error(value: &JsValue) -> bool {
    get_string(value, "name").is_some_and(|n| n == ERROR_NAME)
        && get(value, "code").is_some_and(|c| c.is_string())
}
