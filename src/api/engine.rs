//! The engine behind a `TokenManager`: the session core, the allow-list and the token's
//! only ways out. The token leaves only as the value of an `Authorization` header the
//! engine writes itself, through `Headers.prototype.set` as `captured.js` read it at
//! load, into a request whose URL it checked against the allow-list; or, with
//! `exposeAccessToken: true` only, through [`Engine::exposed`].

use wasm_bindgen::JsValue;
use zeroize::Zeroizing;

use crate::browser::captured;
use crate::browser::post::{Reply, NO_RESPONSE, TIMED_OUT};
use crate::core::{
    bearer_error, AllowedOrigins, Config, Effect, Error, Input, Phase, RefreshFailure, Session,
};
use crate::decode::{parse_error_response, parse_token_response, server_date_ms};

/// What [`Engine::lend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lend {
    /// The bearer of this generation (at least 1) was written.
    Token(u64),
    /// Nobody is signed in: send without a token.
    NoSession,
    /// A token is coming: wait for the core to settle the caller.
    Wait,
    /// The request's origin is not allowed: send it without a token.
    NotAllowed,
    /// No token will come, for this reason.
    Failed(Error),
}

/// `f64` milliseconds from JS as `u64`: NaN and negatives become 0 (`as` saturates).
fn ms(value: f64) -> u64 {
    value as u64
}

/// The session core with the allow-list and the exposure setting.
pub struct Engine {
    session: Session,
    allowed: AllowedOrigins,
    expose: bool,
}

impl Engine {
    /// A session in phase `initial`; `expose` is `exposeAccessToken`.
    pub fn new(config: Config, allowed: AllowedOrigins, expose: bool) -> Engine {
        Engine {
            session: Session::new(config),
            allowed,
            expose,
        }
    }

    /// Feeds `input` at local time `now` (ms since the epoch).
    pub fn step(&mut self, input: Input, now: f64, rand: f64) -> Vec<Effect> {
        self.session.step(input, ms(now), rand)
    }

    /// Answers a refresh (`accepted` false) or takes a token response the app obtained
    /// itself (`accepted` true: sign-in, `acceptTokenResponse`). A refused app response
    /// is `Err` and leaves the session untouched.
    /// The second value is the outcome for the log: `ok` or the error code.
    pub fn reply(
        &mut self,
        reply: &Reply,
        now: f64,
        rand: f64,
        accepted: bool,
    ) -> (Result<Vec<Effect>, Error>, &'static str) {
        let received_at = ms(reply.received_at);
        let outcome = match reply.status {
            NO_RESPONSE => Err(RefreshFailure::from(Error::Network)),
            TIMED_OUT => Err(RefreshFailure::from(Error::Timeout)),
            200..=299 => {
                let date = server_date_ms(reply.header_date);
                let policy = self.session.config().expiry;
                parse_token_response(&reply.body, received_at, date, &policy).map_err(Into::into)
            }
            status => Err(parse_error_response(
                u16::try_from(status).unwrap_or(u16::MAX),
                &reply.body,
                &reply.header,
                reply.header_date,
                received_at,
            )),
        };
        let code = match &outcome {
            Ok(_) => "ok",
            Err(failure) => failure.error.code(),
        };
        let input = match (outcome, accepted) {
            (Ok(grant), true) => Input::Accepted(grant),
            (Ok(grant), false) => Input::Granted(grant),
            (Err(failure), true) => return (Err(failure.error), code),
            (Err(failure), false) => Input::RefreshFailed(failure),
        };
        (Ok(self.step(input, now, rand)), code)
    }

    /// Whether a request to the serialized `url` may carry the token: its origin is one
    /// of the allowed origins, exactly (see [`crate::core::origin`]).
    pub fn allows(&self, url: &str) -> bool {
        self.allowed.allows(url)
    }

