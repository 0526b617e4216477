//! The token manager's browser half: performs the core's effects (refresh requests,
//! the one timer, events, waking callers) and feeds results back as inputs.
//!
//! Shared state is `Rc<Inner>` with short `Shared` (`RefCell`) borrows; no borrow is held across
//! an `.await`, and JS handlers run only when no borrow is held.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use alloc::rc::Rc;
use core::cell::Cell;

use super::timer::Timeout;
use crate::browser::task::JsFuture;
use js_sys::Promise;
use js_sys::{Function, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, Request, Response};
use zeroize::Zeroizing;

use super::channel::{Channel, TabMessage};
use super::clock::{now_ms, rand01};
use super::http::{self, set, set_str, AbortGuard, AuthRequest};
use super::js_error::to_js;
use super::listener::Listener;
use super::locks::{lock_manager, with_lock};
use super::primitives::{get, get_string, global_get, Primitives};
use super::shared::Shared;
use super::task::{self, spawn};
use super::timer::clamp_delay_ms;
use super::waiters::Waiters;
use crate::core::error::{concat, push_decimal};
use crate::core::{
    Config, Effect, EndReason, Error, Event, Input, Phase, Session, TokenGrant, MAX_WAIT_MS,
};

/// Everything the manager needs, already validated by the JS facade.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// Absolute URL of the refresh endpoint.
    pub refresh_url: String,
    /// Absolute URL of the logout endpoint, if the server has one.
    pub logout_url: Option<String>,
    /// Serialized origins (`https://api.example.com`) that receive the bearer token.
    pub allowed_origins: Vec<String>,
    /// The anti-CSRF header sent with refresh, sign-in and logout.
    pub csrf_header: Option<(String, String)>,
    /// Timeout of our own requests, and of waiting for a token.
    pub request_timeout_ms: u64,
    /// Whether `accessToken()` may hand the raw token to JavaScript.
    pub expose_access_token: bool,
    /// The core's settings (lead time, retry, expiry policy, refresh ceiling).
    pub session: Config,
}

/// The names of the events an app can subscribe to.
pub const EVENT_NAMES: [&str; 5] = [
    "state",
    "refreshed",
    "refresh-error",
    "session-ended",
    "warning",
];

/// The message for an unknown event name: lists [`EVENT_NAMES`].
const UNKNOWN_EVENT: &str =
    "unknown event; expected one of state, refreshed, refresh-error, session-ended, warning";

struct Handler {
    id: u64,
    event: &'static str,
    function: Function,
}

/// One token manager. Cloning shares it.
#[derive(Clone)]
pub struct Manager {
    inner: Rc<Inner>,
}

struct Inner {
    opts: ManagerOptions,
    prims: Primitives,
    session: Shared<Session>,
    waiters: Rc<Waiters>,
    timer: Shared<Option<Timeout>>,
    refresh_abort: Shared<Option<AbortController>>,
    last_error: Shared<Option<Error>>,
    handlers: Shared<Vec<Handler>>,
    next_handler: Cell<u64>,
    wake_listeners: Shared<Vec<Listener>>,
    channel: Shared<Option<Channel>>,
    // True while feeding a message from another tab: what it causes is not echoed back.
    from_other_tab: Cell<bool>,
    // Degradations found at construction, reported once the app can listen (start()).
    pending_warnings: Shared<Vec<Event>>,
    lock_name: String,
    // The allowed origins as JS strings: the per-request check compares in JS (`===`)
    // instead of copying each request's origin into Rust.
    allowed_js: Vec<JsValue>,
    // The one continuation every bearer request shares for its 401 check, so the hot
    // path allocates no closure per request.
    on_401: Shared<Option<On401>>,
}

/// `(spare request, has body, generation, response) -> response or promise of one`.
type On401 = Closure<dyn FnMut(JsValue, JsValue, JsValue, JsValue) -> JsValue>;

/// What a request can have right now, without waiting.
enum TokenNow {
    Ready(Zeroizing<String>, u64),
    NoSession,
    Wait,
    Failed(Error),
}

