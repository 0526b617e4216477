//! `TokenManager`, the class the app gets from `createTokenManager`: exactly the API of
//! `types.d.ts`. Each method checks its arguments, then hands the work to the
//! [`Manager`] and the browser layer.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortSignal;

use super::engine::Lend;
use super::errors::{disposed, invalid_option, tw_error, Where};
use super::events::{self, EVENTS};
use super::log::Entry;
use super::manager::Manager;
use super::options;
use crate::browser::clock::now_ms;
use crate::browser::post::{as_signal, BadInit, Post, Reply, NO_RESPONSE, TIMED_OUT};
use crate::browser::{captured, network};
use crate::core::error::concat;
use crate::core::events::warning;
use crate::core::{Error, Input, Operation, Want};
use crate::decode::parse_error_response;

/// Keeps the access token in WebAssembly memory and refreshes it silently through the
/// HttpOnly refresh cookie.
#[wasm_bindgen]
pub struct TokenManager {
    inner: Rc<Manager>,
}

fn not_signed_in() -> JsValue {
    tw_error(Error::NotSignedIn.code(), &Error::NotSignedIn.message())
}

fn bad_init(BadInit(field): BadInit) -> JsValue {
    match field {
        "url" => invalid_option("url", "the request could not be built"),
        field => invalid_option(field, "the headers could not be read"),
    }
}

