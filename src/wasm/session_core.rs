//! `SessionCore`: the one class the JavaScript runtime talks to. It owns the session
//! state machine, the access token and the allow-list of origins. The token leaves only
//! as the value of an `Authorization` header the core writes itself, through
//! `Headers.prototype.set` as the glue captured it at load, into a request whose URL it
//! checked against the allow-list; or, with `exposeAccessToken: true` only, as the return
//! value of [`SessionCore::exposed`]. No method takes a function to hand the token to.

use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use super::wire::{decode_input, ms, Wire};
use crate::core::{
    bearer_error, AllowedOrigins, Config, Error, ExpiryPolicy, Input, Phase, RefreshFailure,
    RetryPolicy, Session,
};
use crate::decode::{parse_error_response, parse_token_response, server_date_ms};

#[wasm_bindgen]
extern "C" {
    /// Sets `Authorization: value` on `headers` with `Headers.prototype.set` as it was when
    /// the glue loaded: the hardened glue defines `twSetAuthorization` at module level
    /// (xtask/src/glue.rs), so a page script that patches `Headers`, `Function.prototype`
    /// or `Reflect` later is not called. Throws if `headers` is not a `Headers`.
    #[wasm_bindgen(catch, js_name = twSetAuthorization)]
    fn set_authorization(headers: &JsValue, value: &str) -> Result<(), JsValue>;
}

/// What [`SessionCore::reply`] means by status 0: no response (a network error).
pub const NO_RESPONSE: u32 = 0;
/// What [`SessionCore::reply`] means by status 1: no response in time.
pub const TIMED_OUT: u32 = 1;

/// [`SessionCore::lend`] when nobody is signed in: send without a token.
pub const LEND_NO_SESSION: f64 = -1.0;
/// [`SessionCore::lend`] when a refresh is coming: wait for the waiters to be released.
pub const LEND_WAIT: f64 = -2.0;
/// [`SessionCore::lend`] when no token will come: the reason is a refusal record.
pub const LEND_FAILED: f64 = -3.0;
/// [`SessionCore::lend`] when the request's origin is not allowed: send it without a token.
pub const LEND_NOT_ALLOWED: f64 = -4.0;

/// The session core behind a `TokenManager`. Options arrive validated by the runtime;
/// out-of-range values are clamped by [`Session::new`] rather than trusted.
#[wasm_bindgen]
pub struct SessionCore {
    session: Session,
    wire: Wire,
    allowed: AllowedOrigins,
    expose: bool,
}

