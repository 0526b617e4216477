//! The imports of `captured.js`: the built-ins on the token's path as they were when the
//! package was imported (see that file for why they are not web-sys calls).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/browser/captured.js")]
extern "C" {
    /// Whether `fetch`, `Request`, `Response`, `Headers` and `URL` exist.
    #[wasm_bindgen(js_name = twHasFetch)]
    pub fn has_fetch() -> bool;
    /// `fetch(request)`: a promise of a `Response`.
    #[wasm_bindgen(js_name = twFetch)]
    pub fn fetch(request: &JsValue) -> js_sys::Promise;
    /// `new Request(input, init)`; `Err` is the constructor's TypeError.
    #[wasm_bindgen(catch, js_name = twRequest)]
    pub fn request(input: &JsValue, init: &JsValue) -> Result<JsValue, JsValue>;
    /// A `Request` for one of our POSTs (see `captured.js`).
    #[wasm_bindgen(catch, js_name = twPostRequest)]
    pub fn post_request(
        url: &str,
        init: &JsValue,
        headers: &JsValue,
        signal: &JsValue,
    ) -> Result<JsValue, JsValue>;
    /// `new Headers(init)`.
    #[wasm_bindgen(catch, js_name = twHeaders)]
    pub fn headers(init: &JsValue) -> Result<JsValue, JsValue>;
    /// `init.headers` of a RequestInit.
    #[wasm_bindgen(js_name = twInitHeaders)]
    pub fn init_headers(init: &JsValue) -> JsValue;
    /// Whether `init.body` is a `ReadableStream`.
    #[wasm_bindgen(js_name = twIsStreamBody)]
    pub fn is_stream_body(init: &JsValue) -> bool;
    /// `request.headers`.
    #[wasm_bindgen(js_name = twRequestHeaders)]
    pub fn request_headers(request: &JsValue) -> JsValue;
    /// `request.url`, serialized by the browser.
    #[wasm_bindgen(js_name = twRequestUrl)]
    pub fn request_url(request: &JsValue) -> String;
    /// `request.signal` (undefined without the getter).
    #[wasm_bindgen(js_name = twRequestSignal)]
    pub fn request_signal(request: &JsValue) -> JsValue;
    /// Whether the request has a body.
    #[wasm_bindgen(js_name = twRequestHasBody)]
    pub fn request_has_body(request: &JsValue) -> bool;
    /// `request.clone()`.
    #[wasm_bindgen(catch, js_name = twClone)]
    pub fn clone_request(request: &JsValue) -> Result<JsValue, JsValue>;
    /// `headers.has(name)`.
    #[wasm_bindgen(js_name = twHas)]
    pub fn has(headers: &JsValue, name: &str) -> bool;
    /// `headers.get(name)`, `None` when absent.
    #[wasm_bindgen(js_name = twGet)]
    pub fn get(headers: &JsValue, name: &str) -> Option<String>;
    /// `headers.set(name, value)`.
    #[wasm_bindgen(catch, js_name = twSet)]
    pub fn set(headers: &JsValue, name: &str, value: &str) -> Result<(), JsValue>;
    /// `headers.set('Authorization', value)`: the token's only way out.
    #[wasm_bindgen(catch, js_name = twSetAuthorization)]
    pub fn set_authorization(headers: &JsValue, value: &str) -> Result<(), JsValue>;
    /// `response.status`.
    #[wasm_bindgen(js_name = twStatus)]
    pub fn status(response: &JsValue) -> u16;
    /// `response.type`.
    #[wasm_bindgen(js_name = twResponseType)]
    pub fn response_type(response: &JsValue) -> String;
    /// `response.headers`.
    #[wasm_bindgen(js_name = twResponseHeaders)]
    pub fn response_headers(response: &JsValue) -> JsValue;
    /// `response.text()`: a promise of the body as a string.
    #[wasm_bindgen(js_name = twText)]
    pub fn text(response: &JsValue) -> js_sys::Promise;
    /// `Date.parse(text)`: ms since the epoch, NaN when it is no date (RFC 9110 §5.6.7).
    #[wasm_bindgen(js_name = twParseDate)]
    pub fn parse_date(text: &str) -> f64;
    /// The absolute URL for `url` against `document.baseURI`; `None` if invalid.
    #[wasm_bindgen(js_name = twAbsolute)]
    pub fn absolute(url: &str) -> Option<String>;
    /// The serialized origin of `url` against `document.baseURI`; `None` if invalid.
    #[wasm_bindgen(js_name = twOrigin)]
    pub fn origin(url: &str) -> Option<String>;
    /// `JSON.stringify(value)` as it was at load; `None` if it throws or gives no text.
    #[wasm_bindgen(js_name = twStringify)]
    pub fn stringify(value: &JsValue) -> Option<String>;
    /// `promise.then(v => handler(true, v, id), e => handler(false, e, id))` through the
    /// captured `then`.
    #[wasm_bindgen(js_name = twAfter)]
    pub fn after(promise: &js_sys::Promise, handler: &JsValue, id: f64) -> js_sys::Promise;
    /// `String(value)` as it was at load (a `URL` gives its href); `None` if it throws.
    #[wasm_bindgen(js_name = twToString)]
    pub fn to_string(value: &JsValue) -> Option<String>;
    /// Reports an error an app's handler threw through `reportError` as it was at load
    /// (else rethrown in a microtask): on the console and `window.onerror`.
    #[wasm_bindgen(js_name = twReport)]
    pub fn report(error: &JsValue);
}
