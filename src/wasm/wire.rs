//! The wire between the session core and the JavaScript runtime: inputs arrive as small
//! numbers, effects leave as one flat list of numbers plus a side list of texts.
//!
//! Why numbers: every distinct type crossing the boundary costs a wasm-bindgen shim and
//! glue code, and the whole point of the split is a small download. A `Float64Array`
//! and a few strings are the cheapest shapes wasm-bindgen can move. Pure: tested natively.
//!
//! The texts travel as one string, joined by `\n`: every text is printable ASCII (codes,
//! names, our messages, and server text after `sanitize_server_text`), so the separator
//! cannot occur inside one.
//!
//! Effect records (`op` then its operands, all `f64`; `t` is an index into the texts):
//!
//! | op | effect | operands |
//! |---:|---|---|
//! | 0 | send a refresh | |
//! | 1 | arm the timer | absolute local ms |
//! | 2 | cancel the timer | |
//! | 3 | event `state` | t: the phase |
//! | 4 | event `refreshed` | expiresAt |
//! | 5 | event `refresh-error` | t: code, attempt, retryAt or -1 |
//! | 6 | event `session-ended` | t: the reason |
//! | 7 | event `warning` | t: code, t: message |
//! | 8 | resolve the waiting caller | its id |
//! | 9 | reject the waiting caller | its id, t: code, t: message |
//! | 10 | refuse the caller (sign-in, accepted response) | t: code, t: message |

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::{Effect, EndReason, Endpoint, Error, Event, Input, Want};

/// Op codes of the effect records; the JS runtime mirrors them.
pub mod op {
    /// POST the refresh endpoint and answer with exactly one reply.
    pub const SEND_REFRESH: f64 = 0.0;
    /// (Re)arm the one timer at an absolute local time.
    pub const ARM_TIMER: f64 = 1.0;
    /// Cancel the timer.
    pub const CANCEL_TIMER: f64 = 2.0;
    /// `state` event.
    pub const STATE: f64 = 3.0;
    /// `refreshed` event.
    pub const REFRESHED: f64 = 4.0;
    /// `refresh-error` event.
    pub const REFRESH_ERROR: f64 = 5.0;
    /// `session-ended` event.
    pub const SESSION_ENDED: f64 = 6.0;
    /// `warning` event.
    pub const WARNING: f64 = 7.0;
    /// Resolve one waiting caller (a caller waiting for a token asks for it again).
    pub const SETTLE_OK: f64 = 8.0;
    /// Reject one waiting caller.
    pub const SETTLE_ERR: f64 = 9.0;
    /// Reject the caller of `signIn`/`acceptTokenResponse`.
    pub const REFUSE: f64 = 10.0;
}

/// Input codes of [`decode_input`]; the JS runtime mirrors them.
pub mod input {
    /// Page load: restore the session.
    pub const START: u32 = 0;
    /// The timer fired.
    pub const TIMER_FIRED: u32 = 1;
    /// The page woke up (focus, visibility, pageshow, online).
    pub const WAKE: u32 = 2;
    /// `refresh()`.
    pub const FORCE_REFRESH: u32 = 3;
    // 4 was a 401; it goes through `SessionCore::unauthorized`, which reads the challenge.
    /// Logout finished.
    pub const SIGNED_OUT: u32 = 5;
    /// Another tab ended the session; `arg` indexes [`super::END_REASONS`].
    pub const ENDED_ELSEWHERE: u32 = 6;
    /// `navigator.onLine` changed; `arg` is 1 online, 0 offline.
    pub const CONNECTIVITY: u32 = 7;
    /// Tear down.
    pub const DISPOSE: u32 = 8;
    /// A caller waits for a usable token; `arg` is its id.
    pub const WAIT_TOKEN: u32 = 9;
    /// `start()` waits for the restore; `arg` is its id.
    pub const WAIT_START: u32 = 10;
    /// `refresh()` waits for a new token; `arg` is its id.
    pub const WAIT_REFRESH: u32 = 11;
    /// The caller `arg` was aborted: drop it.
    pub const CANCEL: u32 = 12;
}

/// The reasons another tab may report, by index.
pub const END_REASONS: [EndReason; 3] = [
    EndReason::Logout,
    EndReason::InvalidGrant,
    EndReason::Expired,
];

