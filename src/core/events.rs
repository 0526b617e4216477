//! The vocabulary between the session state machine and the browser layer:
//! what happened (`Input`), what to do (`Effect`), what to tell the app
//! (`Event`).

use super::error_response::RefreshFailure;
use super::token_response::TokenGrant;
use super::Error;

/// The session's lifecycle phase, mirrored to JS as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Constructed; nothing attempted yet.
    Initial,
    /// Trying to restore a session from the refresh cookie.
    Restoring,
    /// A token was granted and the session is live.
    SignedIn,
    /// No session (never had one, logged out, or the grant was revoked).
    SignedOut,
    /// Torn down; every input is ignored.
    Disposed,
}

impl Phase {
    /// Stable name for JS.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initial => "initial",
            Phase::Restoring => "restoring",
            Phase::SignedIn => "signed-in",
            Phase::SignedOut => "signed-out",
            Phase::Disposed => "disposed",
        }
    }
}

/// Why a signed-in session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The app logged out.
    Logout,
    /// The refresh token was rejected (or the server refused the client).
    InvalidGrant,
    /// The token expired and the refresh cycle gave up (the refresh endpoint kept
    /// failing, or answered what the client refuses): no usable token is left and
    /// none is coming, so the session says so instead of staying `signed-in`. The
    /// cookie may still be good: `start()` tries it again.
    Expired,
    /// The instance was disposed while signed in.
    Disposed,
    /// A grant (refresh, restore, sign-in, `acceptTokenResponse`) is for another subject
    /// than the token in memory: the old user's session is over, the new user's begins.
    UserChanged,
}

impl EndReason {
    /// Stable name for JS.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::InvalidGrant => "invalid_grant",
            EndReason::Expired => "expired",
            EndReason::Disposed => "disposed",
            EndReason::UserChanged => "user-changed",
        }
    }
}

/// The `code`s of the `warning` event, every one the library emits (`WarningCode` in
/// `types.d.ts` is the same list; a test keeps them equal).
pub mod warning {
    /// The token response carried a `refresh_token`; it was discarded.
    pub const REFRESH_TOKEN_IN_BODY: &str = "refresh_token_in_body";
    /// The per-minute refresh ceiling was hit; refreshes pause.
    pub const TOO_MANY_REFRESHES: &str = "too_many_refreshes";
    /// The logout request failed; the session was cleared locally anyway.
    pub const LOGOUT_FAILED: &str = "logout_failed";
    /// No `BroadcastChannel`: other tabs do not hear of sign-in and sign-out.
    pub const NO_BROADCAST_CHANNEL: &str = "no_broadcast_channel";
    /// No Web Locks: refreshes are not coordinated across tabs.
    pub const NO_WEB_LOCKS: &str = "no_web_locks";
    /// All of them.
    pub const CODES: [&str; 5] = [
        REFRESH_TOKEN_IN_BODY,
        TOO_MANY_REFRESHES,
        LOGOUT_FAILED,
        NO_BROADCAST_CHANNEL,
        NO_WEB_LOCKS,
    ];
}

/// Something the app may want to observe. Never carries token bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The phase changed (emitted exactly once per change).
    State(Phase),
    /// A new token is in place.
    Refreshed {
        /// When the new token expires (local ms).
        expires_at_ms: u64,
    },
    /// A refresh attempt failed.
    RefreshError {
        /// [`Error::code`] of the failure.
        code: &'static str,
        /// 1-based attempt number within the current cycle.
        attempt: u32,
        /// When the next attempt is scheduled; `None` when giving up.
        retry_at_ms: Option<u64>,
    },
    /// A signed-in session ended.
    SessionEnded {
        /// Why.
        reason: EndReason,
    },
    /// Something is wrong but the session goes on (e.g. the server sent a
    /// `refresh_token` in the body, or the refresh ceiling was hit).
    Warning {
        /// Stable warning code.
        code: &'static str,
        /// Human explanation.
        message: String,
    },
}

/// What a waiting caller waits for. Each kind settles by its own rule, always within a
/// bound derived from the configuration (see [`super::Session`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A usable token (`tm.fetch`, `accessToken()`, the retry after a 401). Settles `Ok`
    /// once a token is usable or the session is gone, so the caller asks again and
    /// sends with or without it; `Err` when the cycle gives up or is blocked by the
    /// refresh ceiling; `token_expired` after `request_timeout_ms`.
    Token,
    /// The outcome of restoring the session (`start()`). Starts the restore when
    /// nothing runs (`initial`, `signed-out`), joins it otherwise. Settles `Ok` when it
    /// signs in or finds no session, `Err` with the first failure of the restore (the
    /// restore may go on in the background), the last failure (or `timeout`) after
    /// `request_timeout_ms`.
    Start,
    /// A token newer than the call (`refresh()`). Starts a refresh or joins the running
    /// one; in phase `initial` it restores first. Settles `Ok` on the next grant, `Err`
    /// when the cycle gives up, pauses offline, hits the refresh ceiling or the session
    /// ends, and with the last failure (or `timeout`) after the whole retry window.
    Refresh,
}