#[wasm_bindgen]
impl TokenManager {
    /// Validates `options`; throws `invalid_options` naming the bad field.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<TokenManager, JsValue> {
        if !captured::has_fetch() {
            return Err(invalid_option(
                "fetch",
                "this environment has no fetch, Request, Response, Headers or URL: token-warden runs in the browser",
            ));
        }
        let options = options::parse(options)?;
        Ok(TokenManager {
            inner: Manager::new(options),
        })
    }

    /// The session state: `initial`, `restoring`, `signed-in`, `signed-out`, `disposed`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.inner.phase().as_str().into()
    }

    /// When the access token expires, in ms since the epoch; null without a usable token.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> JsValue {
        self.inner
            .expires_at()
            .map_or(JsValue::NULL, |at| JsValue::from_f64(at as f64))
    }

    /// The decoded, UNVERIFIED JWT payload, for display only; null for opaque tokens.
    pub fn claims(&self) -> JsValue {
        self.inner
            .claims_json()
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Restores the session through the refresh cookie (or joins the restore running);
    /// resolves `signed-in` or `signed-out`, never `restoring`.
    pub fn start(&self) -> Promise {
        let m = &self.inner;
        if m.gone() {
            return Promise::reject(&disposed());
        }
        for (code, message) in m.take_pending_warnings() {
            m.emit("warning", &events::warning(code, message));
        }
        m.wait(
            Want::Start,
            String::new(),
            None,
            Some(Box::new(|m: &Rc<Manager>| {
                Ok(JsValue::from_str(m.phase().as_str()))
            })),
        )
    }

    /// POSTs the app's login request (credentials included) and takes the token
    /// response it answers.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&self, url: JsValue, init: JsValue) -> Promise {
        match self.sign_in_request(&url, &init) {
            Ok((post, signal)) => {
                let m = self.inner.clone();
                let timeout_ms = m.options.timeout_ms;
                let at = Where::new(Operation::SignIn, &post.url());
                m.log(&Entry::Sent {
                    operation: Operation::SignIn.as_str(),
                    endpoint: &at.endpoint,
                    attempt: None,
                });
                future_to_promise(async move {
                    let reply = post.send(timeout_ms, signal.clone(), true).await;
                    // An aborted sign-in takes no late answer.
                    if let Some(signal) = signal.filter(|s| s.aborted()) {
                        return Err(signal.reason());
                    }
                    m.accept(&reply, Some(&at))
                        .map(|phase| JsValue::from_str(phase.as_str()))
                })
            }
            Err(error) => Promise::reject(&error),
        }
    }

    fn sign_in_request(
        &self,
        url: &JsValue,
        init: &JsValue,
    ) -> Result<(Post, Option<AbortSignal>), JsValue> {
        self.inner.alive()?;
        let text = if let Some(text) = url.as_string() {
            text
        } else if url.is_object() {
            captured::to_string(url).unwrap_or_default()
        } else {
            return Err(invalid_option("url", "expected a URL string"));
        };
        if text.trim().is_empty() {
            return Err(invalid_option(
                "url",
                "must not be empty (an empty URL is the page itself)",
            ));
        }
        let href =
            captured::absolute(&text).ok_or_else(|| invalid_option("url", "not a valid URL"))?;
        let signal = if init.is_object() {
            js_sys::Reflect::get(init, &JsValue::from_str("signal")).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        };
        let signal = if signal.is_undefined() || signal.is_null() {
            None
        } else {
            Some(
                as_signal(&signal)
                    .ok_or_else(|| invalid_option("init.signal", "expected an AbortSignal"))?,
            )
        };
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            return Err(signal.reason());
        }
        let post = Post::build(&href, init, self.inner.options.csrf.as_ref()).map_err(bad_init)?;
        Ok((post, signal))
    }

    /// Takes a token response (RFC 6749 §5.1, object or JSON text) the app obtained itself.
    #[wasm_bindgen(js_name = acceptTokenResponse)]
    pub fn accept_token_response(&self, response: JsValue) -> Result<String, JsValue> {
        self.inner.alive()?;
        // An object goes through `JSON.stringify` as it was at load.
        let body = response
            .as_string()
            .or_else(|| captured::stringify(&response))
            .ok_or_else(|| {
                tw_error(
                    "malformed_response",
                    "the token response is malformed: not JSON",
                )
            })?;
        let reply = Reply {
            status: 200,
            body: zeroize::Zeroizing::new(body),
            header: String::new(),
            header_date: f64::NAN,
            received_at: now_ms(),
        };
        self.inner
            .accept(&reply, None)
            .map(|phase| phase.as_str().into())
    }

    /// `fetch`, plus `Authorization: Bearer` for allowed origins and one
    /// refresh-and-retry on a 401 that asks for a new token (RFC 6750 §3.1).
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let m = &self.inner;
        if m.gone() {
            return Promise::reject(&disposed());
        }
        // `fetch` rejects (never throws) on a bad input; so do we, with its TypeError.
        let request = match captured::request(&input, &init) {
            Ok(request) => request,
            Err(error) => return Promise::reject(&error),
        };
        // The request's signal follows the caller's (init.signal or the input Request's).
        let signal = as_signal(&captured::request_signal(&request));
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            return Promise::reject(&signal.reason());
        }
        let headers = captured::request_headers(&request);
        // The core decides on the URL the browser serialized.
        let url = captured::request_url(&request);
        if captured::has(&headers, "Authorization") {
            log_request(m, &url, false, "has-authorization");
            return network::send(&request);
        }
        if !m.allows(&url) {
            log_request(m, &url, false, "not-allowed");
            return network::send(&request);
        }
        // A body can be read once: a request with one is cloned before it is sent, except
        // a stream, which cannot be replayed (such a request is never retried). A
        // bodyless request is cloned only if a 401 asks for a retry.
        let has_body = captured::request_has_body(&request);
        let spare = if !has_body {
            Some(request.clone())
        } else if captured::is_stream_body(&init) {
            None
        } else {
            captured::clone_request(&request).ok()
        };
        let lent = match m.lend(Some(&headers), &url, true) {
            Ok(lent) => lent,
            Err(error) => return Promise::reject(&error),
        };
        let send = Send {
            request,
            spare,
            has_body,
            signal,
        };
        match lent {
            Lend::Token(generation) => {
                log_request(m, &url, true, "token");
                send.checked(m, generation)
            }
            Lend::Wait => {
                let logged = m.logging().then(|| url.clone());
                // The session this call began in: if another begins while it waits
                // (another user, a new sign-in), the call is not served by its token.
                let basis = m.basis();
                let waited = wait_to_lend(m, Some(headers), url, send.signal.clone(), basis);
                let m = m.clone();
                future_to_promise(async move {
                    let g = JsFuture::from(waited).await?.as_f64().unwrap_or(-1.0);
                    let switched = g == SWITCHED;
                    if let Some(url) = logged {
                        let (bearer, reason) = if g >= 1.0 {
                            (true, "token")
                        } else if switched {
                            (false, "user-changed")
                        } else {
                            (false, "no-token")
                        };
                        log_request(&m, &url, bearer, reason);
                    }
                    if g >= 1.0 {
                        JsFuture::from(send.checked(&m, g as u64)).await
                    } else {
                        JsFuture::from(network::send(&send.request)).await
                    }
                })
            }
            Lend::NoSession => {
                log_request(m, &url, false, "no-session");
                network::send(&send.request)
            }
            Lend::NotAllowed | Lend::Failed(_) => {
                log_request(m, &url, false, "no-token");
                network::send(&send.request)
            }
        }
    }

    /// Refreshes now (joining a refresh already running); resolves once a new token is
    /// in memory.
    pub fn refresh(&self) -> Promise {
        if self.inner.gone() {
            return Promise::reject(&disposed());
        }
        self.inner.wait(Want::Refresh, String::new(), None, None)
    }

    /// Logs out at `logoutUrl` (if set) and clears memory at once, whatever the server
    /// will answer; resolves when it has answered. The request is built, bearer
    /// included, before memory is cleared.
    pub fn logout(&self) -> Promise {
        let m = self.inner.clone();
        if m.gone() {
            return Promise::reject(&disposed());
        }
        let post = m.options.logout_url.as_deref().and_then(|url| {
            let post = Post::build(url, &JsValue::UNDEFINED, m.options.csrf.as_ref()).ok()?;
            // The bearer (if the logout URL's origin is allowed) lets the server
            // deny-list the access token until it expires; asking starts no refresh.
            let _ = m.lend(Some(&post.headers()), &post.url(), false);
            Some(post)
        });
        let sent = post.map(|post| {
            let at = Where::new(Operation::Logout, &post.url());
            m.log(&Entry::Sent {
                operation: Operation::Logout.as_str(),
                endpoint: &at.endpoint,
                attempt: None,
            });
            (at, post.send(m.options.timeout_ms, None, true))
        });
        // The core settles whoever waits; a refresh in flight is abandoned first.
        m.logged_out();
        m.feed(Input::SignedOut);
        m.abort_refresh();
        future_to_promise(async move {
            let Some((at, sent)) = sent else {
                return Ok(JsValue::UNDEFINED);
            };
            let reply = sent.await;
            let problem = match reply.status {
                NO_RESPONSE => Some(Error::Network),
                TIMED_OUT => Some(Error::Timeout),
                200..=299 => None,
                status => Some(
                    parse_error_response(
                        u16::try_from(status).unwrap_or(u16::MAX),
                        &reply.body,
                        "",
                        f64::NAN,
                        0,
                    )
                    .error,
                ),
            };
            m.log(&Entry::Answered {
                operation: Operation::Logout.as_str(),
                status: reply.responded().then_some(reply.status),
                outcome: problem.as_ref().map_or("ok", Error::code),
            });
            if let Some(problem) = problem {
                let message = concat(&[
                    &problem.message_at(Some(&at.at())),
                    "; the session was cleared locally anyway",
                ]);
                m.emit(
                    "warning",
                    &events::warning(warning::LOGOUT_FAILED, &message),
                );
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The raw token; rejects with `token_not_exposed` unless `exposeAccessToken: true`.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self) -> Promise {
        let m = self.inner.clone();
        if m.gone() {
            return Promise::reject(&disposed());
        }
        if !m.options.expose {
            return Promise::reject(&tw_error(
                Error::TokenNotExposed.code(),
                &Error::TokenNotExposed.message(),
            ));
        }
        let ready = match m.lend(None, "", true) {
            Err(error) => return Promise::reject(&error),
            Ok(Lend::Wait) => wait_to_lend(&m, None, String::new(), None, 0),
            Ok(Lend::Token(g)) => Promise::resolve(&JsValue::from_f64(g as f64)),
            Ok(_) => Promise::resolve(&JsValue::from_f64(-1.0)),
        };
        future_to_promise(async move {
            let generation = JsFuture::from(ready).await?.as_f64().unwrap_or(-1.0);
            let token = if generation >= 1.0 { m.exposed() } else { None };
            match token {
                Some(token) => Ok(JsValue::from_str(&token)),
                None => Err(not_signed_in()),
            }
        })
    }

    /// Subscribes `handler` to `event`; returns the function that unsubscribes.
    pub fn on(&self, event: JsValue, handler: JsValue) -> Result<Function, JsValue> {
        self.inner.alive()?;
        let name = event
            .as_string()
            .and_then(|name| EVENTS.iter().copied().find(|e| *e == name))
            .ok_or_else(|| {
                invalid_option(
                    "event",
                    &concat(&["unknown event; expected one of ", &EVENTS.join(", ")]),
                )
            })?;
        let handler: Function = handler
            .dyn_into()
            .map_err(|_| invalid_option("handler", "expected a function"))?;
        let id = self.inner.subscribe(name, handler);
        let weak = self.inner.weak();
        let unsubscribe = Closure::<dyn Fn()>::new(move || {
            if let Some(m) = weak.upgrade() {
                m.unsubscribe(id);
            }
        });
        Ok(unsubscribe.into_js_value().unchecked_into())
    }

    /// Cancels timers, listeners and in-flight requests and clears the token; later
    /// calls reject with `disposed`.
    pub fn dispose(&self) {
        self.inner.dispose();
    }
}

impl Drop for TokenManager {
    /// `free()`: the manager is disposed first, so nothing it started outlives it.
    fn drop(&mut self) {
        self.inner.dispose();
    }
}

/// Waits until the core settles the caller, then lends at once (in the same task):
/// into `headers` for a request to `url`, or, without headers, only asks (`accessToken()`).
fn wait_to_lend(
    m: &Rc<Manager>,
    headers: Option<JsValue>,
    url: String,
    signal: Option<AbortSignal>,
    basis: u64,
) -> Promise {
    m.wait(
        Want::Token,
        url.clone(),
        signal,
        Some(Box::new(move |m: &Rc<Manager>| {
            // Checked before the core writes the bearer: a call begun in a session that
            // has since been replaced gets no token ([`SWITCHED`]).
            if m.switched_since(basis) {
                return Ok(JsValue::from_f64(SWITCHED));
            }
            match m.lend(headers.as_ref(), &url, true)? {
                Lend::Token(g) => Ok(JsValue::from_f64(g as f64)),
                // Settled for a token that is gone again already: as late as the bound.
                Lend::Wait => Err(m.error_of(&Error::TokenExpired, &url)),
                _ => Ok(JsValue::from_f64(-1.0)),
            }
        })),
    )
}

/// What [`wait_to_lend`] resolves with when the call's session was replaced while it
/// waited (another user signed in, or a new sign-in): no token for it.
const SWITCHED: f64 = -2.0;

/// Logs how a `tm.fetch` request to `url` goes out (its origin only).
fn log_request(m: &Manager, url: &str, bearer: bool, reason: &str) {
    if m.logging() {
        let origin = captured::origin(url).unwrap_or_default();
        m.log(&Entry::Request {
            origin: &origin,
            bearer,
            reason,
        });
    }
}

/// A request on its way with the token.
pub struct Send {
    request: JsValue,
    spare: Option<JsValue>,
    has_body: bool,
    signal: Option<AbortSignal>,
}

impl Send {
    /// Sends the request carrying the token of `generation`; its response comes back
    /// through the manager's one continuation ([`Manager::send_with_token`]), so the
    /// common call creates no closure and no future of its own.
    fn checked(self, m: &Rc<Manager>, generation: u64) -> Promise {
        m.send_with_token(self, generation)
    }

    /// The request, for sending.
    pub fn request(&self) -> &JsValue {
        &self.request
    }

    /// A 401 came back for the request sent with `generation`: one that invites a new
    /// token gets one refresh and one retry; anything else returns `response`.
    pub async fn after_401(
        self,
        m: Rc<Manager>,
        response: JsValue,
        generation: u64,
    ) -> Result<JsValue, JsValue> {
        let challenge = captured::get(&captured::response_headers(&response), "www-authenticate")
            .unwrap_or_default();
        // Told even when the request cannot be retried.
        if !m.unauthorized(generation, &challenge) {
            return Ok(response);
        }
        let Some(spare) = self.spare else {
            return Ok(response);
        };
        // The bodyless original was not consumed by sending it.
        let retry = if self.has_body {
            spare
        } else {
            match captured::clone_request(&spare) {
                Ok(retry) => retry,
                Err(_) => return Ok(response),
            }
        };
        let headers = captured::request_headers(&retry);
        let url = captured::request_url(&retry);
        if m.logging() {
            let origin = captured::origin(&url).unwrap_or_default();
            m.log(&Entry::UnauthorizedRetry { origin: &origin });
        }
        // Sent with `generation`: a session begun since then (another user) gets no retry.
        if m.switched_since(generation) {
            return Ok(response);
        }
        let newer = match m.lend(Some(&headers), &url, true) {
            Ok(Lend::Token(g)) => Ok(g as f64),
            Ok(Lend::Wait) => JsFuture::from(wait_to_lend(
                &m,
                Some(headers),
                url,
                self.signal.clone(),
                generation,
            ))
            .await
            .map(|g| g.as_f64().unwrap_or(-1.0)),
            Ok(_) => Ok(-1.0),
            Err(error) => Err(error),
        };
        match newer {
            Ok(g) if g >= 1.0 && g as u64 != generation => {
                JsFuture::from(network::send(&retry)).await
            }
            Ok(_) => Ok(response),
            Err(_) => match self.signal.filter(|s| s.aborted()) {
                Some(signal) => Err(signal.reason()),
                None => Ok(response),
            },
        }
    }
}
