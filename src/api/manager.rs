//! The manager's state and the loop that performs what the core decides: the refresh
//! (under the Web Lock), the one timer, events to handlers and other tabs, and the
//! callers waiting to be settled. `RefCell` borrows are short and never held across an
//! `.await` or a call into the app (a handler may call back into the manager).

use core::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::{AbortController, AbortSignal};

use super::engine::{Engine, Lend};
use super::errors::{from_core, Where};
use super::events;
use super::log::{self, Entry};
use super::options::Options;
use super::token_manager::Send;
use crate::browser::clock::{now_ms, rand01};
use crate::browser::listener::Listener;
use crate::browser::post::{Post, Reply, NO_RESPONSE};
use crate::browser::tabs::{self, Channel, Heard};
use crate::browser::wake::{self, Signal, WakeListeners};
use crate::browser::{captured, locks, network, timer};
use crate::core::error::concat;
use crate::core::events::warning;
use crate::core::{Effect, Error, Event, Input, Operation, Phase, Want};

/// What a settled caller runs (in the same task as the settle, so nothing runs between
/// them) to produce the value its promise resolves with.
pub type OnOk = Box<dyn FnOnce(&Rc<Manager>) -> Result<JsValue, JsValue>>;

/// A caller waiting for the core to settle it.
struct Waiter {
    resolve: Function,
    reject: Function,
    on_ok: Option<OnOk>,
    /// The URL of the `tm.fetch` call waiting (empty for the others): a `token_expired`
    /// names it.
    request: String,
    _on_abort: Option<Listener>,
}

struct Handler {
    id: u32,
    event: &'static str,
    handler: Function,
}

/// Everything that changes.
struct State {
    engine: Engine,
    handlers: Vec<Handler>,
    next_handler: u32,
    waiters: BTreeMap<u64, Waiter>,
    last_id: u64,
    timer: Option<Timeout>,
    refresh_abort: Option<AbortController>,
    channel: Option<Channel>,
    wake: Option<WakeListeners>,
    pending_warnings: Vec<(&'static str, &'static str)>,
}

/// The continuation of every request sent with the token: `(ok, value, id)` where `id`
/// names the [`Send`] in [`Manager::send_with_token`]'s table.
type After = Closure<dyn FnMut(bool, JsValue, f64) -> JsValue>;

/// One token manager: options, state, and the flag set by `dispose()`.
pub struct Manager {
    /// The validated options.
    pub options: Options,
    /// The refresh endpoint, as its errors name it.
    refresh_where: Where,
    /// The refresh time last logged (`refresh-scheduled`).
    logged_refresh_at: Cell<Option<u64>>,
    state: RefCell<State>,
    sends: RefCell<BTreeMap<u64, (Send, u64)>>,
    last_send: Cell<u64>,
    after: After,
    gone: Cell<bool>,
    from_other_tab: Cell<bool>,
    /// True while a sign-in's grant is performed (`signIn`, `acceptTokenResponse`): its
    /// `signed-in` tab message says so, and tabs signed in already refresh at once.
    signing_in: Cell<bool>,
    /// When this tab's session last ended by a logout (here or in another tab), ms since
    /// the epoch: a `signed-in` message from before then is stale.
    ended_at: Cell<f64>,
}