/// Everything the browser layer reports to [`super::Session::step`].
#[derive(Debug)]
pub enum Input {
    /// Page load: try to restore the session via the refresh cookie.
    Start,
    /// The refresh request (the answer to a `SendRefresh`) succeeded.
    Granted(TokenGrant),
    /// A token the app obtained itself (sign-in, `acceptTokenResponse`). Unlike
    /// [`Input::Granted`] it answers no `SendRefresh`: a refresh still in flight
    /// started before it, so that refresh's late outcome is ignored.
    Accepted(TokenGrant),
    /// The refresh request failed (including `Error::Aborted` when the
    /// browser aborted it: every `SendRefresh` gets exactly one outcome).
    RefreshFailed(RefreshFailure),
    /// The single refresh/retry timer fired.
    TimerFired,
    /// visibilitychange/focus/online/pageshow: timers may have been
    /// throttled or the machine slept, so re-check the wall clock.
    Wake,
    /// A fetch or `accessToken()` wants a token now.
    TokenWanted,
    /// The app called `refresh()`.
    ForceRefresh,
    /// An allowed-origin request sent with token `generation` got a 401.
    Unauthorized {
        /// The generation returned by `usable_token` for that request.
        generation: u64,
    },
    /// Logout finished; memory is cleared whatever the server said.
    SignedOut,
    /// Another tab of the same app ended the session (logout, or its refresh was
    /// rejected): end it here too, without contacting the server.
    EndedElsewhere(EndReason),
    /// `navigator.onLine` changed. It is a hint for scheduling: offline, refreshes the
    /// timer asks for wait instead of failing, while a caller that needs a token still
    /// gets one attempt (the network may in fact work). A request that fails for lack
    /// of network while offline spends no attempt. Back online, a waiting refresh goes
    /// out at once.
    Connectivity {
        /// The new `navigator.onLine`.
        online: bool,
    },
    /// Tear down for good.
    Dispose,
    /// A caller starts waiting for `want`; it is settled by one [`Effect::Settle`]
    /// with this `id` (perhaps in the same step).
    Wait {
        /// Chosen by the browser layer, unique among the waiting callers.
        id: u64,
        /// What it waits for.
        want: Want,
    },
    /// The caller `id` gave up waiting (its `AbortSignal` fired): it is dropped without
    /// a settle. What it waited for goes on for the others.
    Cancel {
        /// The id of its [`Input::Wait`].
        id: u64,
    },
}

/// Instructions for the browser layer, executed in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// POST the refresh endpoint, then feed back exactly one `Granted` or
    /// `RefreshFailed` (also when the request is aborted).
    SendRefresh,
    /// (Re)arm THE timer at an absolute local time, replacing any previous
    /// one. Use `clamp_timer_delay`; an early fire is handled by re-arming.
    ArmTimer {
        /// Absolute local ms.
        at_ms: u64,
    },
    /// Cancel the timer.
    CancelTimer,
    /// Dispatch an event to the app.
    Emit(Event),
    /// Settle the waiting caller `id`: `Ok` resolves it (a [`Want::Token`] caller then
    /// asks for the token again), `Err` rejects it with the error.
    Settle {
        /// The id of its [`Input::Wait`].
        id: u64,
        /// How it ends.
        outcome: Result<(), Error>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let phases = [
            Phase::Initial,
            Phase::Restoring,
            Phase::SignedIn,
            Phase::SignedOut,
            Phase::Disposed,
        ];
        let names: Vec<_> = phases.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "initial",
                "restoring",
                "signed-in",
                "signed-out",
                "disposed"
            ]
        );
        let reasons = [
            EndReason::Logout,
            EndReason::InvalidGrant,
            EndReason::Expired,
            EndReason::Disposed,
            EndReason::UserChanged,
        ];
        let names: Vec<_> = reasons.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "logout",
                "invalid_grant",
                "expired",
                "disposed",
                "user-changed"
            ]
        );
    }

    /// `WarningCode` in the shipped declarations lists exactly the codes emitted.
    #[test]
    fn warning_codes_match_the_declarations() {
        let dts = include_str!("../../npm/types.d.ts");
        let start = dts
            .find("export type WarningCode =")
            .expect("WarningCode is declared");
        let rest = &dts[start..];
        let union = &rest[..rest.find(';').expect("the union ends")];
        let declared: Vec<&str> = union.split('\'').skip(1).step_by(2).collect();
        let mut emitted = warning::CODES.to_vec();
        emitted.sort_unstable();
        let mut declared_sorted = declared.clone();
        declared_sorted.sort_unstable();
        assert_eq!(declared_sorted, emitted);
        // And every code the sources emit is in the list: no bare literal elsewhere.
        for source in [
            include_str!("session.rs"),
            include_str!("../api/manager.rs"),
            include_str!("../api/token_manager.rs"),
        ] {
            for code in [
                "\"refresh_token_in_body\"",
                "\"logout_failed\"",
                "\"no_web_locks\"",
            ] {
                assert!(!source.contains(code), "use events::warning::* for {code}");
            }
        }
    }
}
