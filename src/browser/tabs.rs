//! What the tabs of one app tell each other over a `BroadcastChannel`: signed in,
//! refreshed, ended. Never a token: a tab that needs one refreshes through the shared
//! cookie. Messages are serde types, written with `to_value` and read field by field
//! with `from_value` (anything else is ignored).

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::core::{EndReason, Event, Phase};

/// The message format version.
const VERSION: u32 = 1;

/// A message between tabs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TabMessage {
    /// Always 1.
    pub v: u32,
    /// `signed-in`, `refreshed` or `ended`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `refreshed`: when the new token expires (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<f64>,
    /// `ended`: `logout` or `invalid_grant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `signed-in`: when the sender signed in (its `Date.now()`, ms since the epoch), so
    /// a tab that ended its session after that ignores the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// `signed-in`: true when it came from a sign-in (`signIn`, `acceptTokenResponse`),
    /// not a restore: a tab signed in already refreshes at once, to learn whether the
    /// cookie now belongs to another user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<bool>,
}

/// What a well-formed message from another tab asks of this one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Heard {
    /// Another tab signed in (`at`, ms since the epoch, if it said): pick the session up
    /// through the cookie if signed out since before then; if it was a sign-in (`login`)
    /// and this tab is signed in, refresh at once.
    SignedIn {
        /// When the sender signed in.
        at: Option<f64>,
        /// A sign-in, not a restore.
        login: bool,
    },
    /// Another tab refreshed (informational).
    Refreshed,
    /// Another tab's session ended for a reason all tabs share.
    Ended(EndReason),
}

/// The message for an event of ours worth telling other tabs about, at `now` (ms since
/// the epoch). An `expired` end (one tab's refresh gave up) says nothing about the other
/// tabs' tokens: not told.
pub fn message_for(event: &Event, now: f64, login: bool) -> Option<TabMessage> {
    let message = |kind: &str| TabMessage {
        v: VERSION,
        kind: kind.into(),
        expires_at: None,
        reason: None,
        at: None,
        login: None,
    };
    match event {
        Event::State(Phase::SignedIn) => Some(TabMessage {
            at: Some(now),
            login: login.then_some(true),
            ..message("signed-in")
        }),
        Event::Refreshed { expires_at_ms } => Some(TabMessage {
            expires_at: Some(*expires_at_ms as f64),
            ..message("refreshed")
        }),
        Event::SessionEnded { reason }
            if matches!(reason, EndReason::Logout | EndReason::InvalidGrant) =>
        {
            Some(TabMessage {
                reason: Some(reason.as_str().into()),
                ..message("ended")
            })
        }
        _ => None,
    }
}

/// Reads a message from another tab; `None` for anything malformed.
pub fn read(message: &TabMessage) -> Option<Heard> {
    if message.v != VERSION {
        return None;
    }
    match message.kind.as_str() {
        "signed-in" => Some(Heard::SignedIn {
            at: message.at.filter(|at| at.is_finite()),
            login: message.login == Some(true),
        }),
        "refreshed" => message
            .expires_at
            .filter(|at| at.is_finite() && *at >= 0.0)
            .map(|_| Heard::Refreshed),
        "ended" => match message.reason.as_deref()? {
            "logout" => Some(Heard::Ended(EndReason::Logout)),
            "invalid_grant" => Some(Heard::Ended(EndReason::InvalidGrant)),
            "expired" => Some(Heard::Ended(EndReason::Expired)),
            _ => None,
        },
        _ => None,
    }
}

/// An open channel; closed (and its handler released) on drop.
pub struct Channel {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Channel {
    /// Opens the channel `name`; `on_message` gets well-formed messages only. `None`
    /// without `BroadcastChannel`.
    pub fn open(name: &str, mut on_message: impl FnMut(Heard) + 'static) -> Option<Channel> {
        let exists =
            js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("BroadcastChannel"))
                .unwrap_or(false);
        if !exists {
            return None;
        }
        let channel = BroadcastChannel::new(name).ok()?;
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let heard = serde_wasm_bindgen::from_value::<TabMessage>(event.data())
                .ok()
                .as_ref()
                .and_then(read);
            if let Some(heard) = heard {
                on_message(heard);
            }
        });
        channel.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(handler.as_ref())));
        Some(Channel {
            channel,
            _on_message: handler,
        })
    }

    /// Tells the other tabs.
    pub fn post(&self, message: &TabMessage) {
        if let Ok(value) = serde_wasm_bindgen::to_value(message) {
            let _ = self.channel.post_message(&value);
        }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_ends_are_told_and_read_back() {
        let ended = message_for(
            &Event::SessionEnded {
                reason: EndReason::Logout,
            },
            1.0,
            false,
        )
        .unwrap();
        assert_eq!(read(&ended), Some(Heard::Ended(EndReason::Logout)));
        let expired = Event::SessionEnded {
            reason: EndReason::Expired,
        };
        assert_eq!(message_for(&expired, 1.0, false), None);
        let restored = message_for(&Event::State(Phase::SignedIn), 7.0, false).unwrap();
        assert_eq!(
            read(&restored),
            Some(Heard::SignedIn {
                at: Some(7.0),
                login: false
            })
        );
        let login = message_for(&Event::State(Phase::SignedIn), 8.0, true).unwrap();
        assert_eq!(
            read(&login),
            Some(Heard::SignedIn {
                at: Some(8.0),
                login: true
            })
        );
        assert_eq!(
            message_for(&Event::State(Phase::SignedOut), 1.0, true),
            None
        );
    }

    #[test]
    fn malformed_messages_are_ignored() {
        let mut m = message_for(&Event::Refreshed { expires_at_ms: 5 }, 1.0, false).unwrap();
        assert_eq!(read(&m), Some(Heard::Refreshed));
        m.expires_at = Some(f64::NAN);
        assert_eq!(read(&m), None);
        m.expires_at = None;
        assert_eq!(read(&m), None);
        let mut e = message_for(
            &Event::SessionEnded {
                reason: EndReason::InvalidGrant,
            },
            1.0,
            false,
        )
        .unwrap();
        e.v = 2;
        assert_eq!(read(&e), None);
        e.v = 1;
        e.reason = Some("nope".into());
        assert_eq!(read(&e), None);
    }
}
