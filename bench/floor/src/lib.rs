//! The floor of token-warden's size: an empty manager that links the crates token-warden
//! is built on and does one trivial thing with each, so that `bench/RESULTS.md` can show
//! what the crates cost before any of token-warden's own work.
//!
//! - options in through `serde_wasm_bindgen::from_value` into a derived struct, and back
//!   out through `to_value`;
//! - a `fetch` through web-sys (`Window`, `Request`, `Headers`, `Response`,
//!   `AbortController`), awaited with `wasm_bindgen_futures::JsFuture` in an `async fn`
//!   that JS receives as a `Promise`, aborted by a `gloo_timers::callback::Timeout`;
//! - a JWT payload decoded with `base64` (URL-safe, no padding) and read with
//!   `serde_json::from_str` into a derived struct;
//! - a message posted on a `BroadcastChannel`;
//! - talc as the global allocator.
#![deny(missing_docs)]

use base64::Engine as _;
use gloo_timers::callback::Timeout;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, BroadcastChannel, Headers, Request, RequestCredentials, RequestInit, Response,
};

/// The same allocator as the package.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Options as the page passes them: `{ refreshUrl: string, timeoutMs?: number }`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    refresh_url: String,
    #[serde(default)]
    timeout_ms: Option<f64>,
}

/// The one JWT claim read: `exp`, seconds since the epoch.
#[derive(Deserialize)]
struct Claims {
    exp: Option<f64>,
}

/// An empty manager: it holds its options, a timer and a channel, and does nothing else.
#[wasm_bindgen]
pub struct Floor {
    options: Options,
    timer: Option<Timeout>,
    channel: BroadcastChannel,
}

#[wasm_bindgen]
impl Floor {
    /// Reads the options; throws on an unknown or badly typed field.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Floor, JsValue> {
        let options: Options = serde_wasm_bindgen::from_value(options)?;
        let channel = BroadcastChannel::new("token-warden-floor")?;
        Ok(Floor {
            options,
            timer: None,
            channel,
        })
    }

    /// The options back as a plain object.
    pub fn options(&self) -> Result<JsValue, JsValue> {
        Ok(serde_wasm_bindgen::to_value(&self.options)?)
    }

    /// Calls `callback` once after `ms` milliseconds; a later call replaces (cancels) it.
    pub fn schedule(&mut self, ms: u32, callback: js_sys::Function) {
        self.timer = Some(Timeout::new(ms, move || {
            let _ = callback.call0(&JsValue::NULL);
        }));
    }

    /// Posts one message to the other tabs.
    pub fn announce(&self) -> Result<(), JsValue> {
        self.channel.post_message(&JsValue::from_str("refreshed"))
    }

    /// The refresh URL, for [`refresh`].
    #[wasm_bindgen(js_name = refreshUrl)]
    pub fn refresh_url(&self) -> String {
        self.options.refresh_url.clone()
    }

    /// The request timeout in ms (10 s unless set).
    #[wasm_bindgen(js_name = timeoutMs)]
    pub fn timeout_ms(&self) -> u32 {
        self.options.timeout_ms.map_or(10_000, |ms| ms as u32)
    }
}

/// The `exp` claim of a JWT, or `undefined` when it has none or is not a JWT.
#[wasm_bindgen]
pub fn expiry(jwt: &str) -> Option<f64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    serde_json::from_str::<Claims>(text).ok()?.exp
}

/// POSTs to `url` with credentials, aborted after `timeout_ms`; resolves to the status.
#[wasm_bindgen]
pub async fn refresh(url: String, timeout_ms: u32) -> Result<u16, JsValue> {
    let controller = AbortController::new()?;
    let headers = Headers::new()?;
    headers.set("X-Requested-With", "token-warden")?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::Include);
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    let request = Request::new_with_str_and_init(&url, &init)?;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let abort = Timeout::new(timeout_ms, move || controller.abort());
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    JsFuture::from(response.text()?).await?;
    drop(abort);
    Ok(response.status())
}