    /// Writes `Authorization: Bearer <token>` into `headers` (a `Headers`) for a request
    /// to the serialized `url`, when its origin is allowed and a token is usable. Without
    /// `headers` it only asks (for `accessToken()`). With `want`, first tells the core a
    /// token is wanted, which may start a refresh inside the lead window; without it
    /// (logout) nothing is started.
    pub fn lend(
        &mut self,
        headers: Option<&JsValue>,
        url: &str,
        now: f64,
        rand: f64,
        want: bool,
    ) -> (Lend, Vec<Effect>) {
        if headers.is_some() && !self.allowed.allows(url) {
            return (Lend::NotAllowed, Vec::new());
        }
        let effects = if want {
            self.step(Input::TokenWanted, now, rand)
        } else {
            Vec::new()
        };
        let now = ms(now);
        if let Some((token, generation)) = self.session.usable_token(now) {
            if let Some(headers) = headers {
                const PREFIX: &str = "Bearer ";
                // Exactly sized, so no reallocation leaves an unwiped copy behind.
                let mut value = Zeroizing::new(String::with_capacity(
                    PREFIX.len().saturating_add(token.len()),
                ));
                value.push_str(PREFIX);
                value.push_str(token.secret());
                // Only a bug passes something other than a Headers: the request then goes
                // without a token and its 401 says so.
                let _ = captured::set_authorization(headers, &value);
            }
            return (Lend::Token(generation), effects);
        }
        let lend = match self.session.phase() {
            Phase::Initial | Phase::SignedOut => Lend::NoSession,
            Phase::Restoring | Phase::SignedIn if self.session.needs_wait(now) => Lend::Wait,
            _ => Lend::Failed(
                self.session
                    .token_unavailable_reason(now)
                    .unwrap_or(Error::TokenExpired),
            ),
        };
        (lend, effects)
    }

    /// The bare token for `accessToken()`: only with `expose`, and only while a token is
    /// usable at `now`.
    pub fn exposed(&self, now: f64) -> Option<Zeroizing<String>> {
        match self.session.usable_token(ms(now)) {
            Some((token, _)) if self.expose => Some(Zeroizing::new(String::from(token.secret()))),
            _ => None,
        }
    }

    /// A request sent with the token of `generation` got a 401 whose `WWW-Authenticate`
    /// is `challenge` (empty when absent). `Some` when the 401 invites a new token
    /// (RFC 6750 §3.1: `invalid_token`, or no error code): the core stops lending that
    /// token and refreshes, and the caller waits and retries once. `None` for any other
    /// error code (`insufficient_scope`, ...): the 401 is returned untouched.
    pub fn unauthorized(
        &mut self,
        generation: u64,
        challenge: &str,
        now: f64,
        rand: f64,
    ) -> Option<Vec<Effect>> {
        if !bearer_error(challenge).invites_new_token() {
            return None;
        }
        Some(self.step(Input::Unauthorized { generation }, now, rand))
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.session.phase()
    }

    /// When the token usable at `now` expires (local ms).
    pub fn expires_at(&self, now: f64) -> Option<u64> {
        self.session.expires_at_ms(ms(now))
    }

    /// Failed attempts of the current refresh cycle.
    pub fn attempt(&self) -> u32 {
        self.session.attempt()
    }

    /// When the next refresh goes out by itself (local ms), if scheduled.
    pub fn next_refresh_at_ms(&self) -> Option<u64> {
        self.session.next_refresh_at_ms()
    }

    /// The generation of the current token (bumps on every grant).
    pub fn generation(&self) -> u64 {
        self.session.generation()
    }

    /// The generation that began the current session (see `Session::session_since`).
    pub fn session_since(&self) -> u64 {
        self.session.session_since()
    }

    /// The unverified JWT payload as JSON text, for display only; `None` for opaque tokens.
    pub fn claims_json(&self) -> Option<&str> {
        self.session.claims().map(|c| c.payload_json.as_str())
    }
}
