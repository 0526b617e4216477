//! `TokenManagerOptions`: read with serde-wasm-bindgen into a strict serde type (unknown
//! fields refused: a typo such as `refreshURL` must not be silently ignored), then checked
//! field by field. Every failure is `invalid_options` naming the field (its path, e.g.
//! `retry.maxAttempts`).

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

use super::errors::invalid_option;
use crate::browser::captured;
use crate::browser::post::CsrfHeader;
use crate::core::error::{concat, push_decimal};
use crate::core::{AllowedOrigins, Config, ExpiryPolicy, RetryPolicy};

/// The default anti-CSRF header; servers check it exists (a cross-site form cannot set it).
pub const DEFAULT_CSRF_HEADER: (&str, &str) = ("X-Requested-With", "token-warden");

/// The option paths serde reads typed values from, by the index [`Named`] carries, with
/// what each expects.
const TYPED: [(&str, &str); 12] = [
    ("allowedOrigins", "expected an array of origin strings"),
    ("refreshLeadSeconds", "expected a number"),
    ("requestTimeoutMs", "expected a number"),
    ("retry", "expected { maxAttempts, baseDelayMs, maxDelayMs }"),
    ("defaultLifetimeSeconds", "expected a number"),
    ("maxTokenBytes", "expected a number"),
    ("exposeAccessToken", "expected true or false"),
    ("maxRefreshesPerMinute", "expected a number"),
    ("retry.maxAttempts", "expected a number"),
    ("retry.baseDelayMs", "expected a number"),
    ("retry.maxDelayMs", "expected a number"),
    ("debug", "expected true or false"),
];

std::thread_local! {
    /// The index in [`TYPED`] of the field serde read last: when `from_value` fails, the
    /// field it failed on.
    static READING: core::cell::Cell<usize> = const { core::cell::Cell::new(usize::MAX) };
}

/// A field of type `T` that notes its index in [`TYPED`] before serde reads it, so a
/// failure names the field (serde's own errors do not).
struct Named<T, const I: usize>(T);

impl<'de, T: Deserialize<'de>, const I: usize> Deserialize<'de> for Named<T, I> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        READING.with(|r| r.set(I));
        T::deserialize(deserializer).map(Named)
    }
}

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
    allowed_origins: Option<Named<Vec<String>, 0>>,
    #[serde(default)]
    refresh_lead_seconds: Option<Named<f64, 1>>,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    csrf_header: JsValue,
    #[serde(default)]
    request_timeout_ms: Option<Named<f64, 2>>,
    #[serde(default)]
    retry: Option<Named<RawRetry, 3>>,
    #[serde(default)]
    default_lifetime_seconds: Option<Named<f64, 4>>,
    #[serde(default)]
    max_token_bytes: Option<Named<f64, 5>>,
    #[serde(default)]
    expose_access_token: Option<Named<bool, 6>>,
    #[serde(default)]
    max_refreshes_per_minute: Option<Named<f64, 7>>,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    logger: JsValue,
    #[serde(default)]
    debug: Option<Named<bool, 11>>,
}

/// `retry`: backoff of failed refreshes (ms).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRetry {
    #[serde(default)]
    max_attempts: Option<Named<f64, 8>>,
    #[serde(default)]
    base_delay_ms: Option<Named<f64, 9>>,
    #[serde(default)]
    max_delay_ms: Option<Named<f64, 10>>,
}

fn given<T, const I: usize>(field: Option<Named<T, I>>) -> Option<T> {
    field.map(|Named(v)| v)
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
    /// `logger`: called with every log entry.
    pub logger: Option<js_sys::Function>,
    /// `debug: true`: every log entry goes to `console.debug` too.
    pub debug: bool,
}

type Invalid = JsValue;

fn number(
    value: Option<f64>,
    field: &str,
    min: u32,
    max: u32,
    fallback: f64,
) -> Result<f64, Invalid> {
    match value {
        None => Ok(fallback),
        Some(v) if v.is_finite() && v >= f64::from(min) && v <= f64::from(max) => Ok(v),
        Some(_) => {
            let mut reason = String::from("expected a number from ");
            push_decimal(&mut reason, u64::from(min));
            reason.push_str(" to ");
            push_decimal(&mut reason, u64::from(max));
            Err(invalid_option(field, &reason))
        }
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
        captured::to_string(value).unwrap_or_default()
    } else {
        return Err(invalid_option(field, "expected a URL string"));
    };
    if text.trim().is_empty() {
        return Err(invalid_option(
            field,
            "must not be empty (an empty URL is the page itself)",
        ));
    }
    let href = captured::absolute(&text).ok_or_else(|| invalid_option(field, "not a valid URL"))?;
    if !is_http(&href) {
        return Err(invalid_option(field, "must be an http(s) URL"));
    }
    Ok(Some(href))
}