#[wasm_bindgen]
impl SessionCore {
    /// A session in phase `initial`. `default_lifetime_ms` 0 means none;
    /// `allowed_origins` are the serialized origins whose requests get the token, one per
    /// line; `expose` is `exposeAccessToken` (fixed for the life of the core).
    /// `request_timeout_ms` bounds the waits of `start()` and of callers wanting a token.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        refresh_lead_ms: f64,
        max_attempts: u32,
        base_delay_ms: f64,
        max_delay_ms: f64,
        default_lifetime_ms: f64,
        max_token_bytes: u32,
        max_refreshes_per_minute: u32,
        allowed_origins: &str,
        expose: bool,
        request_timeout_ms: f64,
    ) -> SessionCore {
        let default_lifetime_ms = ms(default_lifetime_ms);
        let config = Config {
            refresh_lead_ms: ms(refresh_lead_ms),
            retry: RetryPolicy {
                max_attempts,
                base_delay_ms: ms(base_delay_ms),
                max_delay_ms: ms(max_delay_ms),
            },
            expiry: ExpiryPolicy {
                default_lifetime_ms: (default_lifetime_ms > 0).then_some(default_lifetime_ms),
                max_token_bytes: max_token_bytes as usize,
            },
            max_refreshes_per_minute,
            // 0 (or NaN) would settle every wait at once: one ms at least.
            request_timeout_ms: ms(request_timeout_ms).max(1),
        };
        SessionCore {
            session: Session::new(config),
            wire: Wire::default(),
            allowed: AllowedOrigins::parse(allowed_origins),
            expose,
        }
    }

    /// Feeds input `code` (see `wire::input`) at local time `now`; returns the effect
    /// records. An unknown code does nothing. A waiting caller (`WAIT_*`, `arg` its id)
    /// is settled by exactly one op 8 or 9 record with its id, perhaps in these records.
    pub fn step(&mut self, code: u32, arg: f64, now: f64, rand: f64) -> Vec<f64> {
        self.wire.clear();
        if let Some(input) = decode_input(code, arg) {
            self.feed(input, now, rand);
        }
        self.take()
    }

    /// Answers a refresh (`accepted` false) or takes a token response the app obtained
    /// itself (`accepted` true: sign-in, `acceptTokenResponse`). `status` is the HTTP
    /// status, or [`NO_RESPONSE`] / [`TIMED_OUT`]; `header` is the `Date` header of a
    /// 2xx and the `Retry-After` of an error (empty when absent), and `header_date` the
    /// same header read by `Date.parse` (ms since the epoch, NaN when it is no date).
    /// A refused app response ends in a refusal record instead of touching the session.
    #[allow(clippy::too_many_arguments)]
    pub fn reply(
        &mut self,
        status: u32,
        body: &str,
        header: &str,
        header_date: f64,
        now: f64,
        rand: f64,
        accepted: bool,
    ) -> Vec<f64> {
        self.wire.clear();
        let received_at = ms(now);
        let failure = match status {
            NO_RESPONSE => Err(RefreshFailure::from(Error::Network)),
            TIMED_OUT => Err(RefreshFailure::from(Error::Timeout)),
            200..=299 => {
                let date = server_date_ms(header_date);
                let policy = self.session.config().expiry;
                parse_token_response(body, received_at, date, &policy).map_err(Into::into)
            }
            _ => {
                let status = u16::try_from(status).unwrap_or(u16::MAX);
                Err(parse_error_response(
                    status,
                    body,
                    header,
                    header_date,
                    received_at,
                ))
            }
        };
        match (failure, accepted) {
            (Ok(grant), true) => self.feed(Input::Accepted(grant), now, rand),
            (Ok(grant), false) => self.feed(Input::Granted(grant), now, rand),
            (Err(failure), true) => self.wire.refuse(&failure.error),
            (Err(failure), false) => self.feed(Input::RefreshFailed(failure), now, rand),
        }
        self.take()
    }

    /// Whether a request to the serialized `url` may carry the token: its origin is one
    /// of the allowed origins, exactly (see [`crate::core::origin`]).
    pub fn allows(&self, url: &str) -> bool {
        self.allowed.allows(url)
    }

    /// Writes `Authorization: Bearer <token>` into `headers` (a `Headers`) for a request
    /// to the serialized `url`, when its origin is allowed and a token is usable. An empty
    /// `url` writes nothing and only asks (for `accessToken()`, then
    /// [`SessionCore::exposed`]). With `want`, first tells the core a token is wanted,
    /// which may start a refresh inside the lead window; without it (logout) nothing is
    /// started. Returns the token's generation (at least 1) or one of the `LEND_*`
    /// statuses ([`LEND_NOT_ALLOWED`] before anything else); any effects and the refusal
    /// wait in [`SessionCore::take`].
    pub fn lend(&mut self, headers: &JsValue, url: &str, now: f64, rand: f64, want: bool) -> f64 {
        self.wire.clear();
        let probe = url.is_empty();
        if !probe && !self.allowed.allows(url) {
            return LEND_NOT_ALLOWED;
        }
        if want {
            self.feed(Input::TokenWanted, now, rand);
        }
        let now = ms(now);
        if let Some((token, generation)) = self.session.usable_token(now) {
            if !probe {
                const PREFIX: &str = "Bearer ";
                // Exactly sized, so no reallocation leaves an unwiped copy behind.
                let mut value = Zeroizing::new(String::with_capacity(
                    PREFIX.len().saturating_add(token.len()),
                ));
                value.push_str(PREFIX);
                value.push_str(token.secret());
                // Only a runtime bug passes something other than a Headers: the request
                // then goes without a token and its 401 says so.
                let _ = set_authorization(headers, &value);
            }
            return generation as f64;
        }
        match self.session.phase() {
            Phase::Initial | Phase::SignedOut => LEND_NO_SESSION,
            Phase::Restoring | Phase::SignedIn if self.session.needs_wait(now) => LEND_WAIT,
            _ => {
                let reason = self
                    .session
                    .token_unavailable_reason(now)
                    .unwrap_or(Error::TokenExpired);
                self.wire.refuse(&reason);
                LEND_FAILED
            }
        }
    }

    /// The bare token for `accessToken()`: only for a core created with `expose`, and
    /// only while a token is usable at `now`; empty otherwise. Ask [`SessionCore::lend`]
    /// (with an empty `url`) first, to wait for a refresh.
    pub fn exposed(&self, now: f64) -> String {
        match self.session.usable_token(ms(now)) {
            Some((token, _)) if self.expose => String::from(token.secret()),
            _ => String::new(),
        }
    }

    /// A request sent with the token of `generation` got a 401 whose `WWW-Authenticate`
    /// is `www_authenticate` (empty when absent or unreadable). Returns whether the 401
    /// invites a new token (RFC 6750 §3.1: `invalid_token`, or no error code): then the
    /// core stops lending that token and refreshes, and the caller waits for a token and
    /// retries once. Any other error code (`insufficient_scope`, ...) is no token
    /// problem: nothing happens and the caller returns the 401 untouched. Any effects
    /// wait in [`SessionCore::take`].
    pub fn unauthorized(
        &mut self,
        generation: f64,
        www_authenticate: &str,
        now: f64,
        rand: f64,
    ) -> bool {
        self.wire.clear();
        if !bearer_error(www_authenticate).invites_new_token() {
            return false;
        }
        let generation = ms(generation);
        self.feed(Input::Unauthorized { generation }, now, rand);
        true
    }

    /// Whether the last call left effect records (cheaper than an empty `take`).
    pub fn pending(&self) -> bool {
        !self.wire.nums.is_empty()
    }

    /// The effect records left by the last call (emptied by reading).
    pub fn take(&mut self) -> Vec<f64> {
        core::mem::take(&mut self.wire.nums)
    }

    /// The texts the last records point at, joined by `\n`.
    pub fn texts(&self) -> String {
        self.wire.texts.clone()
    }

    /// The phase, e.g. `signed-in`.
    pub fn phase(&self) -> String {
        String::from(self.session.phase().as_str())
    }

    /// When the token in use expires (local ms), or -1 without a token usable at `now`.
    #[wasm_bindgen(js_name = expiresAt)]
    pub fn expires_at(&self, now: f64) -> f64 {
        self.session
            .expires_at_ms(ms(now))
            .map_or(-1.0, |at| at as f64)
    }

    /// The generation of the current token (bumps on every grant).
    pub fn generation(&self) -> f64 {
        self.session.generation() as f64
    }

    /// The unverified JWT payload as JSON text, for display only; empty for opaque tokens.
    pub fn claims(&self) -> String {
        self.session
            .claims()
            .map(|c| c.payload_json.clone())
            .unwrap_or_default()
    }

    fn feed(&mut self, input: Input, now: f64, rand: f64) {
        let effects = self.session.step(input, ms(now), rand);
        self.wire.push_effects(effects);
    }
}
