//! `TokenManagerOptions`: read with serde-wasm-bindgen into a strict serde type (unknown
//! fields refused: a typo such as `refreshURL` must not be silently ignored), then checked
//! field by field. Every failure is `invalid_options` naming the field (its path, e.g.
//! `retry.maxAttempts`).

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

use super::errors::invalid_option;
use crate::browser::captured;
use crate::browser::post::CsrfHeader;
use crate::core::{AllowedOrigins, Config, ExpiryPolicy, RetryPolicy};

/// The default anti-CSRF header; servers check it exists (a cross-site form cannot set it).
pub const DEFAULT_CSRF_HEADER: (&str, &str) = ("X-Requested-With", "token-warden");

/// The options as the app wrote them (see `TokenManagerOptions` in `types.d.ts` for
/// meanings, units and defaults).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawOptions {
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    refresh_url: JsValue,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    logout_url: JsValue,
    #[serde(default)]
    allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    refresh_lead_seconds: Option<f64>,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    csrf_header: JsValue,
    #[serde(default)]
    request_timeout_ms: Option<f64>,
    #[serde(default)]
    retry: Option<RawRetry>,
    #[serde(default)]
    default_lifetime_seconds: Option<f64>,
    #[serde(default)]
    max_token_bytes: Option<f64>,
    #[serde(default)]
    expose_access_token: Option<bool>,
    #[serde(default)]
    max_refreshes_per_minute: Option<f64>,
}

/// `retry`: backoff of failed refreshes (ms).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRetry {
    #[serde(default)]
    max_attempts: Option<f64>,
    #[serde(default)]
    base_delay_ms: Option<f64>,
    #[serde(default)]
    max_delay_ms: Option<f64>,
}

/// `csrfHeader`: `{ name, value }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsrf {
    name: String,
    value: String,
}

/// The validated options, with defaults filled in and URLs made absolute.
pub struct Options {
    /// The refresh endpoint, absolute.
    pub refresh_url: String,
    /// The logout endpoint, absolute, if any.
    pub logout_url: Option<String>,
    /// The origins whose requests get the token.
    pub allowed: AllowedOrigins,
    /// The anti-CSRF header, if any.
    pub csrf: Option<CsrfHeader>,
    /// Timeout of our requests and of waits for a token (ms).
    pub timeout_ms: f64,
    /// `exposeAccessToken`.
    pub expose: bool,
    /// What the session core is tuned with.
    pub config: Config,
}

type Invalid = JsValue;

fn number(value: Option<f64>, field: &str, min: f64, max: f64, fallback: f64) -> Result<f64, Invalid> {
    match value {
        None => Ok(fallback),
        Some(v) if v.is_finite() && v >= min && v <= max => Ok(v),
        Some(_) => Err(invalid_option(
            field,
            &format!("expected a number from {min} to {max}"),
        )),
    }
}

fn is_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// A URL option: a string or an object that stringifies to one (a `URL`), made absolute
/// against `document.baseURI`; `None` when absent.
fn url(value: &JsValue, field: &str) -> Result<Option<String>, Invalid> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let text = if let Some(text) = value.as_string() {
        text
    } else if value.is_object() {
        String::from(js_sys::JsString::from(value.clone()))
    } else {
        return Err(invalid_option(field, "expected a URL string"));
    };
    let href = captured::absolute(&text).ok_or_else(|| invalid_option(field, "not a valid URL"))?;
    if !is_http(&href) {
        return Err(invalid_option(field, "must be an http(s) URL"));
    }
    Ok(Some(href))
}

fn origins(value: Option<Vec<String>>) -> Result<Vec<String>, Invalid> {
    const FIELD: &str = "allowedOrigins";
    let Some(list) = value else {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .filter(|o| o != "null")
            .ok_or_else(|| {
                invalid_option(FIELD, "there is no page origin to default to; list the origins")
            })?;
        return Ok(vec![origin]);
    };
    list.into_iter()
        .map(|item| {
            if item.contains('*') {
                return Err(invalid_option(FIELD, "wildcards are not allowed; list exact origins"));
            }
            let origin = captured::origin(&item)
                .filter(|o| is_http(o))
                .ok_or_else(|| invalid_option(FIELD, "every entry must be an http(s) origin"))?;
            // `https://api.example.com/v1` would silently widen to the whole origin.
            let href = captured::absolute(&item).unwrap_or_default();
            if href.trim_end_matches('/') != origin {
                return Err(invalid_option(FIELD, "an origin has no path, query or fragment"));
            }
            Ok(origin)
        })
        .collect()
}

/// An HTTP token (RFC 9110 §5.6.2).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn csrf(value: &JsValue) -> Result<Option<CsrfHeader>, Invalid> {
    const FIELD: &str = "csrfHeader";
    if value.is_undefined() {
        let (name, value) = DEFAULT_CSRF_HEADER;
        return Ok(Some(CsrfHeader {
            name: name.into(),
            value: value.into(),
        }));
    }
    if value.is_null() {
        return Ok(None);
    }
    let RawCsrf { name, value } = serde_wasm_bindgen::from_value(value.clone()).map_err(|_| {
        invalid_option(FIELD, "expected { name: string, value: string } or null")
    })?;
    if !is_token(&name) {
        return Err(invalid_option(FIELD, "the header name must be an HTTP token"));
    }
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
        return Err(invalid_option(FIELD, "the header name cannot be Authorization or Cookie"));
    }
    if value.is_empty() || !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(invalid_option(FIELD, "the header value must be printable ASCII"));
    }
    Ok(Some(CsrfHeader { name, value }))
}