impl Manager {
    /// A manager for `options`: opens the tab channel and the wake-up listeners.
    pub fn new(options: Options) -> Rc<Manager> {
        let engine = Engine::new(
            options.config.clone(),
            options.allowed.clone(),
            options.expose,
        );
        let manager = Rc::new_cyclic(|weak: &Weak<Manager>| Manager {
            sends: RefCell::new(BTreeMap::new()),
            last_send: Cell::new(0),
            after: after(weak.clone()),
            state: RefCell::new(State {
                engine,
                handlers: Vec::new(),
                next_handler: 0,
                waiters: BTreeMap::new(),
                last_id: 0,
                timer: None,
                refresh_abort: None,
                channel: None,
                wake: None,
                pending_warnings: Vec::new(),
            }),
            refresh_where: Where::new(Operation::Refresh, &options.refresh_url),
            logged_refresh_at: Cell::new(None),
            options,
            gone: Cell::new(false),
            from_other_tab: Cell::new(false),
            signing_in: Cell::new(false),
            ended_at: Cell::new(f64::NEG_INFINITY),
        });
        let weak = Rc::downgrade(&manager);
        let name = concat(&["token-warden:", &manager.options.refresh_url]);
        let channel = Channel::open(&name, move |heard| {
            if let Some(m) = weak.upgrade() {
                m.on_tab_message(heard);
            }
        });
        let weak = Rc::downgrade(&manager);
        let wake = WakeListeners::listen(move |signal| {
            if let Some(m) = weak.upgrade() {
                m.feed(match signal {
                    Signal::Wake => Input::Wake,
                    Signal::Connectivity(online) => Input::Connectivity { online },
                });
            }
        });
        {
            let mut st = manager.state.borrow_mut();
            if channel.is_none() {
                st.pending_warnings.push((
                    warning::NO_BROADCAST_CHANNEL,
                    "this browser has no BroadcastChannel: other tabs do not hear of sign-in and sign-out",
                ));
            }
            if !locks::available() {
                st.pending_warnings.push((
                    warning::NO_WEB_LOCKS,
                    "this browser has no Web Locks: refreshes are not coordinated across tabs",
                ));
            }
            st.channel = channel;
            st.wake = Some(wake);
        }
        if wake::offline() {
            manager.feed(Input::Connectivity { online: false });
        }
        manager
    }

    /// Whether `dispose()` ran.
    pub fn gone(&self) -> bool {
        self.gone.get()
    }

    /// `Err(disposed)` after `dispose()`.
    pub fn alive(&self) -> Result<(), JsValue> {
        if self.gone() {
            Err(super::errors::disposed())
        } else {
            Ok(())
        }
    }

    /// The phase as the app sees it.
    pub fn phase(&self) -> Phase {
        if self.gone() {
            Phase::Disposed
        } else {
            self.state.borrow().engine.phase()
        }
    }

    /// When the usable token expires (ms since the epoch).
    pub fn expires_at(&self) -> Option<u64> {
        if self.gone() {
            return None;
        }
        self.state.borrow().engine.expires_at(now_ms())
    }

    /// The unverified JWT payload as JSON text.
    pub fn claims_json(&self) -> Option<String> {
        if self.gone() {
            return None;
        }
        self.state.borrow().engine.claims_json().map(String::from)
    }

    /// The generation of the current token.
    pub fn generation(&self) -> u64 {
        self.state.borrow().engine.generation()
    }

    /// What a call begun now belongs to: the generation of the token in memory while
    /// signed in, else 0 (a call begun without a session may be served by any).
    pub fn basis(&self) -> u64 {
        let st = self.state.borrow();
        if st.engine.phase() == Phase::SignedIn {
            st.engine.generation()
        } else {
            0
        }
    }

    /// Whether a session began after `basis` (another user, or a new sign-in): a call
    /// begun under `basis`, or a request sent with that generation, must not be served
    /// by it, so one user's request never goes out with another user's token.
    pub fn switched_since(&self, basis: u64) -> bool {
        basis != 0 && self.state.borrow().engine.session_since() > basis
    }

    /// Whether a request to the serialized `url` may carry the token.
    pub fn allows(&self, url: &str) -> bool {
        self.state.borrow().engine.allows(url)
    }

    /// The warnings held back until `start()` (so a handler can hear them).
    pub fn take_pending_warnings(&self) -> Vec<(&'static str, &'static str)> {
        core::mem::take(&mut self.state.borrow_mut().pending_warnings)
    }

    /// Feeds `input` and performs its effects.
    pub fn feed(self: &Rc<Self>, input: Input) {
        let effects = {
            let mut st = self.state.borrow_mut();
            st.engine.step(input, now_ms(), rand01())
        };
        self.perform(effects);
    }

