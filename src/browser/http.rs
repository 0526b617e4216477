//! The requests token-warden sends itself (refresh, sign-in, logout), each with a
//! timeout, and the reading of their answers into core results.

use alloc::string::String;

use alloc::rc::Rc;
use core::cell::Cell;

use super::timer::Timeout;
use crate::browser::task::JsFuture;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, Headers, Response};

use super::clock;
use super::primitives::{get, get_string, headers_of, Primitives};
use super::timer::clamp_delay_ms;
use crate::core::{
    parse_error_response, parse_http_date, parse_token_response, Error, ExpiryPolicy,
    RefreshFailure, TokenGrant,
};

/// An in-flight request's abort switch: dropping the guard aborts the request
/// (reqwest's wasm `AbortGuard`), so a dropped future never leaves a request running.
#[must_use = "dropping the guard aborts the request"]
pub struct AbortGuard {
    controller: Option<AbortController>,
    timed_out: Rc<Cell<bool>>,
    _timeout: Option<Timeout>,
}

impl AbortGuard {
    /// A controller that aborts by itself after `timeout_ms`.
    pub fn with_timeout(timeout_ms: u64) -> Self {
        let controller = AbortController::new().ok();
        let timed_out = Rc::new(Cell::new(false));
        let timeout = controller.clone().map(|c| {
            let flag = timed_out.clone();
            Timeout::new(clamp_delay_ms(timeout_ms), move || {
                flag.set(true);
                c.abort();
            })
        });
        Self {
            controller,
            timed_out,
            _timeout: timeout,
        }
    }

    /// The signal to put in the request's init.
    pub fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.controller.as_ref().map(AbortController::signal)
    }

    /// The controller, so an owner can abort the request from elsewhere (dispose, logout).
    pub fn controller(&self) -> Option<AbortController> {
        self.controller.clone()
    }

    /// Whether our own timer aborted the request.
    pub fn timed_out(&self) -> bool {
        self.timed_out.get()
    }

    /// Forgets the controller so dropping the guard no longer aborts (the body was read).
    pub fn disarm(mut self) {
        self.controller = None;
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if let Some(controller) = self.controller.take() {
            controller.abort();
        }
    }
}

/// Where and how token-warden talks to the auth server.
pub struct AuthRequest<'a> {
    /// Absolute URL of the endpoint.
    pub url: &'a str,
    /// The custom anti-CSRF header, sent on every cookie-authenticated call.
    pub csrf: Option<&'a (String, String)>,
    /// Extra headers (a bearer token for logout).
    pub authorization: Option<&'a str>,
    /// The app's own `RequestInit` (sign-in); ours override method/credentials.
    pub app_init: Option<&'a JsValue>,
}

/// What an auth endpoint answered.
pub struct Reply {
    /// The HTTP status (0 for an opaque redirect).
    pub status: u16,
    /// Local time the response head arrived.
    pub received_at_ms: u64,
    /// The body, when it was asked for and could be read.
    pub body: Option<String>,
    /// Whether our own timer aborted the request while the body was read.
    pub timed_out: bool,
    /// The `Date` header (2xx) or the `Retry-After` header (otherwise).
    pub header: Option<String>,
    /// `response.type == "opaqueredirect"`.
    pub opaque_redirect: bool,
}

