//! The scripted auth server and the helpers every test uses.
//!
//! [`Server::new`] installs itself as the network of every request the manager sends
//! (`token_warden::browser::network::script_fetch`). Routes, all under the server's own
//! path prefix (unique per test, so the managers of two tests never share a
//! BroadcastChannel or a Web Lock, both named after the refresh URL):
//!
//! - `POST {prefix}/auth/refresh`, `{prefix}/auth/login`: the next scripted [`Answer`],
//!   else (a refresh without the refresh cookie) 401 `invalid_grant`, else
//!   [`Server::always`], else a fresh token (RFC 6749 §5.1).
//! - `POST {prefix}/auth/logout`: [`Server::logout_answer`] (204 by default).
//!
//! The refresh cookie is modelled as a backend keeps it: the page starts with one, a 2xx
//! of the logout endpoint clears it (when it answers, after any delay), so does a 400 or
//! 401 of the refresh endpoint (a refused refresh token is revoked), and a 2xx of the
//! login endpoint sets it again.
//! - `/api/forbidden`: 403 `insufficient_scope`.
//! - `/api/down` (of any origin): a network error.
//! - `/api/...`: 200 if the bearer is the current token, else 401 with
//!   [`Server::www_authenticate`].
//! - any other origin: 200 `elsewhere`.
//!
//! Like the network, it honours a request's `AbortSignal`: an aborted request is not
//! sent and rejects with `signal.reason`, and a hung or delayed answer rejects with
//! `signal.reason` as soon as the signal aborts. Every request is recorded.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use serde_json::{json, Value};
use token_warden::browser::network::script_fetch;
use token_warden::TokenManager;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{AbortSignal, Headers, Request, Response, ResponseInit, Url};

/// The event names of `TokenManager.on`.
pub use token_warden::api::events::EVENTS;

thread_local! {
    static NEXT_SERVER: Cell<u32> = const { Cell::new(0) };
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// The absolute URL.
    pub url: String,
    /// The pathname for the page's origin, origin + pathname for any other.
    pub path: String,
    pub method: String,
    pub authorization: Option<String>,
    /// `X-Requested-With`, the default CSRF header.
    pub csrf: Option<String>,
    /// `X-CSRF-Token`, the custom CSRF header the tests configure.
    pub custom_csrf: Option<String>,
    pub accept: Option<String>,
    pub credentials: String,
    pub cache: String,
    pub redirect: String,
    /// The body text (None for GET and HEAD, and until it was read).
    pub body: Option<String>,
}

/// An answer of the token endpoints (or of the logout endpoint).
#[derive(Debug, Clone)]
pub struct Answer {
    status: u16,
    body: Body,
    headers: Vec<(String, String)>,
    delay_ms: i32,
    hang: bool,
    network_error: bool,
}

#[derive(Debug, Clone)]
enum Body {
    /// A fresh token (RFC 6749 §5.1) with these members merged over the defaults.
    Token(Value),
    Text(String),
    Empty,
}

impl Answer {
    /// 200 with a fresh token of the server's lifetime.
    pub fn token() -> Answer {
        Answer::token_with(json!({}))
    }

    /// 200 with a fresh token and `extra` merged over the response members.
    pub fn token_with(extra: Value) -> Answer {
        Answer {
            status: 200,
            body: Body::Token(extra),
            headers: vec![("Content-Type".into(), "application/json".into())],
            delay_ms: 0,
            hang: false,
            network_error: false,
        }
    }