/// `f64` milliseconds from JS as `u64`: NaN and negatives become 0 (`as` saturates).
pub fn ms(value: f64) -> u64 {
    value as u64
}

/// The core input for a code from JS; `None` for an unknown code or reason.
pub fn decode_input(code: u32, arg: f64) -> Option<Input> {
    Some(match code {
        input::START => Input::Start,
        input::TIMER_FIRED => Input::TimerFired,
        input::WAKE => Input::Wake,
        input::FORCE_REFRESH => Input::ForceRefresh,
        input::SIGNED_OUT => Input::SignedOut,
        input::ENDED_ELSEWHERE => {
            let index = usize::try_from(ms(arg)).ok()?;
            Input::EndedElsewhere(*END_REASONS.get(index)?)
        }
        input::CONNECTIVITY => Input::Connectivity { online: arg != 0.0 },
        input::DISPOSE => Input::Dispose,
        input::WAIT_TOKEN => wait(arg, Want::Token),
        input::WAIT_START => wait(arg, Want::Start),
        input::WAIT_REFRESH => wait(arg, Want::Refresh),
        input::CANCEL => Input::Cancel { id: ms(arg) },
        _ => return None,
    })
}

fn wait(arg: f64, want: Want) -> Input {
    Input::Wait { id: ms(arg), want }
}

/// Effects on their way to JS.
#[derive(Debug, Default)]
pub struct Wire {
    /// The effect records.
    pub nums: Vec<f64>,
    /// The texts the records point at, joined by `\n`.
    pub texts: String,
    /// How many texts `texts` holds.
    count: usize,
}

impl Wire {
    /// Empties both lists for the next call.
    pub fn clear(&mut self) {
        self.nums.clear();
        self.texts.clear();
        self.count = 0;
    }

    /// Appends a text and returns its index as an operand.
    fn text(&mut self, text: &str) -> f64 {
        if self.count > 0 {
            self.texts.push('\n');
        }
        self.texts.push_str(text);
        self.count += 1;
        (self.count - 1) as f64
    }

    /// The code and message of `error` as two text operands.
    fn error(&mut self, error: &Error, endpoint: Endpoint) -> [f64; 2] {
        let code = self.text(error.code());
        let message = self.text(&error.message_for(endpoint));
        [code, message]
    }

    /// Rejects the caller of `signIn`/`acceptTokenResponse` with `error` (op 10); its
    /// message names the sign-in endpoint.
    pub fn refuse(&mut self, error: &Error) {
        let [code, message] = self.error(error, Endpoint::SignIn);
        self.nums.extend_from_slice(&[op::REFUSE, code, message]);
    }

