//! `TokenManager`, the class JavaScript uses.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;

use core::future::Future;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::options;
use crate::browser::js_error::to_js;
use crate::browser::manager::Manager;
use crate::browser::task;
use crate::core::Error;

/// Holds the access token in WASM memory and refreshes it through the HttpOnly cookie.
/// Dropping it (`free()`) disposes it.
#[wasm_bindgen(skip_typescript)]
pub struct TokenManager {
    manager: Manager,
}

fn promise<T: Into<JsValue>>(fut: impl Future<Output = Result<T, Error>> + 'static) -> Promise {
    task::promise(Box::pin(async move {
        fut.await.map(Into::into).map_err(|e| to_js(&e))
    }))
}

#[wasm_bindgen]
impl TokenManager {
    /// Validates `options` synchronously; throws `TokenWardenError` `invalid_options`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<TokenManager, JsValue> {
        let opts = options::parse(&options).map_err(|e| to_js(&e))?;
        let manager = Manager::new(opts).map_err(|e| to_js(&e))?;
        Ok(TokenManager { manager })
    }

    /// Restores the session through the refresh cookie; resolves with the state.
    pub fn start(&self) -> Promise {
        let m = self.manager.clone();
        promise(async move { m.start().await.map(|p| p.as_str()) })
    }

    /// Posts the app's login request (credentials included) and takes its token response.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&self, url: JsValue, init: JsValue) -> Promise {
        let m = self.manager.clone();
        promise(async move {
            let url = url_string(&url)?;
            m.sign_in(&url, &init).await.map(|p| p.as_str())
        })
    }

    /// Takes a token response (object or JSON text) the app obtained itself.
    #[wasm_bindgen(js_name = acceptTokenResponse)]
    pub fn accept_token_response(&self, response: JsValue) -> Result<String, JsValue> {
        let text = if let Some(text) = response.as_string() {
            text
        } else {
            js_sys::JSON::stringify(&response)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| to_js(&Error::MalformedResponse { reason: "not JSON" }))?
        };
        let text = zeroize::Zeroizing::new(text);
        self.manager
            .accept_token_response(&text)
            .map(|p| p.as_str().to_owned())
            .map_err(|e| to_js(&e))
    }

    /// `fetch` with the bearer token for allowed origins and one retry after a 401.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        self.manager.fetch(&input, &init)
    }

    /// Refreshes now; resolves once a new token is in memory.
    pub fn refresh(&self) -> Promise {
        let m = self.manager.clone();
        promise(async move { m.refresh().await.map(|()| JsValue::UNDEFINED) })
    }

    /// Logs out at the server (if configured) and clears memory whatever it answers.
    pub fn logout(&self) -> Promise {
        let m = self.manager.clone();
        promise(async move { m.logout().await.map(|()| JsValue::UNDEFINED) })
    }

    /// Subscribes to an event; returns the function that unsubscribes.
    pub fn on(&self, event: String, handler: Function) -> Result<Function, JsValue> {
        let id = self.manager.on(&event, handler).map_err(|e| to_js(&e))?;
        let m = self.manager.clone();
        // Unsubscribing twice is harmless, so a run-once function will do.
        let off = crate::browser::timer::once(Box::new(move || m.off(id)));
        Ok(off.into_js_value().unchecked_into())
    }

    /// `'initial' | 'restoring' | 'signed-in' | 'signed-out' | 'disposed'`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.manager.phase().as_str().to_owned()
    }

    /// When the access token expires (ms since the epoch), or null.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.manager.expires_at_ms().map(|t| t as f64)
    }

    /// The decoded, unverified JWT payload, for display only; null for opaque tokens.
    pub fn claims(&self) -> JsValue {
        self.manager
            .claims_json()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// The raw access token; only with `exposeAccessToken: true`.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let m = self.manager.clone();
        promise(async move { m.access_token().await })
    }

    /// Cancels timers, listeners and in-flight requests; later calls reject with `disposed`.
    pub fn dispose(&self) {
        self.manager.dispose();
    }
}

impl Drop for TokenManager {
    fn drop(&mut self) {
        self.manager.dispose();
    }
}

fn url_string(url: &JsValue) -> Result<String, Error> {
    url.as_string()
        .or_else(|| {
            url.dyn_ref::<js_sys::Object>()
                .map(|o| String::from(o.to_string()))
        })
        .ok_or_else(|| Error::InvalidOptions {
            field: "url".into(),
            reason: "expected a URL string".into(),
        })
}