/// What serde said, in the app's words: the field path, and a reason without Rust types.
fn serde_failure(error: serde_path_to_error::Error<serde_wasm_bindgen::Error>) -> Invalid {
    let path = error.path().to_string();
    let message = error.into_inner().to_string();
    // An unknown field is named by serde's message, not by the path (its parent).
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (unknown, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "options".to_owned(),
        (None, path) => path.to_owned(),
    };
    let reason = if unknown.is_some() {
        "unknown option".to_owned()
    } else {
        message
            .replace("f64", "a number")
            .replace("a boolean", "true or false")
            .replace("a sequence", "an array of origins")
    };
    invalid_option(&field, &reason)
}

/// The option names, as the app writes them.
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
const RETRY_FIELDS: [&str; 3] = ["maxAttempts", "baseDelayMs", "maxDelayMs"];

/// serde-wasm-bindgen reads a struct's fields by name and never sees the other keys, so
/// `deny_unknown_fields` cannot fire: the own keys are checked here.
fn refuse_unknown(value: &JsValue, known: &[&str], prefix: &str) -> Result<(), Invalid> {
    if !value.is_object() {
        return Ok(());
    }
    let keys = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>());
    for key in keys.iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(invalid_option(
                &format!("{prefix}{key}"),
                &format!("unknown option; known options are {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Reads and checks `value` (the object given to `createTokenManager`).
pub fn parse(value: JsValue) -> Result<Options, Invalid> {
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(invalid_option("options", "expected an object"));
    }
    refuse_unknown(&value, &FIELDS, "")?;
    if let Ok(retry) = js_sys::Reflect::get(&value, &JsValue::from_str("retry")) {
        refuse_unknown(&retry, &RETRY_FIELDS, "retry.")?;
    }
    let raw: RawOptions =
        serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(value))
            .map_err(serde_failure)?;
    let refresh_url =
        url(&raw.refresh_url, "refreshUrl")?.ok_or_else(|| invalid_option("refreshUrl", "is required"))?;
    let logout_url = url(&raw.logout_url, "logoutUrl")?;
    let allowed = origins(raw.allowed_origins)?;
    let refresh_lead = number(raw.refresh_lead_seconds, "refreshLeadSeconds", 0.0, 86_400.0, 60.0)?;
    let timeout_ms = number(raw.request_timeout_ms, "requestTimeoutMs", 1.0, 600_000.0, 10_000.0)?;
    let lifetime = number(raw.default_lifetime_seconds, "defaultLifetimeSeconds", 1.0, 31_536_000.0, 0.0)?;
    let max_token_bytes = number(raw.max_token_bytes, "maxTokenBytes", 16.0, 1_048_576.0, 8192.0)?;
    let per_minute = number(raw.max_refreshes_per_minute, "maxRefreshesPerMinute", 1.0, 600.0, 10.0)?;
    let retry = raw.retry.unwrap_or(RawRetry {
        max_attempts: None,
        base_delay_ms: None,
        max_delay_ms: None,
    });
    let max_attempts = number(retry.max_attempts, "retry.maxAttempts", 1.0, 100.0, 5.0)?.floor();
    let base_delay_ms = number(retry.base_delay_ms, "retry.baseDelayMs", 1.0, 3_600_000.0, 1000.0)?;
    let max_delay_ms = number(retry.max_delay_ms, "retry.maxDelayMs", 1.0, 3_600_000.0, 30_000.0)?;
    if base_delay_ms > max_delay_ms {
        return Err(invalid_option("retry.baseDelayMs", "must not exceed maxDelayMs"));
    }
    let csrf = csrf(&raw.csrf_header)?;
    let lifetime_ms = (lifetime * 1000.0) as u64;
    let config = Config {
        refresh_lead_ms: (refresh_lead * 1000.0) as u64,
        retry: RetryPolicy {
            max_attempts: max_attempts as u32,
            base_delay_ms: base_delay_ms as u64,
            max_delay_ms: max_delay_ms as u64,
        },
        expiry: ExpiryPolicy {
            default_lifetime_ms: (lifetime_ms > 0).then_some(lifetime_ms),
            max_token_bytes: max_token_bytes as usize,
        },
        max_refreshes_per_minute: per_minute as u32,
        // 0 would settle every wait at once: one ms at least.
        request_timeout_ms: (timeout_ms as u64).max(1),
    };
    Ok(Options {
        refresh_url,
        logout_url,
        allowed: AllowedOrigins::parse(&allowed.join("\n")),
        csrf,
        timeout_ms,
        expose: raw.expose_access_token.unwrap_or(false),
        config,
    })
}
