//! `TokenManagerOptions` from JavaScript: every field type-checked, unknown fields
//! refused (a typo such as `refreshURL` must not be silently ignored).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::browser::manager::ManagerOptions;
use crate::browser::primitives::{page_origin, Primitives};
use crate::core::error::push_decimal;
use crate::core::{Config, Error, ExpiryPolicy, RetryPolicy};

/// Every option name, for the unknown-field check and the error message.
const FIELDS: [&str; 11] = [
    "refreshUrl",
    "logoutUrl",
    "allowedOrigins",
    "refreshLeadSeconds",
    "csrfHeader",
    "requestTimeoutMs",
    "retry",
    "defaultLifetimeSeconds",
    "maxTokenBytes",
    "exposeAccessToken",
    "maxRefreshesPerMinute",
];

/// The message for an unknown option name: lists [`FIELDS`].
const UNKNOWN_OPTION: &str = "unknown option; known options are refreshUrl, logoutUrl, \
    allowedOrigins, refreshLeadSeconds, csrfHeader, requestTimeoutMs, retry, \
    defaultLifetimeSeconds, maxTokenBytes, exposeAccessToken, maxRefreshesPerMinute";

/// The default anti-CSRF header: any custom header forces a CORS preflight cross-origin.
pub const DEFAULT_CSRF_HEADER: (&str, &str) = ("X-Requested-With", "token-warden");
/// Default timeout of our own requests and of waiting for a token.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOptions {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Reads and validates the options object passed to `new TokenManager(options)`.
pub fn parse(value: &JsValue) -> Result<ManagerOptions, Error> {
    let obj: &Object = value
        .dyn_ref::<Object>()
        .filter(|_| !value.is_function() && !Array::is_array(value))
        .ok_or_else(|| invalid("options", "expected an object"))?;
    for key in Object::keys(obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !FIELDS.contains(&key.as_str()) {
            return Err(invalid(&key, UNKNOWN_OPTION));
        }
    }
    let prims = Primitives::capture()?;
    let get =
        |field: &str| Reflect::get(obj, &JsValue::from_str(field)).unwrap_or(JsValue::UNDEFINED);

    let refresh_url = url(&prims, "refreshUrl", &get("refreshUrl"))?
        .ok_or_else(|| invalid("refreshUrl", "is required"))?;
    let logout_url = url(&prims, "logoutUrl", &get("logoutUrl"))?;
    let allowed_origins = origins(&prims, &get("allowedOrigins"))?;

    let lead_s = number(
        &get("refreshLeadSeconds"),
        "refreshLeadSeconds",
        0.0,
        86_400.0,
    )?
    .unwrap_or(60.0);
    let timeout = number(&get("requestTimeoutMs"), "requestTimeoutMs", 1.0, 600_000.0)?
        .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |v| v as u64);
    let default_lifetime = number(
        &get("defaultLifetimeSeconds"),
        "defaultLifetimeSeconds",
        1.0,
        31_536_000.0,
    )?;
    let max_token_bytes = number(&get("maxTokenBytes"), "maxTokenBytes", 16.0, 1_048_576.0)?
        .map_or(crate::core::DEFAULT_MAX_TOKEN_BYTES, |v| v as usize);
    let per_minute = number(
        &get("maxRefreshesPerMinute"),
        "maxRefreshesPerMinute",
        1.0,
        600.0,
    )?
    .map_or(crate::core::DEFAULT_MAX_REFRESHES_PER_MINUTE, |v| v as u32);
    let expose = boolean(&get("exposeAccessToken"), "exposeAccessToken")?.unwrap_or(false);

    let config = Config {
        refresh_lead_ms: (lead_s * 1000.0) as u64,
        retry: retry(&get("retry"))?,
        expiry: ExpiryPolicy {
            default_lifetime_ms: default_lifetime.map(|s| (s * 1000.0) as u64),
            max_token_bytes,
        },
        max_refreshes_per_minute: per_minute,
    };
    config.validate()?;
    Ok(ManagerOptions {
        refresh_url,
        logout_url,
        allowed_origins,
        csrf_header: csrf(&get("csrfHeader"))?,
        request_timeout_ms: timeout,
        expose_access_token: expose,
        session: config,
    })
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined()
}

/// A finite number in `[min, max]`; a fractional value is floored by the caller's cast.
fn number(v: &JsValue, field: &str, min: f64, max: f64) -> Result<Option<f64>, Error> {
    if absent(v) {
        return Ok(None);
    }
    let n = v
        .as_f64()
        .ok_or_else(|| invalid(field, "expected a number"))?;
    if !n.is_finite() || n < min || n > max {
        // Whole numbers: formatting an f64 would pull ~15 KB of float printing into the wasm.
        let mut reason = String::from("expected a number from ");
        push_decimal(&mut reason, min as u64);
        reason.push_str(" to ");
        push_decimal(&mut reason, max as u64);
        return Err(invalid(field, reason));
    }
    Ok(Some(n))
}