    /// Takes a token response the app obtained (sign-in at `at`, `acceptTokenResponse`
    /// without); returns the new phase, or the refusal.
    pub fn accept(self: &Rc<Self>, reply: &Reply, at: Option<&Where>) -> Result<Phase, JsValue> {
        self.alive()?;
        let (before, (outcome, code)) = {
            let mut st = self.state.borrow_mut();
            let before = st.engine.generation();
            (before, st.engine.reply(reply, now_ms(), rand01(), true))
        };
        if at.is_some() {
            self.log(&Entry::Answered {
                operation: Operation::SignIn.as_str(),
                status: reply.responded().then_some(reply.status),
                outcome: code,
            });
        }
        let effects = outcome.map_err(|e| from_core(&e, at))?;
        self.signing_in.set(true);
        self.perform(effects);
        self.signing_in.set(false);
        // A refresh still running started before this grant; its answer is stale.
        if self.generation() != before {
            self.abort_refresh();
        }
        Ok(self.phase())
    }

    /// Has the core write the bearer into `headers` for a request to `url`; `Err` is the
    /// core's refusal.
    pub fn lend(
        self: &Rc<Self>,
        headers: Option<&JsValue>,
        url: &str,
        want: bool,
    ) -> Result<Lend, JsValue> {
        let (lend, effects) = {
            let mut st = self.state.borrow_mut();
            st.engine.lend(headers, url, now_ms(), rand01(), want)
        };
        self.perform(effects);
        match lend {
            Lend::Failed(error) => Err(self.error_of(&error, url)),
            lend => Ok(lend),
        }
    }

    /// A request sent with `generation` got a 401 with `challenge`: whether it invites a
    /// retry with a new token.
    pub fn unauthorized(self: &Rc<Self>, generation: u64, challenge: &str) -> bool {
        let effects = {
            let mut st = self.state.borrow_mut();
            st.engine
                .unauthorized(generation, challenge, now_ms(), rand01())
        };
        match effects {
            Some(effects) => {
                self.perform(effects);
                true
            }
            None => false,
        }
    }

    /// The bare token, with `exposeAccessToken` only.
    pub fn exposed(&self) -> Option<zeroize::Zeroizing<String>> {
        self.state.borrow().engine.exposed(now_ms())
    }

    /// Sends `send` (its request carries the token of `generation`): the promise of its
    /// response, through the manager's one continuation (`after`).
    pub fn send_with_token(&self, send: Send, generation: u64) -> Promise {
        let id = self.last_send.get() + 1;
        self.last_send.set(id);
        let sent = network::send(send.request());
        self.sends.borrow_mut().insert(id, (send, generation));
        captured::after(&sent, self.after.as_ref(), id as f64)
    }

    /// The JS error for `error`, a failure the core gave a caller: about the refresh
    /// endpoint, except a `token_expired` of a `tm.fetch` call to `request` (non-empty),
    /// which names that request.
    pub fn error_of(&self, error: &Error, request: &str) -> JsValue {
        if *error == Error::TokenExpired && !request.is_empty() {
            from_core(error, Some(&Where::new(Operation::Request, request)))
        } else {
            from_core(error, Some(&self.refresh_where))
        }
    }

    /// A promise settled when the core settles this caller (waiting for `want`; `request`
    /// is the URL of a `tm.fetch` call, else empty); `on_ok` gives the value. An abort of
    /// `signal` rejects it with the signal's reason at once and tells the core to drop it.
    pub fn wait(
        self: &Rc<Self>,
        want: Want,
        request: String,
        signal: Option<AbortSignal>,
        on_ok: Option<OnOk>,
    ) -> Promise {
        if let Some(signal) = signal.as_ref().filter(|s| s.aborted()) {
            return Promise::reject(&signal.reason());
        }
        let mut functions = None;
        let promise = Promise::new(&mut |resolve, reject| functions = Some((resolve, reject)));
        let Some((resolve, reject)) = functions else {
            return promise;
        };
        let id = {
            let mut st = self.state.borrow_mut();
            st.last_id += 1;
            st.last_id
        };
        let on_abort = signal.and_then(|signal| {
            let weak = Rc::downgrade(self);
            let reason_of = signal.clone();
            Listener::new(&signal, "abort", true, move |_| {
                if let Some(m) = weak.upgrade() {
                    m.cancel(id, &reason_of);
                }
            })
        });
        let count = {
            let mut st = self.state.borrow_mut();
            st.waiters.insert(
                id,
                Waiter {
                    resolve,
                    reject,
                    on_ok,
                    request,
                    _on_abort: on_abort,
                },
            );
            st.waiters.len()
        };
        self.log(&Entry::Waiting {
            want: match want {
                Want::Token => "token",
                Want::Start => "start",
                Want::Refresh => "refresh",
            },
            count: u32::try_from(count).unwrap_or(u32::MAX),
        });
        self.feed(Input::Wait { id, want });
        promise
    }

