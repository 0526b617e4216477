//! `TokenManagerOptions` from JavaScript: every field type-checked, unknown fields
//! refused (a typo such as `refreshURL` must not be silently ignored).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::browser::manager::ManagerOptions;
use crate::browser::primitives::{get, get_string, page_origin, Primitives};
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

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidOptions {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Where the first problem is recorded. The readers below return `Option`s and
/// leave their error here, so a failure is a `None` rather than a multi-word
/// `Error` copied through every `?`.
type Problem = Option<Error>;

/// Records `field: reason` (one function for every reader, unlike a generic helper).
#[inline(never)]
fn record(problem: &mut Problem, field: &str, reason: &str) {
    *problem = Some(invalid(field, reason));
}

/// Records `field: reason` and returns `None` from the enclosing reader.
macro_rules! bail {
    ($problem:expr, $field:expr, $reason:expr $(,)?) => {{
        record($problem, $field, $reason);
        return None;
    }};
}

/// Records an `Error` from elsewhere and gives `None`.
fn fail<T>(problem: &mut Problem, result: Result<T, Error>) -> Option<T> {
    result.map_err(|e| *problem = Some(e)).ok()
}

/// `object[key]`, `undefined` when reading it throws.
fn property(object: &JsValue, key: &str) -> JsValue {
    get(object, key).unwrap_or(JsValue::UNDEFINED)
}

/// Reads and validates the options object passed to `new TokenManager(options)`.
pub fn parse(value: &JsValue) -> Result<ManagerOptions, Error> {
    let mut problem = None;
    match read(value, &mut problem) {
        Some(options) => Ok(options),
        // `read` records a problem whenever it gives up.
        None => Err(problem.unwrap_or_else(|| invalid("options", "expected an object"))),
    }
}

/// [`parse`], checking the fields in a fixed order: the first bad one is reported.
fn read(value: &JsValue, problem: &mut Problem) -> Option<ManagerOptions> {
    let Some(obj) = value
        .dyn_ref::<Object>()
        .filter(|_| !value.is_function() && !Array::is_array(value))
    else {
        bail!(problem, "options", "expected an object");
    };
    for key in Object::keys(obj).iter() {
        let key = key.as_string().unwrap_or_default();
        if !FIELDS.contains(&key.as_str()) {
            bail!(problem, &key, UNKNOWN_OPTION);
        }
    }
    let prims = fail(problem, Primitives::capture())?;

    let Some(refresh_url) = url(&prims, "refreshUrl", &property(obj, "refreshUrl"), problem)?
    else {
        bail!(problem, "refreshUrl", "is required");
    };
    let logout_url = url(&prims, "logoutUrl", &property(obj, "logoutUrl"), problem)?;
    let allowed_origins = origins(&prims, &property(obj, "allowedOrigins"), problem)?;

    let lead_s = number(obj, "refreshLeadSeconds", 0.0, 86_400.0, problem)?;
    let timeout = number(obj, "requestTimeoutMs", 1.0, 600_000.0, problem)?;
    let default_lifetime = number(obj, "defaultLifetimeSeconds", 1.0, 31_536_000.0, problem)?;
    let max_token_bytes = number(obj, "maxTokenBytes", 16.0, 1_048_576.0, problem)?;
    let per_minute = number(obj, "maxRefreshesPerMinute", 1.0, 600.0, problem)?;
    let expose = boolean(
        &property(obj, "exposeAccessToken"),
        "exposeAccessToken",
        problem,
    )?;

    let config = Config {
        refresh_lead_ms: (lead_s.unwrap_or(60.0) * 1000.0) as u64,
        retry: retry(&property(obj, "retry"), problem)?,
        expiry: ExpiryPolicy {
            default_lifetime_ms: default_lifetime.map(|s| (s * 1000.0) as u64),
            max_token_bytes: max_token_bytes
                .map_or(crate::core::DEFAULT_MAX_TOKEN_BYTES, |v| v as usize),
        },
        max_refreshes_per_minute: per_minute
            .map_or(crate::core::DEFAULT_MAX_REFRESHES_PER_MINUTE, |v| v as u32),
    };
    fail(problem, config.validate())?;
    Some(ManagerOptions {
        refresh_url,
        logout_url,
        allowed_origins,
        csrf_header: csrf(&property(obj, "csrfHeader"), problem)?,
        request_timeout_ms: timeout.map_or(DEFAULT_REQUEST_TIMEOUT_MS, |v| v as u64),
        expose_access_token: expose.unwrap_or(false),
        session: config,
    })
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined()
}

/// `object[field]` as a finite number in `[min, max]` (`Some(None)` when absent); a
/// fractional value is floored by the caller's cast.
fn number(
    object: &JsValue,
    field: &str,
    min: f64,
    max: f64,
    problem: &mut Problem,
) -> Option<Option<f64>> {
    let key = field.strip_prefix("retry.").unwrap_or(field);
    let v = property(object, key);
    if absent(&v) {
        return Some(None);
    }
    let Some(n) = v.as_f64() else {
        bail!(problem, field, "expected a number");
    };
    if !n.is_finite() || n < min || n > max {
        // Whole numbers: formatting an f64 would pull ~15 KB of float printing into the wasm.
        let mut reason = String::from("expected a number from ");
        push_decimal(&mut reason, min as u64);
        reason.push_str(" to ");
        push_decimal(&mut reason, max as u64);
        *problem = Some(Error::InvalidOptions {
            field: field.into(),
            reason,
        });
        return None;
    }
    Some(Some(n))
}

fn boolean(v: &JsValue, field: &str, problem: &mut Problem) -> Option<Option<bool>> {
    if absent(v) {
        return Some(None);
    }
    match v.as_bool() {
        Some(b) => Some(Some(b)),
        None => bail!(problem, field, "expected true or false"),
    }
}

/// A string or `URL`, resolved against the page.
fn url(
    prims: &Primitives,
    field: &str,
    v: &JsValue,
    problem: &mut Problem,
) -> Option<Option<String>> {
    if absent(v) || v.is_null() {
        return Some(None);
    }
    let text = if v.is_string() {
        v.as_string()
    } else if v.is_object() {
        // A `URL` object stringifies to its href.
        v.dyn_ref::<Object>().map(|o| String::from(o.to_string()))
    } else {
        None
    };
    let Some(text) = text else {
        bail!(problem, field, "expected a URL string");
    };
    let Some(href) = prims.absolute_url(&text) else {
        bail!(problem, field, "not a valid URL");
    };
    if !(href.starts_with("https://") || href.starts_with("http://")) {
        bail!(problem, field, "must be an http(s) URL");
    }
    Some(Some(href))
}

fn origins(prims: &Primitives, v: &JsValue, problem: &mut Problem) -> Option<Vec<String>> {
    const FIELD: &str = "allowedOrigins";
    if absent(v) {
        return match page_origin() {
            Some(origin) => Some(vec![origin]),
            None => bail!(
                problem,
                FIELD,
                "there is no page origin to default to; list the origins",
            ),
        };
    }
    if !Array::is_array(v) {
        bail!(problem, FIELD, "expected an array of origins");
    }
    let mut out = Vec::new();
    for item in Array::from(v).iter() {
        let Some(text) = item.as_string() else {
            bail!(problem, FIELD, "every entry must be a string");
        };
        if text.bytes().any(|b| b == b'*') {
            bail!(
                problem,
                FIELD,
                "wildcards are not allowed; list exact origins",
            );
        }
        let Some(origin) = prims
            .origin_of(&text)
            .filter(|o| o != "null" && (o.starts_with("https://") || o.starts_with("http://")))
        else {
            bail!(problem, FIELD, "every entry must be an http(s) origin");
        };
        // `https://api.example.com/v1` would silently widen to the whole origin.
        let href = prims.absolute_url(&text).unwrap_or_default();
        if href.trim_end_matches('/') != origin {
            bail!(problem, FIELD, "an origin has no path, query or fragment");
        }
        out.push(origin);
    }
    Some(out)
}

fn retry(v: &JsValue, problem: &mut Problem) -> Option<RetryPolicy> {
    let mut policy = RetryPolicy::default();
    if absent(v) {
        return Some(policy);
    }
    if !v.is_object() || Array::is_array(v) {
        bail!(
            problem,
            "retry",
            "expected { maxAttempts, baseDelayMs, maxDelayMs }",
        );
    }
    if let Some(n) = number(v, "retry.maxAttempts", 1.0, 100.0, problem)? {
        policy.max_attempts = n as u32;
    }
    if let Some(n) = number(v, "retry.baseDelayMs", 1.0, 3_600_000.0, problem)? {
        policy.base_delay_ms = n as u64;
    }
    if let Some(n) = number(v, "retry.maxDelayMs", 1.0, 3_600_000.0, problem)? {
        policy.max_delay_ms = n as u64;
    }
    Some(policy)
}

fn csrf(v: &JsValue, problem: &mut Problem) -> Option<Option<(String, String)>> {
    const FIELD: &str = "csrfHeader";
    if absent(v) {
        return Some(Some((
            DEFAULT_CSRF_HEADER.0.into(),
            DEFAULT_CSRF_HEADER.1.into(),
        )));
    }
    if v.is_null() {
        return Some(None);
    }
    let (Some(name), Some(value)) = (get_string(v, "name"), get_string(v, "value")) else {
        bail!(
            problem,
            FIELD,
            "expected { name: string, value: string } or null",
        );
    };
    // Bytes, not chars: `str::contains(char)` with a non-ASCII char would pull a
    // substring searcher and its panic messages into the wasm.
    let token_byte = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token_byte) {
        bail!(problem, FIELD, "the header name must be an HTTP token");
    }
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
        bail!(
            problem,
            FIELD,
            "the header name cannot be Authorization or Cookie",
        );
    }
    if value.is_empty() || !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        bail!(problem, FIELD, "the header value must be printable ASCII");
    }
    Some(Some((name, value)))
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
