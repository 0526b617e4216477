//! token-warden's own POSTs (refresh, sign-in, logout): credentials included, never
//! cached, redirects not followed, `Accept: application/json`, the CSRF header, a
//! timeout, and the answer read through the captured built-ins.

use core::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};
use zeroize::Zeroizing;

use super::clock::now_ms;
use super::listener::Listener;
use super::timer;
use super::{captured, network};

/// [`Reply::status`] without a response (a network error, an abort).
pub const NO_RESPONSE: u32 = 0;
/// [`Reply::status`] without a response in time.
pub const TIMED_OUT: u32 = 1;

/// An anti-CSRF header sent with every POST of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfHeader {
    /// The header name (an HTTP token, RFC 9110 §5.6.2).
    pub name: String,
    /// Its value (printable ASCII).
    pub value: String,
}

/// What one POST got back. No `Debug`: the body may be a token response.
pub struct Reply {
    /// The HTTP status, 302 for any redirect (not followed), or [`NO_RESPONSE`] /
    /// [`TIMED_OUT`].
    pub status: u32,
    /// The body (read only when asked for, and wiped on drop).
    pub body: Zeroizing<String>,
    /// The `Date` header of a 2xx, the `Retry-After` of anything else; empty when absent.
    pub header: String,
    /// `header` read as an HTTP-date by `Date.parse` (ms since the epoch; NaN if none).
    pub header_date: f64,
    /// When the response arrived (local ms since the epoch).
    pub received_at: f64,
}

impl Reply {
    /// No response: `status` is [`NO_RESPONSE`] or [`TIMED_OUT`].
    pub fn none(status: u32) -> Reply {
        Reply {
            status,
            body: Zeroizing::new(String::new()),
            header: String::new(),
            header_date: f64::NAN,
            received_at: now_ms(),
        }
    }

    /// Whether a response came (any HTTP status).
    pub fn responded(&self) -> bool {
        self.status > TIMED_OUT
    }
}

/// Why a POST could not be built: the app's `init` is unusable (`invalid_options`,
/// naming the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadInit(pub &'static str);

/// A built POST, ready to send.
pub struct Post {
    request: JsValue,
    controller: AbortController,
}

impl Post {
    /// Builds the POST to `url` (absolute) from the app's `init` (a RequestInit, or
    /// undefined), with the CSRF header. The bearer, if any, goes into [`Post::headers`]
    /// afterwards, never through the init.
    pub fn build(url: &str, init: &JsValue, csrf: Option<&CsrfHeader>) -> Result<Post, BadInit> {
        let headers = captured::headers(&captured::init_headers(init))
            .map_err(|_| BadInit("init.headers"))?;
        if !captured::has(&headers, "accept") {
            let _ = captured::set(&headers, "Accept", "application/json");
        }
        if let Some(csrf) = csrf {
            let _ = captured::set(&headers, &csrf.name, &csrf.value);
        }
        let controller = AbortController::new().map_err(|_| BadInit("url"))?;
        let request = captured::post_request(url, init, &headers, &controller.signal())
            .map_err(|_| BadInit("url"))?;
        Ok(Post {
            request,
            controller,
        })
    }

    /// The built request's own headers (where a bearer may be written).
    pub fn headers(&self) -> JsValue {
        captured::request_headers(&self.request)
    }

    /// The built request's URL, as the browser serialized it.
    pub fn url(&self) -> String {
        captured::request_url(&self.request)
    }

    /// Aborts the request from outside (the answer is then [`NO_RESPONSE`]).
    pub fn controller(&self) -> AbortController {
        self.controller.clone()
    }

    /// Sends it. Aborted after `timeout_ms`, through [`Post::controller`], or when the
    /// app's `signal` aborts. With `read_body`, reads the body (a 2xx whose body cannot
    /// be read counts as no response). Never fails: every outcome is a [`Reply`].
    pub async fn send(
        self,
        timeout_ms: f64,
        signal: Option<AbortSignal>,
        read_body: bool,
    ) -> Reply {
        let Post {
            request,
            controller,
        } = self;
        let late = Rc::new(Cell::new(false));
        let _timeout = {
            let late = late.clone();
            let controller = controller.clone();
            timer::after(timeout_ms, move || {
                late.set(true);
                controller.abort();
            })
        };
        let _on_abort = signal.as_ref().and_then(|signal| {
            let controller = controller.clone();
            Listener::new(signal, "abort", true, move |_| controller.abort())
        });
        let reply = receive(&request, read_body).await;
        // Whatever is still streaming is not wanted any more.
        controller.abort();
        reply.unwrap_or_else(|| Reply::none(if late.get() { TIMED_OUT } else { NO_RESPONSE }))
    }
}

async fn receive(request: &JsValue, read_body: bool) -> Option<Reply> {
    let response = JsFuture::from(network::send(request)).await.ok()?;
    let received_at = now_ms();
    let code = captured::status(&response);
    let status = if code == 0 || captured::response_type(&response) == "opaqueredirect" {
        302
    } else {
        u32::from(code)
    };
    let ok = (200..300).contains(&status);
    let mut body = Zeroizing::new(String::new());
    if read_body {
        match JsFuture::from(captured::text(&response)).await {
            Ok(text) => *body = text.as_string().unwrap_or_default(),
            Err(_) if ok => return None,
            Err(_) => {}
        }
    }
    let headers = captured::response_headers(&response);
    let header =
        captured::get(&headers, if ok { "date" } else { "retry-after" }).unwrap_or_default();
    let header_date = captured::parse_date(&header);
    Some(Reply {
        status,
        body,
        header,
        header_date,
        received_at,
    })
}

/// The `AbortSignal` in `value`, if it is one.
pub fn as_signal(value: &JsValue) -> Option<AbortSignal> {
    value.dyn_ref::<AbortSignal>().cloned()
}
