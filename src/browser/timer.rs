//! Timers whose delay can never overflow `setTimeout`.
//!
//! A small replacement for `gloo-timers` (which needs `std`): one closure type for every
//! timer, so each new use adds no wasm-bindgen shim of its own.

use alloc::boxed::Box;
use core::future::Future;

use crate::browser::task::JsFuture;
use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The largest delay `setTimeout` honours; anything above fires at once.
pub const MAX_TIMER_DELAY_MS: u64 = 2_147_483_647;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, delay_ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Clamps a delay to what `setTimeout` honours (gloo issue 121: a larger one fires at once).
pub fn clamp_delay_ms(delay_ms: u64) -> u32 {
    // The clamp guarantees the value fits in `u32`.
    u32::try_from(delay_ms.min(MAX_TIMER_DELAY_MS)).unwrap_or(u32::MAX >> 1)
}

/// A scheduled callback; dropping it clears the timer (like gloo's `Timeout`).
#[must_use = "dropping the timeout clears it"]
pub struct Timeout {
    id: JsValue,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `delay_ms` (already clamped by the caller).
    pub fn new(delay_ms: u32, callback: impl FnOnce() + 'static) -> Self {
        let closure = once(Box::new(callback));
        let id = set_timeout(closure.as_ref().unchecked_ref(), delay_ms);
        Self {
            id,
            _closure: closure,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// A JS function that runs `callback` on its first call; later calls do nothing. Every
/// such function is the same closure type, so each use adds only its body to the wasm.
pub fn once(callback: Box<dyn FnOnce()>) -> Closure<dyn FnMut()> {
    let mut callback = Some(callback);
    Closure::<dyn FnMut()>::new(move || {
        if let Some(callback) = callback.take() {
            callback();
        }
    })
}

/// Resolves after `delay_ms`, clamped. Dropping the future clears the timer.
pub fn sleep(delay_ms: u64) -> impl Future<Output = ()> {
    let mut timeout = None;
    let promise = Promise::new(&mut |resolve: Function, _reject| {
        timeout = Some(Timeout::new(clamp_delay_ms(delay_ms), move || {
            let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED);
        }));
    });
    async move {
        let _ = JsFuture::from(promise).await;
        drop(timeout);
    }
}
