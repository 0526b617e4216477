//! `TokenWardenError`: a real `Error` with `name = "TokenWardenError"` and a stable
//! `code` (see [`crate::core::Error::code`]). Messages never contain a token.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::core::{Endpoint, Error};

/// The `name` of every error token-warden throws or rejects with.
pub const NAME: &str = "TokenWardenError";

/// A `TokenWardenError` with `code` and `message`.
pub fn tw_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(NAME);
    let _ = Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// The JS error for a core error of `endpoint`.
pub fn from_core(error: &Error, endpoint: Endpoint) -> JsValue {
    tw_error(error.code(), &error.message_for(endpoint))
}

/// `invalid_options`, naming the field.
pub fn invalid_option(field: &str, reason: &str) -> JsValue {
    from_core(
        &Error::InvalidOptions {
            field: field.into(),
            reason: reason.into(),
        },
        Endpoint::Refresh,
    )
}

/// `disposed`.
pub fn disposed() -> JsValue {
    from_core(&Error::Disposed, Endpoint::Refresh)
}