/// Sends a POST with `credentials: 'include'` and the CSRF header, and reads the
/// answer (with `read_body`, also its body, under the same timeout). Without
/// `read_body` the request is aborted once the head is in.
pub async fn post(
    prims: &Primitives,
    req: &AuthRequest<'_>,
    guard: AbortGuard,
    read_body: bool,
) -> Result<Reply, Error> {
    let init = Object::new();
    if let Some(app) = req.app_init.filter(|v| v.is_object()) {
        // A shallow copy: the app keeps its object, we set what we must.
        let _ = Object::assign(&init, app.unchecked_ref());
    }
    // Whatever the app passed (object, array, Headers) is normalized by the constructor.
    let app_headers = req
        .app_init
        .and_then(|v| get(v, "headers"))
        .unwrap_or(JsValue::UNDEFINED);
    let headers: Headers = prims
        .headers(&app_headers)
        .map_err(|_| Error::InvalidOptions {
            field: "init.headers".into(),
            reason: "the headers could not be read".into(),
        })?;
    if !has_method(&init) {
        set_str(&init, "method", "POST");
    }
    set_str(&init, "credentials", "include");
    set_str(&init, "cache", "no-store");
    // A redirect from an auth endpoint is never followed: it would carry the cookie along.
    set_str(&init, "redirect", "manual");
    if headers.get("accept").ok().flatten().is_none() {
        let _ = headers.set("Accept", "application/json");
    }
    if let Some((name, value)) = req.csrf {
        let _ = headers.set(name, value);
    }
    if let Some(auth) = req.authorization {
        let _ = headers.set("Authorization", auth);
    }
    set(&init, "headers", &headers);
    if let Some(signal) = guard.signal() {
        set(&init, "signal", &signal);
    }
    let request = prims
        .request(&JsValue::from_str(req.url), &init)
        .map_err(|_| Error::InvalidOptions {
            field: "url".into(),
            reason: "the request could not be built".into(),
        })?;
    let response: Response = match JsFuture::from(prims.fetch(&request)).await {
        Ok(response) => response.unchecked_into(),
        Err(_) if guard.timed_out() => return Err(Error::Timeout),
        Err(_) => return Err(Error::Network),
    };
    let mut reply = Reply {
        status: response.status(),
        received_at_ms: clock::now_ms(),
        body: None,
        timed_out: false,
        header: None,
        opaque_redirect: false,
    };
    if !read_body {
        // Dropping the guard aborts the rest of the exchange.
        return Ok(reply);
    }
    if let Ok(promise) = response.text() {
        reply.body = JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string());
    }
    reply.timed_out = guard.timed_out();
    guard.disarm();
    let success = (200..300).contains(&reply.status);
    let name = if success { "date" } else { "retry-after" };
    reply.header = headers_of(&response).get(name).ok().flatten();
    reply.opaque_redirect = response_type(&response).as_deref() == Some("opaqueredirect");
    Ok(reply)
}

/// Reads a token endpoint's answer: RFC 6749 §5.1 on 2xx, §5.2 (or plain HTTP) otherwise.
pub fn read_token_response(
    reply: Reply,
    policy: &ExpiryPolicy,
) -> Result<TokenGrant, RefreshFailure> {
    let Reply {
        status,
        received_at_ms,
        body,
        timed_out,
        header,
        opaque_redirect,
    } = reply;
    if (200..300).contains(&status) {
        let body = match body {
            Some(body) => body,
            None if timed_out => return Err(Error::Timeout.into()),
            None => return Err(Error::Network.into()),
        };
        let server_date = header.and_then(|d| parse_http_date(&d));
        parse_token_response(&body, received_at_ms, server_date, policy)
            .map_err(RefreshFailure::from)
    } else if status == 0 || opaque_redirect {
        Err(Error::HttpStatus { status: 302 }.into())
    } else {
        Err(parse_error_response(
            status,
            body.as_deref().unwrap_or(""),
            header.as_deref(),
            clock::now_ms(),
        ))
    }
}

/// `response.type`, read like any property: no enum table in the glue.
fn response_type(response: &Response) -> Option<String> {
    get_string(response, "type")
}

fn has_method(init: &Object) -> bool {
    get(init, "method").is_some_and(|m| m.is_string())
}

/// [`set`] with a string value, converted in one place.
#[inline(never)]
pub fn set_str(target: &Object, key: &str, value: &str) {
    set(target, key, &JsValue::from_str(value));
}

/// `Reflect.set` that cannot fail on a plain object we own.
pub fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}
