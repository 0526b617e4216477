//! `TokenWardenError`: a real `Error` with `name = "TokenWardenError"`, a stable `code`
//! (see [`crate::core::Error::code`]) and what failed, as own properties: `operation`
//! (`sign-in`, `refresh`, `logout`, `request`), `endpoint` (absolute URL without query or
//! fragment), `status` (HTTP status of an error answer), `serverError` and
//! `serverErrorDescription` (the RFC 6749 §5.2 `error` / `error_description`,
//! sanitized). Each is `null` when it does not apply; all five are always present.
//! Messages never contain a token.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::browser::captured;
use crate::core::{endpoint_of, At, Error, Operation};

/// The `name` of every error token-warden throws or rejects with.
pub const NAME: &str = "TokenWardenError";

/// The request an error may be about, owned: what [`At`] borrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Where {
    /// The operation.
    pub operation: Operation,
    /// The endpoint, without query and fragment.
    pub endpoint: String,
    /// Whether the endpoint is on another origin than the page.
    pub cross_origin: bool,
}

impl Where {
    /// `operation` at `url` (absolute; its query and fragment are dropped here).
    pub fn new(operation: Operation, url: &str) -> Where {
        let endpoint = String::from(endpoint_of(url));
        let page = crate::browser::page_origin();
        let cross_origin = match (captured::origin(&endpoint), page) {
            (Some(origin), Some(page)) => origin != page,
            _ => false,
        };
        Where {
            operation,
            endpoint,
            cross_origin,
        }
    }

    /// Borrowed, for the core's messages.
    pub fn at(&self) -> At<'_> {
        At {
            operation: self.operation,
            endpoint: &self.endpoint,
            cross_origin: self.cross_origin,
        }
    }
}

fn set(error: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(error, &JsValue::from_str(key), value);
}

fn text_or_null(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
}

/// A `TokenWardenError` with `code` and `message`, about no request (the five request
/// fields `null`).
pub fn tw_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(NAME);
    let error: JsValue = error.into();
    set(&error, "code", &JsValue::from_str(code));
    for key in [
        "operation",
        "endpoint",
        "status",
        "serverError",
        "serverErrorDescription",
    ] {
        set(&error, key, &JsValue::NULL);
    }
    error
}

/// The JS error for a core error, about the request `at` when the error is about one.
pub fn from_core(error: &Error, at: Option<&Where>) -> JsValue {
    let at = at.filter(|_| error.about_request());
    let borrowed = at.map(Where::at);
    let js = tw_error(error.code(), &error.message_at(borrowed.as_ref()));
    if let Some(at) = at {
        set(&js, "operation", &JsValue::from_str(at.operation.as_str()));
        set(&js, "endpoint", &JsValue::from_str(&at.endpoint));
        if let Some(answer) = error.answer() {
            set(&js, "status", &JsValue::from_f64(f64::from(answer.status)));
            set(&js, "serverError", &text_or_null(answer.error.as_deref()));
            set(
                &js,
                "serverErrorDescription",
                &text_or_null(answer.description.as_deref()),
            );
        }
    }
    js
}

/// `invalid_options`, naming the field.
pub fn invalid_option(field: &str, reason: &str) -> JsValue {
    from_core(
        &Error::InvalidOptions {
            field: field.into(),
            reason: reason.into(),
        },
        None,
    )
}

/// `disposed`.
pub fn disposed() -> JsValue {
    from_core(&Error::Disposed, None)
}
