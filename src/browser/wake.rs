//! Wake-up listeners: timers are throttled in background tabs and stop while the machine
//! sleeps, so the session re-checks the wall clock when the page comes back; and
//! `online`/`offline` tell it whether a failed refresh is worth an attempt now.

use wasm_bindgen::JsCast;
use web_sys::{EventTarget, VisibilityState};

use super::listener::Listener;

/// What the page told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `focus`, `pageshow`, `online`, or the document became visible again.
    Wake,
    /// `online` (true) or `offline` (false).
    Connectivity(bool),
}

/// The listeners; dropping this removes them all.
pub struct WakeListeners {
    _listeners: Vec<Listener>,
}

impl WakeListeners {
    /// Listens on the window and its document; `on` gets each signal.
    pub fn listen(on: impl Fn(Signal) + Clone + 'static) -> WakeListeners {
        let mut listeners = Vec::new();
        if let Some(window) = web_sys::window() {
            let target: &EventTarget = window.as_ref();
            for (event, signal) in [
                ("online", Signal::Connectivity(true)),
                ("offline", Signal::Connectivity(false)),
                ("focus", Signal::Wake),
                ("online", Signal::Wake),
                ("pageshow", Signal::Wake),
            ] {
                let on = on.clone();
                listeners.extend(Listener::new(target, event, false, move |_| on(signal)));
            }
            if let Some(document) = window.document() {
                for event in ["visibilitychange", "resume"] {
                    let on = on.clone();
                    let doc = document.clone();
                    listeners.extend(Listener::new(
                        document.unchecked_ref(),
                        event,
                        false,
                        move |_| {
                            if doc.visibility_state() == VisibilityState::Visible {
                                on(Signal::Wake);
                            }
                        },
                    ));
                }
            }
        }
        WakeListeners {
            _listeners: listeners,
        }
    }
}

/// Whether the browser says it is offline (`navigator.onLine === false`).
pub fn offline() -> bool {
    web_sys::window().is_some_and(|w| !w.navigator().on_line())
}
