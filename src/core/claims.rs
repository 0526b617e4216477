//! The JWT claims the core reads (RFC 7519 §4.1), as serde types: decoded from the token
//! by `crate::decode::jwt` (base64 + serde_json), used only to learn `exp`/`iat` and to
//! show claims to the app. Nothing here checks a signature or reads text.

use core::fmt;

use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::field::Field;

/// The JWT payload members the core reads (RFC 7519 §4.1); the others are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct JwtClaims {
    /// `exp`: seconds since the epoch, a number if present.
    #[serde(default)]
    pub exp: Field,
    /// `iat`: seconds since the epoch, a number if present.
    #[serde(default)]
    pub iat: Field,
    /// `sub`: the subject, a string if present (compared only, to notice a user switch).
    #[serde(default)]
    pub sub: Field,
}

/// Claims read from a JWT access token's payload, unverified.
///
/// The payload is part of the token, so it is wiped on drop like the token.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Claims {
    /// `exp` in seconds since the epoch, if present.
    pub exp: Option<f64>,
    /// `iat` in seconds since the epoch, if present.
    pub iat: Option<f64>,
    /// `sub`, if a non-empty string: only compared, never shown or logged.
    pub sub: Option<String>,
    /// The decoded payload JSON text, handed to JS as display-only claims.
    pub payload_json: String,
}

/// Who a token was issued for (the JWT `sub` of the access token, else of an OIDC
/// `id_token` of the same response), decoded unverified and used only to notice that a
/// grant is for another user than the token in memory. `Debug` hides it (it may be an
/// e-mail address).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Subject(String);

impl Subject {
    /// The subject `sub`; `None` when empty.
    pub fn new(sub: &str) -> Option<Subject> {
        (!sub.is_empty()).then(|| Subject(String::from(sub)))
    }
}

/// Redacted: whether two subjects differ is all anyone needs to know.
impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subject(..)")
    }
}

/// Only the times: the payload may hold personal data that has no place in
/// logs.
impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

impl Claims {
    /// The claims of a payload `parsed` from `payload_json`: `exp` and `iat` must be
    /// finite numbers when present. Errors are the `malformed_token` reasons.
    pub fn from_payload(parsed: &JwtClaims, payload_json: String) -> Result<Claims, &'static str> {
        let exp = numeric_claim(&parsed.exp, "exp is not a number", "exp is not finite")?;
        let iat = numeric_claim(&parsed.iat, "iat is not a number", "iat is not finite")?;
        Ok(Claims {
            exp,
            iat,
            sub: parsed
                .sub
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            payload_json,
        })
    }
}

fn numeric_claim(
    claim: &Field,
    not_number: &'static str,
    not_finite: &'static str,
) -> Result<Option<f64>, &'static str> {
    match claim {
        Field::Absent => Ok(None),
        Field::Number(n) if n.is_finite() => Ok(Some(*n)),
        Field::Number(_) => Err(not_finite),
        _ => Err(not_number),
    }
}
