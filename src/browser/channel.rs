//! Tabs of the same app talk over a `BroadcastChannel`: signed in, refreshed
//! (`expiresAt` only), session ended. No message ever carries a token.

use js_sys::Object;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::BroadcastChannel;

use super::http::{set, set_str};
use super::listener::Listener;
use super::primitives::{get, global_get};
use crate::core::EndReason;

/// What one tab tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// This tab signed in (or restored a session): signed-out tabs may pick it up.
    SignedIn,
    /// This tab refreshed; its token expires then (informational).
    Refreshed {
        /// ms since the epoch.
        expires_at_ms: u64,
    },
    /// The session ended here (logout or a rejected refresh): end it everywhere.
    Ended(EndReason),
}

impl TabMessage {
    fn to_js(&self) -> JsValue {
        let msg = Object::new();
        set(&msg, "v", &JsValue::from(1));
        match self {
            TabMessage::SignedIn => set_str(&msg, "type", "signed-in"),
            TabMessage::Refreshed { expires_at_ms } => {
                set_str(&msg, "type", "refreshed");
                set(&msg, "expiresAt", &JsValue::from_f64(*expires_at_ms as f64));
            }
            TabMessage::Ended(reason) => {
                set_str(&msg, "type", "ended");
                set_str(&msg, "reason", reason.as_str());
            }
        }
        msg.into()
    }

    /// Reads a message; anything unexpected (another version, a foreign script) is `None`.
    fn from_js(data: &JsValue) -> Option<Self> {
        let field = |k: &str| get(data, k);
        if field("v")?.as_f64()? != 1.0 {
            return None;
        }
        match field("type")?.as_string()?.as_str() {
            "signed-in" => Some(TabMessage::SignedIn),
            "refreshed" => {
                let at = field("expiresAt")?
                    .as_f64()
                    .filter(|t| t.is_finite() && *t >= 0.0)?;
                Some(TabMessage::Refreshed {
                    expires_at_ms: at as u64,
                })
            }
            "ended" => match field("reason")?.as_string()?.as_str() {
                "logout" => Some(TabMessage::Ended(EndReason::Logout)),
                "invalid_grant" => Some(TabMessage::Ended(EndReason::InvalidGrant)),
                "expired" => Some(TabMessage::Ended(EndReason::Expired)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// An open channel; dropping it closes the channel and removes the listener.
pub struct Channel {
    channel: BroadcastChannel,
    _listener: Listener,
}

impl Channel {
    /// Opens `name` and calls `on_message` for every valid message from another tab.
    /// `None` where the browser has no `BroadcastChannel`.
    pub fn open(name: &str, mut on_message: impl FnMut(TabMessage) + 'static) -> Option<Self> {
        let has_channel = global_get("BroadcastChannel").is_some_and(|c| c.is_function());
        if !has_channel {
            return None;
        }
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Listener::new(channel.unchecked_ref(), "message", move |event: JsValue| {
            let data = get(&event, "data").unwrap_or(JsValue::UNDEFINED);
            if let Some(message) = TabMessage::from_js(&data) {
                on_message(message);
            }
        })?;
        Some(Self {
            channel,
            _listener: listener,
        })
    }

    /// Tells the other tabs (never this one: BroadcastChannel does not echo).
    pub fn post(&self, message: &TabMessage) {
        let _ = self.channel.post_message(&message.to_js());
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.close();
    }
}
