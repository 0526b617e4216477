//! `fetch`, `Request`, `Headers` and `URL`, captured once when a manager is created.
//!
//! A script that later replaces `window.fetch` (or patches `Headers.prototype.set`'s
//! caller) does not see the requests we send with a bearer token. This is best effort:
//! a script that ran *before* us could have replaced them already.

use alloc::string::String;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Headers, Request};

use crate::core::Error;

/// The captured constructors and functions of the global scope.
pub struct Primitives {
    global: Object,
    fetch: Function,
    request: Function,
    headers: Function,
    url: Function,
}

impl Primitives {
    /// Captures the primitives from `globalThis`; an environment without them is refused.
    pub fn capture() -> Result<Self, Error> {
        let global = js_sys::global();
        let get = |name: &'static str| -> Result<Function, Error> {
            get(&global, name)
                .and_then(|v| v.dyn_into::<Function>().ok())
                .ok_or_else(|| Error::InvalidOptions {
                    field: name.into(),
                    reason: crate::core::error::concat(&["this environment has no global ", name]),
                })
        };
        Ok(Self {
            fetch: get("fetch")?,
            request: get("Request")?,
            headers: get("Headers")?,
            url: get("URL")?,
            global,
        })
    }

    /// The captured `fetch(request)`; a synchronous throw becomes a rejected promise.
    pub fn fetch(&self, request: &Request) -> Promise {
        match self.fetch.call1(&self.global, request) {
            Ok(promise) => promise.unchecked_into(),
            Err(e) => Promise::reject(&e),
        }
    }

    /// `new Request(input, init)`, which also resolves a relative URL against the page.
    pub fn request(&self, input: &JsValue, init: &JsValue) -> Result<Request, JsValue> {
        Reflect::construct(&self.request, &Array::of2(input, init)).map(JsCast::unchecked_into)
    }

    /// `new Headers(init)`; `undefined` gives empty headers.
    pub fn headers(&self, init: &JsValue) -> Result<Headers, JsValue> {
        // An `undefined` argument counts as absent (WebIDL); `null` would throw, so it
        // becomes `undefined` too. Always two arguments: one `Array.of` import in the glue.
        let init = if init.is_null() {
            &JsValue::UNDEFINED
        } else {
            init
        };
        Reflect::construct(&self.headers, &Array::of2(init, &JsValue::UNDEFINED))
            .map(JsCast::unchecked_into)
    }

    /// The serialized origin of an absolute or page-relative URL (`new URL(u, base).origin`).
    pub fn origin_of(&self, url: &str) -> Option<String> {
        let parsed = Reflect::construct(&self.url, &url_args(url)).ok()?;
        get_string(&parsed, "origin")
    }

    /// `new URL(url, page).href`: an absolute form of a page-relative URL.
    pub fn absolute_url(&self, url: &str) -> Option<String> {
        let parsed = Reflect::construct(&self.url, &url_args(url)).ok()?;
        get_string(&parsed, "href")
    }
}

fn url_args(url: &str) -> Array {
    match page_href() {
        Some(base) => Array::of2(&JsValue::from_str(url), &JsValue::from_str(&base)),
        // `new URL(url, undefined)` is `new URL(url)`.
        None => Array::of2(&JsValue::from_str(url), &JsValue::UNDEFINED),
    }
}

#[wasm_bindgen]
extern "C" {
    /// A `Request` or a `Response`.
    type Message;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &Message) -> Headers;
}

/// `request.headers` or `response.headers`: one getter for both (one import in the glue).
pub fn headers_of(message: &JsValue) -> Headers {
    message.unchecked_ref::<Message>().headers()
}

/// `target[key]`, `None` when reading it throws. One out-of-line function for the ~30
/// property reads of the crate instead of the string conversion and exception check
/// inlined at each.
#[inline(never)]
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok()
}

/// `target[key]` if it is a string.
#[inline(never)]
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key)?.as_string()
}

/// `globalThis[key]`.
pub fn global_get(key: &str) -> Option<JsValue> {
    get(&js_sys::global(), key)
}

/// `location.href` of the page or worker, if any.
pub fn page_href() -> Option<String> {
    get_string(&global_get("location")?, "href")
}

/// `location.origin` of the page or worker, if any.
pub fn page_origin() -> Option<String> {
    get_string(&global_get("location")?, "origin").filter(|o| o != "null")
}
