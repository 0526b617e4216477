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
    /// The hot path's property names and methods, made once: passing a Rust `&str` to
    /// JS re-encodes it on every call.
    hot: HotPath,
}

/// What every `tm.fetch` touches, captured at construction.
struct HotPath {
    has: Function,
    set: Function,
    k_authorization: JsValue,
    k_url: JsValue,
    k_origin: JsValue,
    k_headers: JsValue,
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
        let headers = get("Headers")?;
        let method = |name: &str| -> Result<Function, Error> {
            Reflect::get(&headers, &JsValue::from_str("prototype"))
                .and_then(|proto| Reflect::get(&proto, &JsValue::from_str(name)))
                .ok()
                .and_then(|v| v.dyn_into::<Function>().ok())
                .ok_or_else(|| Error::InvalidOptions {
                    field: "Headers".into(),
                    reason: "this environment's Headers lacks has/set".into(),
                })
        };
        let hot = HotPath {
            has: method("has")?,
            set: method("set")?,
            k_authorization: JsValue::from_str("Authorization"),
            k_url: JsValue::from_str("url"),
            k_origin: JsValue::from_str("origin"),
            k_headers: JsValue::from_str("headers"),
        };
        Ok(Self {
            fetch: get("fetch")?,
            request: get("Request")?,
            url: get("URL")?,
            headers,
            hot,
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

    /// The origin of a `Request`'s URL, which is always absolute: no base to look up,
    /// and the URL never leaves JS.
    pub fn origin_of_request(&self, request: &Request) -> Option<JsValue> {
        let url = Reflect::get(request, &self.hot.k_url).ok()?;
        let parsed = Reflect::construct(&self.url, &Array::of1(&url)).ok()?;
        Reflect::get(&parsed, &self.hot.k_origin).ok()
    }

    /// Whether the request already carries an `Authorization` header (an error counts
    /// as yes: leave such a request alone).
    pub fn has_authorization(&self, request: &Request) -> bool {
        Reflect::get(request, &self.hot.k_headers)
            .and_then(|headers| self.hot.has.call1(&headers, &self.hot.k_authorization))
            .map_or(true, |has| has.as_bool() != Some(false))
    }

    /// Sets `Authorization: <value>` on the request.
    pub fn set_authorization(&self, request: &Request, value: &str) -> Result<(), JsValue> {
        let headers = Reflect::get(request, &self.hot.k_headers)?;
        self.hot
            .set
            .call2(
                &headers,
                &self.hot.k_authorization,
                &JsValue::from_str(value),
            )
            .map(drop)
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