fn boolean(v: &JsValue, field: &str) -> Result<Option<bool>, Error> {
    if absent(v) {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| invalid(field, "expected true or false"))
}

/// A string or `URL`, resolved against the page.
fn url(prims: &Primitives, field: &str, v: &JsValue) -> Result<Option<String>, Error> {
    if absent(v) || v.is_null() {
        return Ok(None);
    }
    let text = if v.is_string() {
        v.as_string()
    } else if v.is_object() {
        // A `URL` object stringifies to its href.
        v.dyn_ref::<Object>().map(|o| String::from(o.to_string()))
    } else {
        None
    };
    let text = text.ok_or_else(|| invalid(field, "expected a URL string"))?;
    let href = prims
        .absolute_url(&text)
        .ok_or_else(|| invalid(field, "not a valid URL"))?;
    if !(href.starts_with("https://") || href.starts_with("http://")) {
        return Err(invalid(field, "must be an http(s) URL"));
    }
    Ok(Some(href))
}

fn origins(prims: &Primitives, v: &JsValue) -> Result<Vec<String>, Error> {
    const FIELD: &str = "allowedOrigins";
    if absent(v) {
        return page_origin().map(|o| vec![o]).ok_or_else(|| {
            invalid(
                FIELD,
                "there is no page origin to default to; list the origins",
            )
        });
    }
    if !Array::is_array(v) {
        return Err(invalid(FIELD, "expected an array of origins"));
    }
    let mut out = Vec::new();
    for item in Array::from(v).iter() {
        let text = item
            .as_string()
            .ok_or_else(|| invalid(FIELD, "every entry must be a string"))?;
        if text.bytes().any(|b| b == b'*') {
            return Err(invalid(
                FIELD,
                "wildcards are not allowed; list exact origins",
            ));
        }
        let origin = prims
            .origin_of(&text)
            .filter(|o| o != "null" && (o.starts_with("https://") || o.starts_with("http://")))
            .ok_or_else(|| invalid(FIELD, "every entry must be an http(s) origin"))?;
        // `https://api.example.com/v1` would silently widen to the whole origin.
        let href = prims.absolute_url(&text).unwrap_or_default();
        if href.trim_end_matches('/') != origin {
            return Err(invalid(FIELD, "an origin has no path, query or fragment"));
        }
        out.push(origin);
    }
    Ok(out)
}

fn retry(v: &JsValue) -> Result<RetryPolicy, Error> {
    let mut policy = RetryPolicy::default();
    if absent(v) {
        return Ok(policy);
    }
    if !v.is_object() || Array::is_array(v) {
        return Err(invalid(
            "retry",
            "expected { maxAttempts, baseDelayMs, maxDelayMs }",
        ));
    }
    let get = |k: &str| Reflect::get(v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    if let Some(n) = number(&get("maxAttempts"), "retry.maxAttempts", 1.0, 100.0)? {
        policy.max_attempts = n as u32;
    }
    if let Some(n) = number(&get("baseDelayMs"), "retry.baseDelayMs", 1.0, 3_600_000.0)? {
        policy.base_delay_ms = n as u64;
    }
    if let Some(n) = number(&get("maxDelayMs"), "retry.maxDelayMs", 1.0, 3_600_000.0)? {
        policy.max_delay_ms = n as u64;
    }
    Ok(policy)
}

fn csrf(v: &JsValue) -> Result<Option<(String, String)>, Error> {
    const FIELD: &str = "csrfHeader";
    if absent(v) {
        return Ok(Some((
            DEFAULT_CSRF_HEADER.0.into(),
            DEFAULT_CSRF_HEADER.1.into(),
        )));
    }
    if v.is_null() {
        return Ok(None);
    }
    let get = |k: &str| {
        Reflect::get(v, &JsValue::from_str(k))
            .ok()
            .and_then(|x| x.as_string())
    };
    let (Some(name), Some(value)) = (get("name"), get("value")) else {
        return Err(invalid(
            FIELD,
            "expected { name: string, value: string } or null",
        ));
    };
    // Bytes, not chars: `str::contains(char)` with a non-ASCII char would pull a
    // substring searcher and its panic messages into the wasm.
    let token_byte = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token_byte) {
        return Err(invalid(FIELD, "the header name must be an HTTP token"));
    }
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
        return Err(invalid(
            FIELD,
            "the header name cannot be Authorization or Cookie",
        ));
    }
    if value.is_empty() || !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(invalid(FIELD, "the header value must be printable ASCII"));
    }
    Ok(Some((name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_option_message_lists_every_option() {
        let expected = ["unknown option; known options are ", &FIELDS.join(", ")].concat();
        assert_eq!(UNKNOWN_OPTION, expected);
    }
}