    /// `status` with `body` as is.
    pub fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: if body.is_empty() {
                Body::Empty
            } else {
                Body::Text(body.into())
            },
            headers: Vec::new(),
            delay_ms: 0,
            hang: false,
            network_error: false,
        }
    }

    /// 400 `invalid_grant` (RFC 6749 §5.2).
    pub fn invalid_grant() -> Answer {
        Answer::status(
            400,
            r#"{"error":"invalid_grant","error_description":"the refresh token was revoked"}"#,
        )
        .header("Content-Type", "application/json")
    }

    /// 503, a transient failure.
    pub fn unavailable() -> Answer {
        Answer::status(503, "")
    }

    /// Never answers (until the request's signal aborts, as the network would).
    pub fn hang() -> Answer {
        Answer {
            hang: true,
            ..Answer::token()
        }
    }

    /// Fails as `fetch` fails without a network: rejects with a TypeError.
    pub fn network_error() -> Answer {
        Answer {
            network_error: true,
            ..Answer::token()
        }
    }

    /// With the response header `name: value`.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answers after `ms` (abortable).
    pub fn delay(mut self, ms: i32) -> Answer {
        self.delay_ms = ms;
        self
    }
}

struct State {
    origin: String,
    prefix: String,
    lifetime: f64,
    script: VecDeque<Answer>,
    always: Option<Answer>,
    logout: Answer,
    requests: Vec<Rec>,
    refreshes: u32,
    minted: u32,
    current: Option<String>,
    revoked: Vec<String>,
    api_always_401: bool,
    www_authenticate: Option<String>,
    in_flight: u32,
    max_in_flight: u32,
    aborted: u32,
    cookie: bool,
}

/// The scripted auth server of one test; dropping it closes the network (every later
/// request fails), so nothing a finished test left behind reaches the next one's server.
pub struct Server {
    state: Rc<RefCell<State>>,
    prefix: String,
}

impl Server {
    /// A server minting tokens of `lifetime` seconds (`expires_in`), installed as the
    /// network of every manager.
    pub fn new(lifetime: f64) -> Server {
        let n = NEXT_SERVER.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        let prefix = format!("/t{n}");
        let state = Rc::new(RefCell::new(State {
            origin: page_origin(),
            prefix: prefix.clone(),
            lifetime,
            script: VecDeque::new(),
            always: None,
            logout: Answer::status(204, ""),
            requests: Vec::new(),
            refreshes: 0,
            minted: 0,
            current: None,
            revoked: Vec::new(),
            api_always_401: false,
            www_authenticate: Some(r#"Bearer error="invalid_token""#.into()),
            in_flight: 0,
            max_in_flight: 0,
            aborted: 0,
            cookie: true,
        }));
        let inner = state.clone();
        let handler = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |request: JsValue| {
            handle(&inner, request.unchecked_into())
        });
        script_fetch(Some(handler.into_js_value().unchecked_into()));
        Server { state, prefix }
    }

    /// `{prefix}{path}`, e.g. `url("/auth/refresh")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The refresh endpoint's path.
    pub fn refresh_path(&self) -> String {
        self.url("/auth/refresh")
    }

    /// Queues the next answer of the token endpoints.
    pub fn push(&self, answer: Answer) {
        self.state.borrow_mut().script.push_back(answer);
    }

    /// The answer of the token endpoints when nothing is queued (None: a fresh token).
    pub fn always(&self, answer: Option<Answer>) {
        self.state.borrow_mut().always = answer;
    }

    /// The answer of the logout endpoint.
    pub fn logout_answer(&self, answer: Answer) {
        self.state.borrow_mut().logout = answer;
    }

    /// The `WWW-Authenticate` of the API's 401s (None: no such header).
    pub fn www_authenticate(&self, value: Option<&str>) {
        self.state.borrow_mut().www_authenticate = value.map(String::from);
    }

    /// Every API request gets a 401, whatever its bearer.
    pub fn api_always_401(&self) {
        self.state.borrow_mut().api_always_401 = true;
    }

    /// The API stops taking the current token (as after a server-side revocation).
    pub fn revoke_current(&self) {
        let mut st = self.state.borrow_mut();
        if let Some(current) = st.current.clone() {
            st.revoked.push(current);
        }
    }