impl Manager {
    /// Creates a manager; captures `fetch`/`Request`/`Headers`/`URL` now.
    pub fn new(opts: ManagerOptions) -> Result<Self, Error> {
        let prims = Primitives::capture()?;
        let opts_refresh_url = opts.refresh_url.clone();
        let opts_allowed = opts.allowed_origins.clone();
        let session = Session::try_new(opts.session.clone())?;
        let inner = Rc::new(Inner {
            opts,
            prims,
            session: Shared::new(session),
            waiters: Rc::default(),
            timer: Shared::new(None),
            refresh_abort: Shared::new(None),
            last_error: Shared::new(None),
            handlers: Shared::new(Vec::new()),
            next_handler: Cell::new(0),
            wake_listeners: Shared::new(Vec::new()),
            channel: Shared::new(None),
            from_other_tab: Cell::new(false),
            pending_warnings: Shared::new(Vec::new()),
            lock_name: concat(&["token-warden:refresh:", &opts_refresh_url]),
            allowed_js: opts_allowed.iter().map(|o| JsValue::from_str(o)).collect(),
            on_401: Shared::new(None),
        });
        inner.install_on_401();
        inner.listen_for_wake();
        inner.open_channel();
        if lock_manager().is_none() {
            inner.pending_warnings.borrow_mut().push(Event::Warning {
                code: "no_web_locks",
                message: "this browser has no Web Locks: refreshes are not coordinated across tabs"
                    .into(),
            });
        }
        Ok(Self { inner })
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.inner.session.borrow().phase()
    }

