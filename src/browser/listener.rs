//! DOM event listeners as handles: dropping one removes the listener.

use alloc::boxed::Box;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

/// An `addEventListener` registration that lasts as long as this value.
#[must_use = "dropping the handle removes the listener"]
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Listens for `event` on `target` (the global scope or `document`).
    pub fn new(
        target: &EventTarget,
        event: &'static str,
        handler: impl FnMut(JsValue) + 'static,
    ) -> Option<Self> {
        Self::boxed(target, event, Box::new(handler))
    }

    /// The non-generic part of [`Listener::new`], so each handler type adds only its body.
    fn boxed(
        target: &EventTarget,
        event: &'static str,
        handler: Box<dyn FnMut(JsValue)>,
    ) -> Option<Self> {
        let callback = Closure::wrap(handler);
        target
            .add_event_listener_with_callback(event, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(Self {
            target: target.clone(),
            event,
            callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            self.event,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}