    /// A new token the API takes from now on (for tokens given to `acceptTokenResponse`).
    pub fn mint(&self) -> String {
        mint(&mut self.state.borrow_mut())
    }

    /// The token the API takes.
    pub fn current(&self) -> Option<String> {
        self.state.borrow().current.clone()
    }

    /// `Bearer <current>`.
    pub fn bearer(&self) -> Option<String> {
        self.current().map(|t| format!("Bearer {t}"))
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Rec> {
        self.state.borrow().requests.clone()
    }

    /// The requests to `path` (as [`Rec::path`]).
    pub fn to(&self, path: &str) -> Vec<Rec> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// How many requests went to `path`.
    pub fn count(&self, path: &str) -> usize {
        self.to(path).len()
    }

    /// The `Authorization` of each request to `path`.
    pub fn auth_of(&self, path: &str) -> Vec<Option<String>> {
        self.to(path).into_iter().map(|r| r.authorization).collect()
    }

    /// How many refresh requests came.
    pub fn refreshes(&self) -> u32 {
        self.state.borrow().refreshes
    }

    /// The most token-endpoint requests answered at the same time.
    pub fn max_in_flight(&self) -> u32 {
        self.state.borrow().max_in_flight
    }

    /// Whether the browser holds the refresh cookie.
    pub fn has_cookie(&self) -> bool {
        self.state.borrow().cookie
    }

    /// How many hung or delayed token-endpoint requests were aborted by their signal.
    pub fn aborted(&self) -> u32 {
        self.state.borrow().aborted
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let closed = Function::new_with_args(
            "request",
            "return Promise.reject(new TypeError('the test that owned this network is over'))",
        );
        script_fetch(Some(closed));
    }
}

fn mint(st: &mut State) -> String {
    st.minted += 1;
    let token = format!(
        "tok{}-{}-abcdef",
        st.prefix.trim_start_matches('/'),
        st.minted
    );
    st.current = Some(token.clone());
    token
}

/// The page's origin, e.g. `http://127.0.0.1:8000`.
pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

fn handle(state: &Rc<RefCell<State>>, request: Request) -> Promise {
    let signal = request.signal();
    if signal.aborted() {
        return Promise::reject(&signal.reason());
    }
    let href = request.url();
    let Ok(url) = Url::new(&href) else {
        return Promise::reject(&js_sys::TypeError::new("bad URL").into());
    };
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let text = |name: &str| {
        Reflect::get(&request, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let method = request.method();
    let own_origin = url.origin() == state.borrow().origin;
    let rec = Rec {
        url: href.clone(),
        path: if own_origin {
            url.pathname()
        } else {
            format!("{}{}", url.origin(), url.pathname())
        },
        method: method.clone(),
        authorization: header("authorization"),
        csrf: header("x-requested-with"),
        custom_csrf: header("x-csrf-token"),
        accept: header("accept"),
        credentials: text("credentials"),
        cache: text("cache"),
        redirect: text("redirect"),
        body: None,
    };
    let index = {
        let mut st = state.borrow_mut();
        st.requests.push(rec.clone());
        st.requests.len() - 1
    };
    let state = state.clone();
    future_to_promise(async move {
        if method != "GET" && method != "HEAD" {
            if let Ok(copy) = request.clone() {
                if let Ok(text) = copy.text() {
                    let body = JsFuture::from(text).await?.as_string();
                    state.borrow_mut().requests[index].body = body;
                }
            }
        }
        route(&state, &rec, own_origin, &signal).await
    })
}

async fn route(
    state: &Rc<RefCell<State>>,
    rec: &Rec,
    own_origin: bool,
    signal: &AbortSignal,
) -> Result<JsValue, JsValue> {
    let path = rec.path.as_str();
    if path.ends_with("/api/down") {
        return Err(js_sys::TypeError::new("Failed to fetch").into());
    }
    if !own_origin {
        return response(200, Some("elsewhere"), &[]);
    }
    let prefix = state.borrow().prefix.clone();
    let refresh = format!("{prefix}/auth/refresh");
    let login = format!("{prefix}/auth/login");
    let logout = format!("{prefix}/auth/logout");
    if path == refresh || path == login {
        let answer = {
            let mut st = state.borrow_mut();
            if path == refresh {
                st.refreshes += 1;
            }
            st.in_flight += 1;
            st.max_in_flight = st.max_in_flight.max(st.in_flight);
            let scripted = st.script.pop_front();
            let no_cookie = path == refresh && !st.cookie;
            scripted
                .or_else(|| no_cookie.then(|| Answer::status(401, r#"{"error":"invalid_grant"}"#)))
                .or_else(|| st.always.clone())
                .unwrap_or_else(Answer::token)
        };
        let answered = answer_with(state, &answer, signal).await;
        let mut st = state.borrow_mut();
        st.in_flight -= 1;
        let code = answered.as_ref().map_or(0, status);
        if path == login && (200..300).contains(&code) {
            st.cookie = true;
        }
        if path == refresh && matches!(code, 400 | 401) {
            // The refresh token was refused: the server revoked it.
            st.cookie = false;
        }
        return answered;
    }
    if path == logout {
        let answer = state.borrow().logout.clone();
        let answered = answer_with(state, &answer, signal).await;
        if answered
            .as_ref()
            .is_ok_and(|r| (200..300).contains(&status(r)))
        {
            state.borrow_mut().cookie = false;
        }
        return answered;
    }
    if path == "/api/forbidden" {
        return response(
            403,
            Some(r#"{"error":"insufficient_scope"}"#),
            &[(
                "WWW-Authenticate".into(),
                r#"Bearer error="insufficient_scope""#.into(),
            )],
        );
    }
    if path.starts_with("/api/") {
        let st = state.borrow();
        let auth = rec.authorization.clone().unwrap_or_default();
        let ok = !st.api_always_401
            && st
                .current
                .as_ref()
                .is_some_and(|t| auth == format!("Bearer {t}") && !st.revoked.contains(t));
        if ok {
            return response(200, Some(r#"{"ok":true}"#), &[]);
        }
        let challenge: Vec<(String, String)> = st
            .www_authenticate
            .iter()
            .map(|c| ("WWW-Authenticate".to_owned(), c.clone()))
            .collect();
        return response(401, None, &challenge);
    }
    response(404, Some("not found"), &[])
}

async fn answer_with(
    state: &Rc<RefCell<State>>,
    answer: &Answer,
    signal: &AbortSignal,
) -> Result<JsValue, JsValue> {
    if answer.hang || answer.delay_ms > 0 {
        let delay = (!answer.hang).then_some(answer.delay_ms);
        if let Err(reason) = JsFuture::from(abortable_sleep(signal, delay)).await {
            state.borrow_mut().aborted += 1;
            return Err(reason);
        }
    }
    if answer.network_error {
        return Err(js_sys::TypeError::new("Failed to fetch").into());
    }
    let body = match &answer.body {
        Body::Token(extra) => {
            let mut st = state.borrow_mut();
            let token = mint(&mut st);
            let mut members = json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": st.lifetime,
            });
            if let (Some(members), Some(extra)) = (members.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    members.insert(k.clone(), v.clone());
                }
            }
            Some(members.to_string())
        }
        Body::Text(text) => Some(text.clone()),
        Body::Empty => None,
    };
    response(answer.status, body.as_deref(), &answer.headers)
}

/// A promise resolved after `ms` (never, with `None`), rejected with `signal.reason` as
/// soon as `signal` aborts.
fn abortable_sleep(signal: &AbortSignal, ms: Option<i32>) -> Promise {
    let signal = signal.clone();
    Promise::new(&mut |resolve, reject| {
        if let (Some(ms), Some(window)) = (ms, web_sys::window()) {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
        let reason_of = signal.clone();
        let on_abort = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::UNDEFINED, &reason_of.reason());
        });
        let _ = signal.add_event_listener_with_callback("abort", on_abort.unchecked_ref());
    })
}

fn response(
    status: u16,
    body: Option<&str>,
    headers: &[(String, String)],
) -> Result<JsValue, JsValue> {
    let h = Headers::new()?;
    for (name, value) in headers {
        h.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&h);
    let body = if matches!(status, 101 | 204 | 205 | 304) {
        None
    } else {
        body
    };
    Ok(Response::new_with_opt_str_and_init(body, &init)?.into())
}

// ---------------------------------------------------------------- the manager

/// The options of a test manager: the server's endpoints, fast retries, a high refresh
/// ceiling, with `extra` merged over them (a `null` member stays `null`).
pub fn options(server: &Server, extra: Value) -> JsValue {
    let mut o = json!({
        "refreshUrl": server.url("/auth/refresh"),
        "logoutUrl": server.url("/auth/logout"),
        "retry": { "baseDelayMs": 10, "maxDelayMs": 50 },
        "maxRefreshesPerMinute": 600,
        "requestTimeoutMs": 2000,
    });
    if let (Some(o), Some(extra)) = (o.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    js(&o)
}

/// `value` as a JS value (objects as plain objects).
pub fn js(value: &Value) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    serde::Serialize::serialize(value, &serializer).expect("JSON converts to JS")
}

/// Every event of a manager, in order, with its payload.
#[derive(Clone, Default)]
pub struct Events {
    log: Rc<RefCell<Vec<(String, JsValue)>>>,
}

impl Events {
    /// Subscribes to every event of `tm`.
    pub fn of(tm: &TokenManager) -> Events {
        let events = Events::default();
        for name in EVENTS {
            let log = events.log.clone();
            let handler = Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
                log.borrow_mut().push((name.to_owned(), payload));
            });
            tm.on(JsValue::from_str(name), handler.into_js_value())
                .expect("a known event");
        }
        events
    }

    /// The names of every event, in order.
    pub fn names(&self) -> Vec<String> {
        self.log.borrow().iter().map(|(n, _)| n.clone()).collect()
    }

    /// The payloads of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<JsValue> {
        self.log
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// The `state` events.
    pub fn states(&self) -> Vec<String> {
        self.all("state")
            .iter()
            .filter_map(|s| s.as_string())
            .collect()
    }

    /// The `reason` of each `session-ended`.
    pub fn ended(&self) -> Vec<String> {
        self.all("session-ended")
            .iter()
            .map(|p| text(p, "reason"))
            .collect()
    }

    /// The `code` of each `warning`.
    pub fn warnings(&self) -> Vec<String> {
        self.all("warning")
            .iter()
            .map(|p| text(p, "code"))
            .collect()
    }

    /// Each `refresh-error` as (code, attempt, retryAt).
    pub fn refresh_errors(&self) -> Vec<(String, f64, Option<f64>)> {
        self.all("refresh-error")
            .iter()
            .map(|p| {
                (
                    text(p, "code"),
                    number(p, "attempt"),
                    get(p, "retryAt").as_f64(),
                )
            })
            .collect()
    }
}

/// A manager over `server` with `extra` options, and its event log.
pub fn manager(server: &Server, extra: Value) -> (TokenManager, Events) {
    let tm = TokenManager::new(options(server, extra)).expect("valid options");
    let events = Events::of(&tm);
    (tm, events)
}

/// A manager, started and signed in.
pub async fn signed_in(server: &Server, extra: Value) -> (TokenManager, Events) {
    let (tm, events) = manager(server, extra);
    let phase = settle(tm.start()).await.expect("start resolves");
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"), "start");
    (tm, events)
}

// ---------------------------------------------------------------- JS values

/// How `promise` settled.
pub async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// `value[key]`.
pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `value[key]` as a string ("" when it is none).
pub fn text(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

/// `value[key]` as a number (NaN when it is none).
pub fn number(value: &JsValue, key: &str) -> f64 {
    get(value, key).as_f64().unwrap_or(f64::NAN)
}

/// The `code` of a rejection.
pub fn code(error: &JsValue) -> String {
    text(error, "code")
}

/// The `message` of a rejection.
pub fn message(error: &JsValue) -> String {
    text(error, "message")
}

/// Asserts `error` is a `TokenWardenError` (a real `Error`) with `code`; returns its message.
pub fn assert_tw_error(error: &JsValue, expected: &str) -> String {
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "a real Error: {error:?}"
    );
    assert_eq!(text(error, "name"), "TokenWardenError", "name of {error:?}");
    assert_eq!(code(error), expected, "code of {:?}", message(error));
    message(error)
}

/// The status of a `Response`.
pub fn status(response: &JsValue) -> u16 {
    response.unchecked_ref::<Response>().status()
}

/// `tm.fetch(url)`, awaited: its status.
pub async fn fetch_status(tm: &TokenManager, url: &str) -> u16 {
    let response = settle(tm.fetch(JsValue::from_str(url), JsValue::UNDEFINED))
        .await
        .expect("fetch resolves");
    status(&response)
}

/// A plain object with `members`.
pub fn object(members: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in members {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("set");
    }
    o.into()
}

// ---------------------------------------------------------------- time

/// Resolves after `ms`.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Waits until `cond()` holds (polled every 10 ms), at most `ms`; whether it held.
pub async fn wait_for(mut cond: impl FnMut() -> bool, ms: f64) -> bool {
    let end = js_sys::Date::now() + ms;
    while !cond() {
        if js_sys::Date::now() >= end {
            return false;
        }
        sleep(10).await;
    }
    true
}

/// How `promise` settled within `ms`: `None` if it had not.
pub async fn within(promise: Promise, ms: f64) -> Option<Result<JsValue, JsValue>> {
    let slot = Rc::new(RefCell::new(None));
    let fill = slot.clone();
    spawn_local(async move {
        let outcome = JsFuture::from(promise).await;
        *fill.borrow_mut() = Some(outcome);
    });
    wait_for(|| slot.borrow().is_some(), ms).await;
    let outcome = slot.borrow_mut().take();
    outcome
}

/// Dispatches a plain `type` event on the window (`online`, `offline`, `focus`).
pub fn fire_on_window(kind: &str) {
    let window = web_sys::window().expect("a window");
    let event = web_sys::Event::new(kind).expect("an event");
    let _ = window.dispatch_event(&event);
}

/// A JWT (unsigned: the client never verifies) with `payload`.
pub fn jwt(payload: &Value) -> String {
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2ln",
        b64(&json!({"alg": "HS256", "typ": "JWT"})),
        b64(payload)
    )
}

/// Moves the page's clock (`Date.now`) `ms` ahead, as after the machine slept (timers
/// did not run); `0` restores it.
pub fn shift_clock(ms: f64) {
    let shift = Function::new_with_args(
        "ms",
        "const g = globalThis; if (!g.__twRealNow) g.__twRealNow = Date.now; \
         const real = g.__twRealNow; Date.now = ms === 0 ? real : () => real() + ms;",
    );
    shift
        .call1(&JsValue::UNDEFINED, &JsValue::from_f64(ms))
        .expect("shifted");
}

/// A RequestInit whose body is a `ReadableStream` (which cannot be replayed).
pub fn stream_init() -> JsValue {
    Function::new_no_args(
        "return { method: 'POST', duplex: 'half', body: new ReadableStream({ start(c) { \
         c.enqueue(new TextEncoder().encode('streamed')); c.close(); } }) };",
    )
    .call0(&JsValue::UNDEFINED)
    .expect("a stream init")
}