    fn cancel(self: &Rc<Self>, id: u64, signal: &AbortSignal) {
        let waiter = self.state.borrow_mut().waiters.remove(&id);
        if let Some(waiter) = waiter {
            self.feed(Input::Cancel { id });
            let _ = waiter.reject.call1(&JsValue::UNDEFINED, &signal.reason());
        }
    }

    fn settle(self: &Rc<Self>, id: u64, outcome: Result<(), Error>) {
        let Some(waiter) = self.state.borrow_mut().waiters.remove(&id) else {
            return;
        };
        let result = match outcome {
            Err(error) => Err(self.error_of(&error, &waiter.request)),
            Ok(()) => match waiter.on_ok {
                Some(on_ok) => on_ok(self),
                None => Ok(JsValue::UNDEFINED),
            },
        };
        let _ = match result {
            Ok(value) => waiter.resolve.call1(&JsValue::UNDEFINED, &value),
            Err(error) => waiter.reject.call1(&JsValue::UNDEFINED, &error),
        };
    }

    /// Performs `effects` in order.
    pub fn perform(self: &Rc<Self>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::SendRefresh => self.send_refresh(),
                Effect::ArmTimer { at_ms } => {
                    let weak = Rc::downgrade(self);
                    let timeout = timer::after(at_ms as f64 - now_ms(), move || {
                        if let Some(m) = weak.upgrade() {
                            // The timer that fired is spent; dropping it clears nothing.
                            let spent = m.state.borrow_mut().timer.take();
                            drop(spent);
                            m.feed(Input::TimerFired);
                        }
                    });
                    let old = self.state.borrow_mut().timer.replace(timeout);
                    drop(old);
                }
                Effect::CancelTimer => {
                    let old = self.state.borrow_mut().timer.take();
                    drop(old);
                }
                Effect::Emit(event) => self.event(&event),
                Effect::Settle { id, outcome } => self.settle(id, outcome),
            }
        }
        self.log_schedule();
    }

    /// Whether a `logger` or `debug: true` was given.
    pub fn logging(&self) -> bool {
        self.options.logger.is_some() || self.options.debug
    }

    /// Hands `entry` to the app's `logger` (one that throws goes to `reportError`) and,
    /// with `debug: true`, to `console.debug`. Never called inside a borrow.
    pub fn log(&self, entry: &Entry<'_>) {
        if !self.logging() {
            return;
        }
        let value = log::to_js(entry);
        if let Some(logger) = &self.options.logger {
            if let Err(error) = logger.call1(&JsValue::UNDEFINED, &value) {
                captured::report(&error);
            }
        }
        if self.options.debug {
            web_sys::console::debug_2(&JsValue::from_str("token-warden"), &value);
        }
    }

    /// Logs `refresh-scheduled` when the time of the next refresh changed.
    fn log_schedule(&self) {
        if !self.logging() {
            return;
        }
        let at = self.state.borrow().engine.next_refresh_at_ms();
        if self.logged_refresh_at.replace(at) != at {
            if let Some(at) = at {
                let at = at as f64;
                self.log(&Entry::RefreshScheduled {
                    at,
                    in_ms: (at - now_ms()).max(0.0),
                });
            }
        }
    }

    /// Every refresh answers the core exactly once, even an aborted one: the core knows
    /// which answers are stale. The answer goes from the POST straight into the core;
    /// the lock's task resolves nothing.
    fn send_refresh(self: &Rc<Self>) {
        let post = match Post::build(
            &self.options.refresh_url,
            &JsValue::UNDEFINED,
            self.options.csrf.as_ref(),
        ) {
            Ok(post) => post,
            Err(_) => {
                self.answer_refresh(None, &Reply::none(NO_RESPONSE));
                return;
            }
        };
        let attempt = self.state.borrow().engine.attempt().saturating_add(1);
        self.log(&Entry::Sent {
            operation: Operation::Refresh.as_str(),
            endpoint: &self.refresh_where.endpoint,
            attempt: Some(attempt),
        });
        let controller = post.controller();
        let old = self
            .state
            .borrow_mut()
            .refresh_abort
            .replace(controller.clone());
        drop(old);
        let answered = Rc::new(Cell::new(false));
        let weak = Rc::downgrade(self);
        let name = concat(&["token-warden:refresh:", &self.options.refresh_url]);
        let timeout_ms = self.options.timeout_ms;
        let in_lock = {
            let weak = weak.clone();
            let answered = answered.clone();
            let controller = controller.clone();
            move || async move {
                let skip = weak.upgrade().is_none_or(|m| m.gone()) || controller.signal().aborted();
                if skip {
                    return;
                }
                let reply = post.send(timeout_ms, None, true).await;
                if let Some(m) = weak.upgrade() {
                    if !answered.replace(true) {
                        m.answer_refresh(Some(&controller), &reply);
                    }
                }
            }
        };
        spawn_local(async move {
            locks::with_lock(&name, in_lock).await;
            if let Some(m) = weak.upgrade() {
                if !answered.replace(true) {
                    m.answer_refresh(Some(&controller), &Reply::none(NO_RESPONSE));
                }
            }
        });
    }

    fn answer_refresh(self: &Rc<Self>, controller: Option<&AbortController>, reply: &Reply) {
        {
            let mut st = self.state.borrow_mut();
            let current = st.refresh_abort.as_ref();
            if controller.is_some()
                && current.map(|c| c as &JsValue) == controller.map(|c| c as &JsValue)
            {
                st.refresh_abort = None;
            }
        }
        if self.gone() {
            return;
        }
        let (effects, code) = {
            let mut st = self.state.borrow_mut();
            st.engine.reply(reply, now_ms(), rand01(), false)
        };
        self.log(&Entry::Answered {
            operation: Operation::Refresh.as_str(),
            status: reply.responded().then_some(reply.status),
            outcome: code,
        });
        if let Ok(effects) = effects {
            self.perform(effects);
        }
    }

    /// The app logged out: a `signed-in` message another tab sent before now is stale.
    pub fn logged_out(&self) {
        self.ended_at.set(now_ms());
    }

    /// Aborts the refresh in flight, if any (its answer then counts for nothing).
    pub fn abort_refresh(&self) {
        let controller = self.state.borrow_mut().refresh_abort.take();
        if let Some(controller) = controller {
            controller.abort();
        }
    }

    /// An event from the core: other tabs hear what they need (never an echo), then the app.
    fn event(self: &Rc<Self>, event: &Event) {
        if !self.from_other_tab.get() {
            if let Some(message) = tabs::message_for(event, now_ms(), self.signing_in.get()) {
                let posted = match self.state.borrow().channel.as_ref() {
                    Some(channel) => {
                        channel.post(&message);
                        true
                    }
                    None => false,
                };
                if posted {
                    self.log(&Entry::TabMessage {
                        direction: "posted",
                        message: &message.kind,
                    });
                }
            }
        }
        if self.logging() {
            self.log_event(event);
        }
        let (name, payload) = events::payload(event);
        self.emit(name, &payload);
    }

    fn log_event(&self, event: &Event) {
        let now = now_ms();
        match event {
            Event::State(phase) => self.log(&Entry::State {
                state: phase.as_str(),
            }),
            Event::SessionEnded { reason } => self.log(&Entry::SessionEnded {
                reason: reason.as_str(),
            }),
            Event::RefreshError {
                code,
                attempt,
                retry_at_ms: Some(at),
            } => {
                let at = *at as f64;
                self.log(&Entry::RetryScheduled {
                    attempt: *attempt,
                    code,
                    at,
                    in_ms: (at - now).max(0.0),
                });
            }
            Event::RefreshError {
                code,
                attempt,
                retry_at_ms: None,
            } => self.log(&Entry::GaveUp {
                attempt: *attempt,
                code,
            }),
            Event::Warning { code, .. } => self.log(&Entry::Warning { code }),
            Event::Refreshed { .. } => {}
        }
    }

    /// Calls the handlers of `event` with `payload`; one that throws is reported through
    /// `reportError` (the console, `window.onerror`) and the others still run.
    pub fn emit(&self, event: &str, payload: &JsValue) {
        // A copy: a handler may unsubscribe (or subscribe) while we call it.
        let handlers: Vec<Function> = self
            .state
            .borrow()
            .handlers
            .iter()
            .filter(|h| h.event == event)
            .map(|h| h.handler.clone())
            .collect();
        for handler in handlers {
            if let Err(error) = handler.call1(&JsValue::UNDEFINED, payload) {
                captured::report(&error);
            }
        }
    }

    /// Subscribes `handler` to `event`; returns its id for [`Manager::unsubscribe`].
    pub fn subscribe(&self, event: &'static str, handler: Function) -> u32 {
        let mut st = self.state.borrow_mut();
        st.next_handler += 1;
        let id = st.next_handler;
        st.handlers.push(Handler { id, event, handler });
        id
    }

    /// Unsubscribes handler `id` (twice is harmless).
    pub fn unsubscribe(&self, id: u32) {
        self.state.borrow_mut().handlers.retain(|h| h.id != id);
    }

    fn on_tab_message(self: &Rc<Self>, heard: Heard) {
        self.log(&Entry::TabMessage {
            direction: "heard",
            message: match heard {
                Heard::SignedIn { .. } => "signed-in",
                Heard::Refreshed => "refreshed",
                Heard::Ended(_) => "ended",
            },
        });
        match heard {
            Heard::Ended(reason) => {
                self.ended_at.set(now_ms());
                self.abort_refresh();
                self.from_other_tab.set(true);
                self.feed(Input::EndedElsewhere(reason));
                self.from_other_tab.set(false);
            }
            // Another tab signed in (a login, not a restore) while this one is signed in:
            // the cookie is that sign-in's now, perhaps another user's. Refresh at once,
            // so a switch is reported now rather than at the next scheduled refresh.
            Heard::SignedIn { login: true, .. } if self.phase() == Phase::SignedIn => {
                self.unawaited(Want::Refresh);
            }
            Heard::SignedIn { at, .. }
                if self.phase() == Phase::SignedOut
                    && at.is_none_or(|at| at > self.ended_at.get()) =>
            {
                // Another tab has a session: pick it up through the cookie.
                self.unawaited(Want::Start);
            }
            _ => {}
        }
    }

    /// Asks the core for `want` on nobody's behalf: an id without a waiter, whose settle
    /// is ignored, so a failure is no unhandled rejection; it arrives as events.
    fn unawaited(self: &Rc<Self>, want: Want) {
        let id = {
            let mut st = self.state.borrow_mut();
            st.last_id += 1;
            st.last_id
        };
        self.feed(Input::Wait { id, want });
    }

    /// Cancels timers, listeners and in-flight requests and clears the token.
    pub fn dispose(self: &Rc<Self>) {
        if self.gone() {
            return;
        }
        self.abort_refresh();
        let (wake, channel) = {
            let mut st = self.state.borrow_mut();
            (st.wake.take(), st.channel.take())
        };
        drop(wake);
        drop(channel);
        self.feed(Input::Dispose);
        let (timer, handlers) = {
            let mut st = self.state.borrow_mut();
            (st.timer.take(), core::mem::take(&mut st.handlers))
        };
        drop(timer);
        drop(handlers);
        self.gone.set(true);
    }

    /// A weak handle for closures that must not keep the manager alive.
    pub fn weak(self: &Rc<Self>) -> Weak<Manager> {
        Rc::downgrade(self)
    }
}

/// The continuation of requests sent with the token: a response other than a 401 (or a
/// rejection) goes back to the app as it is; a 401 goes to [`Send::after_401`].
fn after(weak: Weak<Manager>) -> After {
    Closure::new(move |ok: bool, value: JsValue, id: f64| -> JsValue {
        let m = weak.upgrade();
        let sent = m
            .as_ref()
            .and_then(|m| m.sends.borrow_mut().remove(&(id as u64)));
        if !ok {
            return Promise::reject(&value).into();
        }
        match (m, sent) {
            (Some(m), Some((send, generation))) if captured::status(&value) == 401 && !m.gone() => {
                future_to_promise(send.after_401(m, value, generation)).into()
            }
            _ => value,
        }
    })
}