    /// When the current token expires, in local ms since the epoch.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.inner.session.borrow().expires_at_ms()
    }

    /// The unverified JWT payload as JSON text (display only), if the token is a JWT.
    pub fn claims_json(&self) -> Option<String> {
        let session = self.inner.session.borrow();
        session.claims().map(|c| c.payload_json.clone())
    }

    /// Restores the session through the refresh cookie. No session is `signed-out`.
    pub async fn start(&self) -> Result<Phase, Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        let warnings = core::mem::take(&mut *inner.pending_warnings.borrow_mut());
        for warning in &warnings {
            inner.emit(warning);
        }
        if !matches!(inner.phase(), Phase::Initial | Phase::SignedOut) {
            return Ok(inner.phase());
        }
        let wait = inner
            .waiters
            .wait(Some(inner.retry_window_ms()), Error::Timeout);
        inner.feed(Input::Start);
        if inner.phase() == Phase::Restoring {
            match wait.await {
                Ok(()) => {}
                // No cookie, or a rejected one: simply not signed in.
                Err(Error::InvalidGrant { .. } | Error::OAuth { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(inner.phase())
    }

    /// Posts the app's login request and takes the token response it answers.
    pub async fn sign_in(&self, url: &str, init: &JsValue) -> Result<Phase, Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        let url = inner.absolute(url, "url")?;
        let request = AuthRequest {
            url: &url,
            csrf: inner.opts.csrf_header.as_ref(),
            authorization: None,
            app_init: Some(init),
        };
        let guard = AbortGuard::with_timeout(inner.opts.request_timeout_ms);
        let reply = http::post(&inner.prims, &request, guard, true).await?;
        let grant =
            http::read_token_response(reply, &inner.opts.session.expiry).map_err(|f| f.error)?;
        inner.ensure_alive()?;
        inner.accept_grant(grant);
        Ok(inner.phase())
    }

    /// Takes a token response the app obtained itself (JSON text).
    pub fn accept_token_response(&self, body: &str) -> Result<Phase, Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        let grant =
            crate::core::parse_token_response(body, now_ms(), None, &inner.opts.session.expiry)?;
        inner.accept_grant(grant);
        Ok(inner.phase())
    }

    /// Refreshes now (joining a refresh already running); resolves when a new token is in.
    pub async fn refresh(&self) -> Result<(), Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        if !matches!(inner.phase(), Phase::SignedIn | Phase::Restoring) {
            return Err(Error::NotSignedIn);
        }
        let before = inner.session.borrow().generation();
        let wait = inner
            .waiters
            .wait(Some(inner.retry_window_ms()), Error::Timeout);
        inner.feed(Input::ForceRefresh);
        wait.await?;
        if inner.session.borrow().generation() > before {
            Ok(())
        } else {
            Err(inner
                .last_error
                .borrow()
                .clone()
                .unwrap_or(Error::TokenExpired))
        }
    }

    /// Ends the session: tells the server (if it has a logout URL), clears memory whatever it says.
    pub async fn logout(&self) -> Result<(), Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        inner.cancel_refresh();
        if let Some(url) = inner.opts.logout_url.clone() {
            // The bearer lets the server deny-list the access token until it expires.
            let authorization = inner
                .allows(&url)
                .then(|| inner.bearer_header_now())
                .flatten();
            let request = AuthRequest {
                url: &url,
                csrf: inner.opts.csrf_header.as_ref(),
                authorization: authorization.as_deref().map(String::as_str),
                app_init: None,
            };
            let guard = AbortGuard::with_timeout(inner.opts.request_timeout_ms);
            let outcome = http::post(&inner.prims, &request, guard, false).await;
            let problem = match outcome {
                Ok(reply) if (200..300).contains(&reply.status) => None,
                Ok(reply) => {
                    let mut m = String::from("the logout endpoint answered ");
                    push_decimal(&mut m, u64::from(reply.status));
                    Some(m)
                }
                Err(e) => Some(concat(&["the logout request failed: ", &e.message()])),
            };
            if let Some(message) = problem {
                inner.emit(&Event::Warning {
                    code: "logout_failed",
                    message: concat(&[&message, "; the session was cleared locally anyway"]),
                });
            }
        }
        inner.feed(Input::SignedOut);
        Ok(())
    }

    /// The raw token, only when the app opted in with `exposeAccessToken`.
    pub async fn access_token(&self) -> Result<String, Error> {
        let inner = &self.inner;
        inner.ensure_alive()?;
        if !inner.opts.expose_access_token {
            return Err(Error::TokenNotExposed);
        }
        match inner.bearer_token().await? {
            Some((token, _)) => Ok(String::from(token.as_str())),
            None => Err(Error::NotSignedIn),
        }
    }

    /// `window.fetch` with the bearer header for allowed origins, and one
    /// refresh-and-retry on a 401. Network errors reject exactly as `fetch` does.
    ///
    /// The common case (a usable token) is synchronous up to the captured `fetch`, whose
    /// promise goes back to the caller behind one shared 401 check: no Rust future, no
    /// per-request closure. Only a request that must wait for a refresh, or got a 401,
    /// takes the async path.
    pub fn fetch(&self, input: &JsValue, init: &JsValue) -> Promise {
        let inner = &self.inner;
        if let Err(e) = inner.ensure_alive() {
            return Promise::reject(&to_js(&e));
        }
        let request = match inner.prims.request(input, init) {
            Ok(request) => request,
            // `fetch` rejects (never throws) on a bad input; so do we, with its TypeError.
            Err(e) => return Promise::reject(&e),
        };
        if inner.prims.has_authorization(&request) || !inner.allows_request(&request) {
            return inner.prims.fetch(&request);
        }
        match inner.token_now() {
            TokenNow::Ready(token, generation) => {
                inner.send_with_bearer(&request, init, &token, generation)
            }
            TokenNow::NoSession => inner.prims.fetch(&request),
            TokenNow::Failed(e) => Promise::reject(&to_js(&e)),
            TokenNow::Wait => {
                let inner = inner.clone();
                let init = init.clone();
                task::promise(Box::pin(async move {
                    match inner.bearer_token().await.map_err(|e| to_js(&e))? {
                        Some((token, generation)) => {
                            JsFuture::from(
                                inner.send_with_bearer(&request, &init, &token, generation),
                            )
                            .await
                        }
                        None => JsFuture::from(inner.prims.fetch(&request)).await,
                    }
                }))
            }
        }
    }

    /// Subscribes `handler` to `event`; returns the id to unsubscribe with.
    pub fn on(&self, event: &str, handler: Function) -> Result<u64, Error> {
        let Some(event) = EVENT_NAMES.iter().copied().find(|n| *n == event) else {
            return Err(Error::InvalidOptions {
                field: "event".into(),
                reason: UNKNOWN_EVENT.into(),
            });
        };
        let id = self.inner.next_handler.get().wrapping_add(1);
        self.inner.next_handler.set(id);
        self.inner.handlers.borrow_mut().push(Handler {
            id,
            event,
            function: handler,
        });
        Ok(id)
    }

    /// Removes a subscription; unknown ids are ignored (unsubscribing twice is harmless).
    pub fn off(&self, id: u64) {
        self.inner.handlers.borrow_mut().retain(|h| h.id != id);
    }

    /// Cancels timers, listeners and in-flight requests; clears the token.
    pub fn dispose(&self) {
        let inner = &self.inner;
        if inner.phase() == Phase::Disposed {
            return;
        }
        inner.cancel_refresh();
        inner.wake_listeners.borrow_mut().clear();
        inner.channel.borrow_mut().take();
        inner.feed(Input::Dispose);
        inner.timer.borrow_mut().take();
        inner.handlers.borrow_mut().clear();
    }
}