fn origins(value: Option<Vec<String>>) -> Result<Vec<String>, Invalid> {
    const FIELD: &str = "allowedOrigins";
    let Some(list) = value else {
        let origin = crate::browser::page_origin()
            .filter(|o| o != "null")
            .ok_or_else(|| {
                invalid_option(
                    FIELD,
                    "there is no page origin to default to; list the origins",
                )
            })?;
        return Ok(vec![origin]);
    };
    list.into_iter()
        .map(|item| {
            if item.contains('*') {
                return Err(invalid_option(
                    FIELD,
                    "wildcards are not allowed; list exact origins",
                ));
            }
            let origin = captured::origin(&item)
                .filter(|o| is_http(o))
                .ok_or_else(|| invalid_option(FIELD, "every entry must be an http(s) origin"))?;
            // `https://api.example.com/v1` would silently widen to the whole origin.
            let href = captured::absolute(&item).unwrap_or_default();
            if href.trim_end_matches('/') != origin {
                return Err(invalid_option(
                    FIELD,
                    "an origin has no path, query or fragment",
                ));
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
    let RawCsrf { name, value } = serde_wasm_bindgen::from_value(value.clone())
        .map_err(|_| invalid_option(FIELD, "expected { name: string, value: string } or null"))?;
    if !is_token(&name) {
        return Err(invalid_option(
            FIELD,
            "the header name must be an HTTP token",
        ));
    }
    if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("cookie") {
        return Err(invalid_option(
            FIELD,
            "the header name cannot be Authorization or Cookie",
        ));
    }
    if value.is_empty() || !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(invalid_option(
            FIELD,
            "the header value must be printable ASCII",
        ));
    }
    Ok(Some(CsrfHeader { name, value }))
}

/// A value of the wrong type: named by the field serde was reading (see [`Named`]).
fn wrong_type() -> Invalid {
    let index = READING.with(|r| r.replace(usize::MAX));
    match TYPED.get(index) {
        Some((field, reason)) => invalid_option(field, reason),
        None => invalid_option("options", "expected an object"),
    }
}

/// The option names, as the app writes them.
const FIELDS: [&str; 13] = [
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
    "logger",
    "debug",
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
                &concat(&[prefix, &key]),
                &concat(&["unknown option; known options are ", &known.join(", ")]),
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
    READING.with(|r| r.set(usize::MAX));
    let raw: RawOptions = serde_wasm_bindgen::from_value(value).map_err(|_| wrong_type())?;
    let refresh_url = url(&raw.refresh_url, "refreshUrl")?
        .ok_or_else(|| invalid_option("refreshUrl", "is required"))?;
    let logout_url = url(&raw.logout_url, "logoutUrl")?;
    let allowed = origins(given(raw.allowed_origins))?;
    let refresh_lead = number(
        given(raw.refresh_lead_seconds),
        "refreshLeadSeconds",
        0,
        86_400,
        60.0,
    )?;
    let timeout_ms = number(
        given(raw.request_timeout_ms),
        "requestTimeoutMs",
        1,
        600_000,
        10_000.0,
    )?;
    let lifetime = number(
        given(raw.default_lifetime_seconds),
        "defaultLifetimeSeconds",
        1,
        31_536_000,
        0.0,
    )?;
    let max_token_bytes = number(
        given(raw.max_token_bytes),
        "maxTokenBytes",
        16,
        1_048_576,
        8192.0,
    )?;
    let per_minute = number(
        given(raw.max_refreshes_per_minute),
        "maxRefreshesPerMinute",
        1,
        600,
        10.0,
    )?;
    let retry = given(raw.retry).unwrap_or(RawRetry {
        max_attempts: None,
        base_delay_ms: None,
        max_delay_ms: None,
    });
    let max_attempts = number(given(retry.max_attempts), "retry.maxAttempts", 1, 100, 5.0)?.floor();
    let base_delay_ms = number(
        given(retry.base_delay_ms),
        "retry.baseDelayMs",
        1,
        3_600_000,
        1000.0,
    )?;
    let max_delay_ms = number(
        given(retry.max_delay_ms),
        "retry.maxDelayMs",
        1,
        3_600_000,
        30_000.0,
    )?;
    if base_delay_ms > max_delay_ms {
        return Err(invalid_option(
            "retry.baseDelayMs",
            "must not exceed maxDelayMs",
        ));
    }
    let csrf = csrf(&raw.csrf_header)?;
    let logger = if raw.logger.is_undefined() || raw.logger.is_null() {
        None
    } else {
        Some(
            raw.logger
                .dyn_into::<js_sys::Function>()
                .map_err(|_| invalid_option("logger", "expected a function"))?,
        )
    };
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
        expose: given(raw.expose_access_token).unwrap_or(false),
        config,
        logger,
        debug: given(raw.debug).unwrap_or(false),
    })
}
