//! Where every request of ours goes: `fetch` as `captured.js` read it at load, or, in
//! builds with the `scripted-fetch` feature (the wasm-bindgen tests only; never the
//! package), a function the test scripts.

use js_sys::Promise;
use wasm_bindgen::JsValue;

use super::captured;

#[cfg(feature = "scripted-fetch")]
thread_local! {
    static SCRIPTED: core::cell::RefCell<Option<js_sys::Function>> =
        const { core::cell::RefCell::new(None) };
}

/// Sends `request` (a `Request`): a promise of its `Response`.
pub fn send(request: &JsValue) -> Promise {
    #[cfg(feature = "scripted-fetch")]
    {
        let scripted = SCRIPTED.with(|s| s.borrow().clone());
        if let Some(fetch) = scripted {
            return match fetch.call1(&JsValue::UNDEFINED, request) {
                Ok(answer) => Promise::resolve(&answer),
                Err(error) => Promise::reject(&error),
            };
        }
    }
    captured::fetch(request)
}

/// Sends every later request to `fetch` (called with the `Request`, returning a
/// `Response` or a promise of one) instead of the network; `None` restores the network.
#[cfg(feature = "scripted-fetch")]
pub fn script_fetch(fetch: Option<js_sys::Function>) {
    SCRIPTED.with(|s| *s.borrow_mut() = fetch);
}