impl Inner {
    fn phase(&self) -> Phase {
        self.session.borrow().phase()
    }

    fn ensure_alive(&self) -> Result<(), Error> {
        if self.phase() == Phase::Disposed {
            Err(Error::Disposed)
        } else {
            Ok(())
        }
    }

    /// Steps the core and performs what it asks; the borrow ends before any effect runs.
    fn feed(self: &Rc<Self>, input: Input) {
        let effects = self.session.borrow_mut().step(input, now_ms(), rand01());
        for effect in effects {
            self.perform(effect);
        }
    }

    fn perform(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::SendRefresh => self.send_refresh(),
            Effect::ArmTimer { at_ms } => {
                let weak = Rc::downgrade(self);
                let delay = clamp_delay_ms(at_ms.saturating_sub(now_ms()));
                // Replacing the handle clears the previous timer.
                *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.feed(Input::TimerFired);
                    }
                }));
            }
            Effect::CancelTimer => {
                self.timer.borrow_mut().take();
            }
            Effect::Emit(event) => {
                self.broadcast(&event);
                self.emit(&event);
            }
            Effect::ReleaseWaiters => self.waiters.release_all(),
            Effect::FailWaiters(err) => self.waiters.fail_all(&err),
        }
    }

    fn send_refresh(self: &Rc<Self>) {
        let inner = self.clone();
        spawn(Box::pin(async move {
            let result = inner.refresh_request().await;
            // Every SendRefresh gets exactly one answer, even an aborted one: the core
            // knows which answers are stale (after a logout or an accepted grant).
            inner.refresh_abort.borrow_mut().take();
            let input = match result {
                Ok(grant) => Input::Granted(grant),
                Err(failure) => {
                    *inner.last_error.borrow_mut() = Some(failure.error.clone());
                    Input::RefreshFailed(failure)
                }
            };
            inner.feed(input);
        }));
    }

    async fn refresh_request(self: &Rc<Self>) -> Result<TokenGrant, crate::core::RefreshFailure> {
        let inner = self.clone();
        let name = self.lock_name.clone();
        with_lock(&name, async move { inner.refresh_request_locked().await }).await
    }

    async fn refresh_request_locked(&self) -> Result<TokenGrant, crate::core::RefreshFailure> {
        if self.phase() == Phase::Disposed {
            return Err(Error::Disposed.into());
        }
        let request = AuthRequest {
            url: &self.opts.refresh_url,
            csrf: self.opts.csrf_header.as_ref(),
            authorization: None,
            app_init: None,
        };
        let guard = AbortGuard::with_timeout(self.opts.request_timeout_ms);
        *self.refresh_abort.borrow_mut() = guard.controller();
        let reply = http::post(&self.prims, &request, guard, true).await?;
        http::read_token_response(reply, &self.opts.session.expiry)
    }

    fn cancel_refresh(&self) {
        if let Some(controller) = self.refresh_abort.borrow_mut().take() {
            controller.abort();
        }
    }

    fn accept_grant(self: &Rc<Self>, grant: TokenGrant) {
        // A refresh still running started before this grant; its answer is stale.
        self.cancel_refresh();
        self.feed(Input::Accepted(grant));
    }

    /// A usable token for a request, waiting for a refresh up to the request timeout.
    /// `None` when nobody is signed in (the request then goes out without a bearer).
    async fn bearer_token(self: &Rc<Self>) -> Result<Option<(Zeroizing<String>, u64)>, Error> {
        let deadline = now_ms().saturating_add(self.opts.request_timeout_ms);
        loop {
            self.feed(Input::TokenWanted);
            let wait = {
                let session = self.session.borrow();
                let now = now_ms();
                if let Some((token, generation)) = session.usable_token(now) {
                    return Ok(Some((
                        Zeroizing::new(token.secret().to_owned()),
                        generation,
                    )));
                }
                match session.phase() {
                    Phase::Initial | Phase::SignedOut => return Ok(None),
                    Phase::Disposed => return Err(Error::Disposed),
                    Phase::Restoring | Phase::SignedIn => {}
                }
                let remaining = deadline.saturating_sub(now);
                if !session.needs_wait(now) || remaining == 0 {
                    return Err(session
                        .token_unavailable_reason(now)
                        .unwrap_or(Error::TokenExpired));
                }
                self.waiters.wait(Some(remaining), Error::TokenExpired)
            };
            wait.await?;
        }
    }

    /// A usable token now, after telling the core a token is wanted (which starts a
    /// refresh inside the lead window while the current token stays in use).
    fn token_now(self: &Rc<Self>) -> TokenNow {
        self.feed(Input::TokenWanted);
        let session = self.session.borrow();
        if let Some((token, generation)) = session.usable_token(now_ms()) {
            return TokenNow::Ready(Zeroizing::new(token.secret().to_owned()), generation);
        }
        match session.phase() {
            Phase::Initial | Phase::SignedOut => TokenNow::NoSession,
            Phase::Disposed => TokenNow::Failed(Error::Disposed),
            Phase::Restoring | Phase::SignedIn => TokenNow::Wait,
        }
    }

    /// Attaches the token and sends; a 401 goes to the shared continuation.
    ///
    /// A body can be read only once, so a request with one is cloned before the first
    /// send; a stream cannot be replayed at all, so such a request is never retried. A
    /// request without a body is not consumed by sending it: it is cloned only if a 401
    /// asks for a retry, so the common GET pays nothing.
    fn send_with_bearer(
        &self,
        request: &Request,
        init: &JsValue,
        token: &str,
        generation: u64,
    ) -> Promise {
        let has_body = request.body().is_some();
        let spare: JsValue = if !has_body {
            // The same object (a handle, not a JS clone).
            AsRef::<JsValue>::as_ref(request).clone()
        } else if has_stream_body(init) {
            JsValue::NULL
        } else {
            request.clone_request().map_or(JsValue::NULL, Into::into)
        };
        if let Err(e) = self.prims.set_authorization(request, &bearer(token)) {
            return Promise::reject(&e);
        }
        let Some(on_401) = self.on_401.borrow().as_ref().map(|c| c.as_ref().clone()) else {
            return self.prims.fetch(request);
        };
        // A bound function per request is plain JS (no wasm closure to allocate); the
        // response arrives as its last argument.
        let check = on_401.unchecked_ref::<Function>().bind3(
            &JsValue::NULL,
            &spare,
            &JsValue::from_bool(has_body),
            &JsValue::from_f64(generation as f64),
        );
        let sent = self.prims.fetch(request);
        let then = js_sys::Reflect::get(&sent, &"then".into())
            .ok()
            .and_then(|t| t.dyn_into::<Function>().ok());
        match then.map(|then| then.call1(&sent, &check)) {
            Some(Ok(chained)) => chained.unchecked_into(),
            _ => sent,
        }
    }

    /// The shared 401 continuation: tell the core the token is bad (even when the
    /// request cannot be retried), then one refresh and one retry, never more. A 403
    /// never gets here.
    fn install_on_401(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let closure = On401::new(
            move |spare: JsValue,
                  has_body: JsValue,
                  generation: JsValue,
                  response: JsValue|
                  -> JsValue {
                let unauthorized = response
                    .dyn_ref::<Response>()
                    .is_some_and(|r| r.status() == 401);
                let inner = match weak.upgrade() {
                    Some(inner) if unauthorized => inner,
                    _ => return response,
                };
                let generation = generation.as_f64().unwrap_or(0.0) as u64;
                inner.feed(Input::Unauthorized { generation });
                let spare = if spare.is_null() || spare.is_undefined() {
                    None
                } else if has_body.as_bool() == Some(true) {
                    Some(spare.unchecked_into::<Request>())
                } else {
                    // The bodyless original was not consumed by sending it.
                    spare.unchecked_ref::<Request>().clone_request().ok()
                };
                let Some(spare) = spare else {
                    return response;
                };
                task::promise(Box::pin(async move {
                    match inner.bearer_token().await {
                        Ok(Some((token, newer))) if newer != generation => {
                            inner.prims.set_authorization(&spare, &bearer(&token))?;
                            drop(token);
                            inner.send(&spare).await.map(Into::into)
                        }
                        _ => Ok(response),
                    }
                }))
                .into()
            },
        );
        *self.on_401.borrow_mut() = Some(closure);
    }

    fn bearer_header_now(&self) -> Option<Zeroizing<String>> {
        let session = self.session.borrow();
        let (token, _) = session.usable_token(now_ms())?;
        Some(bearer(token.secret()))
    }

    async fn send(&self, request: &Request) -> Result<Response, JsValue> {
        JsFuture::from(self.prims.fetch(request))
            .await
            .map(JsCast::unchecked_into)
    }

    /// Exact origin match: scheme, host and port. Look-alikes and userinfo tricks fail
    /// because the URL parser, not a string prefix, decides the origin.
    /// [`Inner::allows`] for a `Request`, comparing without copying the origin into Rust.
    fn allows_request(&self, request: &Request) -> bool {
        let Some(origin) = self.prims.origin_of_request(request) else {
            return false;
        };
        self.allowed_js.contains(&origin)
    }

    fn allows(&self, url: &str) -> bool {
        self.prims
            .origin_of(url)
            .is_some_and(|origin| self.opts.allowed_origins.contains(&origin))
    }

    fn absolute(&self, url: &str, field: &str) -> Result<String, Error> {
        self.prims
            .absolute_url(url)
            .ok_or_else(|| Error::InvalidOptions {
                field: field.into(),
                reason: "not a valid URL".into(),
            })
    }

    /// How long a refresh cycle can take at most: every attempt timing out after its
    /// longest backoff. Waiting longer than this means something is stuck.
    fn retry_window_ms(&self) -> u64 {
        let retry = &self.opts.session.retry;
        let per_attempt = self
            .opts
            .request_timeout_ms
            .saturating_add(retry.max_delay_ms);
        per_attempt
            .saturating_mul(u64::from(retry.max_attempts).saturating_add(1))
            .min(MAX_WAIT_MS)
    }

    fn emit(&self, event: &Event) {
        let (name, payload) = event_payload(event);
        // Copy the list: a handler may unsubscribe (or subscribe) while we call it.
        let targets: Vec<Function> = self
            .handlers
            .borrow()
            .iter()
            .filter(|h| h.event == name)
            .map(|h| h.function.clone())
            .collect();
        for function in targets {
            // A throwing handler must not break the manager or the other handlers.
            let _ = function.call1(&JsValue::UNDEFINED, &payload);
        }
    }

    /// Tells the other tabs what they need to know; never a token, never an echo.
    fn broadcast(&self, event: &Event) {
        if self.from_other_tab.get() {
            return;
        }
        let message = match event {
            Event::State(Phase::SignedIn) => TabMessage::SignedIn,
            Event::Refreshed { expires_at_ms } => TabMessage::Refreshed {
                expires_at_ms: *expires_at_ms,
            },
            Event::SessionEnded {
                reason: reason @ (EndReason::Logout | EndReason::InvalidGrant | EndReason::Expired),
            } => TabMessage::Ended(*reason),
            _ => return,
        };
        if let Some(channel) = self.channel.borrow().as_ref() {
            channel.post(&message);
        }
    }

    fn open_channel(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let name = concat(&["token-warden:", &self.opts.refresh_url]);
        let channel = Channel::open(&name, move |message| {
            if let Some(inner) = weak.upgrade() {
                inner.on_tab_message(message);
            }
        });
        if channel.is_none() {
            self.pending_warnings.borrow_mut().push(Event::Warning {
                code: "no_broadcast_channel",
                message: "this browser has no BroadcastChannel: other tabs do not hear of sign-in and sign-out".into(),
            });
        }
        *self.channel.borrow_mut() = channel;
    }

    fn on_tab_message(self: &Rc<Self>, message: TabMessage) {
        match message {
            TabMessage::Ended(reason) => {
                self.cancel_refresh();
                self.from_other_tab.set(true);
                self.feed(Input::EndedElsewhere(reason));
                self.from_other_tab.set(false);
            }
            // Another tab has a session: a signed-out tab picks it up through the cookie.
            TabMessage::SignedIn if self.phase() == Phase::SignedOut => {
                let manager = Manager {
                    inner: self.clone(),
                };
                spawn(Box::pin(async move {
                    let _ = manager.start().await;
                }));
            }
            TabMessage::SignedIn | TabMessage::Refreshed { .. } => {}
        }
    }

    fn listen_for_wake(self: &Rc<Self>) {
        let global: web_sys::EventTarget = js_sys::global().unchecked_into();
        let mut listeners = Vec::new();
        // One closure type for every listener: what to feed is data, not code.
        let mut listen = |target: &web_sys::EventTarget, event, what: WakeEvent| {
            let weak = Rc::downgrade(self);
            listeners.extend(Listener::new(target, event, move |_| {
                if let Some(inner) = weak.upgrade() {
                    inner.on_wake_event(&what);
                }
            }));
        };
        listen(&global, "online", WakeEvent::Connectivity(true));
        listen(&global, "offline", WakeEvent::Connectivity(false));
        for event in ["focus", "online", "pageshow"] {
            listen(&global, event, WakeEvent::Wake);
        }
        let document = global_get("document").and_then(|d| d.dyn_into::<web_sys::Document>().ok());
        if let Some(document) = document {
            for event in ["visibilitychange", "resume"] {
                listen(&document, event, WakeEvent::Visible(document.clone()));
            }
        }
        *self.wake_listeners.borrow_mut() = listeners;
        if !navigator_online() {
            self.feed(Input::Connectivity { online: false });
        }
    }

    fn on_wake_event(self: &Rc<Self>, what: &WakeEvent) {
        let input = match what {
            WakeEvent::Connectivity(online) => Input::Connectivity { online: *online },
            WakeEvent::Wake => Input::Wake,
            WakeEvent::Visible(document) => {
                // `document.visibilityState`, read like any property: no enum table.
                if get_string(document, "visibilityState").as_deref() != Some("visible") {
                    return;
                }
                Input::Wake
            }
        };
        self.feed(input);
    }
}

