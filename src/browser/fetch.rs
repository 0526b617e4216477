//! The global `fetch`, bound directly so it works in windows and workers alike.

use crate::browser::task::JsFuture;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{Request, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
}

/// Sends `request` with the global `fetch` and waits for the response head.
pub async fn send(request: &Request) -> Result<Response, JsValue> {
    let response = JsFuture::from(global_fetch(request)).await?;
    response.dyn_into::<Response>()
}