    /// Appends the records of `effects`, in order.
    pub fn push_effects(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::SendRefresh => self.nums.push(op::SEND_REFRESH),
                Effect::ArmTimer { at_ms } => {
                    self.nums.extend_from_slice(&[op::ARM_TIMER, at_ms as f64]);
                }
                Effect::CancelTimer => self.nums.push(op::CANCEL_TIMER),
                Effect::Emit(event) => self.push_event(event),
                Effect::Settle {
                    id,
                    outcome: Ok(()),
                } => {
                    self.nums.extend_from_slice(&[op::SETTLE_OK, id as f64]);
                }
                Effect::Settle {
                    id,
                    outcome: Err(error),
                } => {
                    let [code, message] = self.error(&error, Endpoint::Refresh);
                    self.nums
                        .extend_from_slice(&[op::SETTLE_ERR, id as f64, code, message]);
                }
            }
        }
    }

    fn push_event(&mut self, event: Event) {
        match event {
            Event::State(phase) => {
                let t = self.text(phase.as_str());
                self.nums.extend_from_slice(&[op::STATE, t]);
            }
            Event::Refreshed { expires_at_ms } => {
                self.nums
                    .extend_from_slice(&[op::REFRESHED, expires_at_ms as f64]);
            }
            Event::RefreshError {
                code,
                attempt,
                retry_at_ms,
            } => {
                let t = self.text(code);
                let retry_at = retry_at_ms.map_or(-1.0, |at| at as f64);
                self.nums
                    .extend_from_slice(&[op::REFRESH_ERROR, t, f64::from(attempt), retry_at]);
            }
            Event::SessionEnded { reason } => {
                let t = self.text(reason.as_str());
                self.nums.extend_from_slice(&[op::SESSION_ENDED, t]);
            }
            Event::Warning { code, message } => {
                let code = self.text(code);
                let message = self.text(&message);
                self.nums.extend_from_slice(&[op::WARNING, code, message]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Phase;
    use alloc::vec;

    #[test]
    fn every_input_code_decodes_and_unknown_ones_do_not() {
        assert!(matches!(
            decode_input(input::START, 0.0),
            Some(Input::Start)
        ));
        assert!(decode_input(4, 7.0).is_none(), "a 401 has its own method");
        assert!(matches!(
            decode_input(input::ENDED_ELSEWHERE, 1.0),
            Some(Input::EndedElsewhere(EndReason::InvalidGrant))
        ));
        assert!(decode_input(input::ENDED_ELSEWHERE, 3.0).is_none());
        assert!(matches!(
            decode_input(input::CONNECTIVITY, 0.0),
            Some(Input::Connectivity { online: false })
        ));
        assert!(matches!(
            decode_input(input::DISPOSE, 0.0),
            Some(Input::Dispose)
        ));
        assert!(matches!(
            decode_input(input::WAIT_START, 7.0),
            Some(Input::Wait {
                id: 7,
                want: Want::Start
            })
        ));
        assert!(matches!(
            decode_input(input::WAIT_TOKEN, 8.0),
            Some(Input::Wait {
                id: 8,
                want: Want::Token
            })
        ));
        assert!(matches!(
            decode_input(input::WAIT_REFRESH, 9.0),
            Some(Input::Wait {
                id: 9,
                want: Want::Refresh
            })
        ));
        assert!(matches!(
            decode_input(input::CANCEL, 9.0),
            Some(Input::Cancel { id: 9 })
        ));
        assert!(decode_input(99, 0.0).is_none());
    }

    #[test]
    fn negative_and_nan_times_saturate_to_zero() {
        assert_eq!(ms(-5.0), 0);
        assert_eq!(ms(f64::NAN), 0);
        assert_eq!(ms(1_700_000_000_123.9), 1_700_000_000_123);
    }

    #[test]
    fn effects_encode_in_order_with_their_texts() {
        let mut wire = Wire::default();
        wire.push_effects(vec![
            Effect::Emit(Event::State(Phase::SignedIn)),
            Effect::Emit(Event::Refreshed { expires_at_ms: 5 }),
            Effect::Emit(Event::RefreshError {
                code: "network",
                attempt: 2,
                retry_at_ms: None,
            }),
            Effect::ArmTimer { at_ms: 9 },
            Effect::Settle {
                id: 4,
                outcome: Err(Error::NotSignedIn),
            },
            Effect::Settle {
                id: 5,
                outcome: Ok(()),
            },
            Effect::SendRefresh,
        ]);
        assert_eq!(
            wire.nums,
            [
                3.0, 0.0, 4.0, 5.0, 5.0, 1.0, 2.0, -1.0, 1.0, 9.0, 9.0, 4.0, 2.0, 3.0, 8.0, 5.0,
                0.0
            ]
        );
        assert_eq!(
            wire.texts,
            "signed-in\nnetwork\nnot_signed_in\nnot signed in"
        );
        wire.clear();
        assert!(wire.nums.is_empty() && wire.texts.is_empty());
    }

    #[test]
    fn refusals_carry_code_and_message_never_a_token() {
        let mut wire = Wire::default();
        wire.refuse(&Error::MalformedToken {
            reason: "contains a control character",
        });
        assert_eq!(wire.nums, [10.0, 0.0, 1.0]);
        let (code, message) = wire.texts.split_once('\n').unwrap();
        assert_eq!(code, "malformed_token");
        assert!(message.contains("control character"));
        // A refusal answers the sign-in request: its message names that endpoint.
        wire.clear();
        wire.refuse(&Error::HttpStatus { status: 404 });
        assert_eq!(
            wire.texts,
            "http_error\nthe sign-in endpoint answered with unexpected HTTP 404"
        );
    }
}