/// What a page event means for the session.
enum WakeEvent {
    /// `online`/`offline`.
    Connectivity(bool),
    /// `focus`, `online`, `pageshow`: timers may have been throttled.
    Wake,
    /// `visibilitychange`, `resume` on this document: a wake-up if it is visible.
    Visible(web_sys::Document),
}

/// The event's name and its JS payload. Payloads never carry token bytes.
fn event_payload(event: &Event) -> (&'static str, JsValue) {
    let object = Object::new();
    let name = match event {
        Event::State(phase) => return ("state", JsValue::from_str(phase.as_str())),
        Event::Refreshed { expires_at_ms } => {
            set(
                &object,
                "expiresAt",
                &JsValue::from_f64(*expires_at_ms as f64),
            );
            "refreshed"
        }
        Event::RefreshError {
            code,
            attempt,
            retry_at_ms,
        } => {
            set_str(&object, "code", code);
            set(&object, "attempt", &JsValue::from(*attempt));
            let retry_at = retry_at_ms.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64));
            set(&object, "retryAt", &retry_at);
            "refresh-error"
        }
        Event::SessionEnded { reason } => {
            set_str(&object, "reason", reason.as_str());
            "session-ended"
        }
        Event::Warning { code, message } => {
            set_str(&object, "code", code);
            set_str(&object, "message", message);
            "warning"
        }
    };
    (name, object.into())
}

/// `Bearer <token>`, built in a buffer of the exact size so no reallocation leaves an
/// unzeroized copy behind.
fn bearer(token: &str) -> Zeroizing<String> {
    const PREFIX: &str = "Bearer ";
    let mut value = Zeroizing::new(String::with_capacity(
        PREFIX.len().saturating_add(token.len()),
    ));
    value.push_str(PREFIX);
    value.push_str(token);
    value
}

/// `Request.prototype.clone`, named so it cannot be mistaken for `Clone::clone`.
trait CloneRequest {
    fn clone_request(&self) -> Result<Request, JsValue>;
}

impl CloneRequest for Request {
    fn clone_request(&self) -> Result<Request, JsValue> {
        Request::clone(self)
    }
}

fn has_stream_body(init: &JsValue) -> bool {
    let body = get(init, "body").unwrap_or(JsValue::UNDEFINED);
    body.is_instance_of::<web_sys::ReadableStream>()
}

/// `navigator.onLine`; true where unknown (a false "offline" would stop all refreshes).
fn navigator_online() -> bool {
    global_get("navigator")
        .and_then(|n| get(&n, "onLine"))
        .is_none_or(|v| v.as_bool() != Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_message_lists_every_event() {
        let expected = ["unknown event; expected one of ", &EVENT_NAMES.join(", ")].concat();
        assert_eq!(UNKNOWN_EVENT, expected);
    }
}
