//! Turning `expires_in`, a JWT `exp` or a configured default into an absolute
//! local expiry time.

use super::claims::Claims;
use super::field::Field;
use super::{Error, DEFAULT_MAX_TOKEN_BYTES, MAX_LIFETIME_MS};
use libm::floor;

/// How token responses are judged; part of the app's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Lifetime assumed for opaque tokens without `expires_in`. `None` makes
    /// such responses an error instead of a guess.
    pub default_lifetime_ms: Option<u64>,
    /// Largest acceptable access token, in bytes.
    pub max_token_bytes: usize,
}

impl Default for ExpiryPolicy {
    fn default() -> Self {
        ExpiryPolicy {
            default_lifetime_ms: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// Where the expiry came from, reported to the app for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySource {
    /// The response's `expires_in`.
    ExpiresIn,
    /// The JWT `exp` claim, corrected for clock skew.
    JwtExp,
    /// [`ExpiryPolicy::default_lifetime_ms`].
    Default,
}

impl ExpirySource {
    /// Stable name for JS.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpirySource::ExpiresIn => "expires_in",
            ExpirySource::JwtExp => "jwt_exp",
            ExpirySource::Default => "default",
        }
    }
}

/// An expiry in local-clock terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Local wall-clock ms at which the token stops being usable.
    pub expires_at_ms: u64,
    /// How long the token lives from receipt, capped at [`MAX_LIFETIME_MS`].
    pub lifetime_ms: u64,
    /// Which input decided it.
    pub source: ExpirySource,
}

/// Picks the expiry: `expires_in` beats JWT `exp` beats the default.
pub fn resolve_expiry(
    expires_in: Option<&Field>,
    claims: Option<&Claims>,
    received_at_ms: u64,
    server_date_ms: Option<u64>,
    policy: &ExpiryPolicy,
) -> Result<Expiry, Error> {
    if let Some(value) = expires_in {
        return from_expires_in(value, received_at_ms);
    }
    if let Some(exp) = claims.and_then(|c| c.exp) {
        let iat = claims.and_then(|c| c.iat);
        return from_jwt_exp(exp, iat, received_at_ms, server_date_ms);
    }
    match policy.default_lifetime_ms {
        Some(lifetime) if lifetime > 0 => {
            let lifetime_ms = lifetime.min(MAX_LIFETIME_MS);
            Ok(Expiry {
                expires_at_ms: received_at_ms.saturating_add(lifetime_ms),
                lifetime_ms,
                source: ExpirySource::Default,
            })
        }
        _ => Err(Error::UnknownExpiry),
    }
}

/// RFC 6749 says `expires_in` is a number of seconds. Some hosted identity
/// providers send it as a JSON string of digits (`"3600"`); such a string is the
/// number it spells, as other clients settled on. Any other string (a sign, a
/// space, a dot, an exponent, non-ASCII digits, empty) stays refused. Fractions
/// are rounded down (never trust a token longer than stated), and values that
/// would make the token live zero seconds or more than a year are refused.
pub fn from_expires_in(value: &Field, received_at_ms: u64) -> Result<Expiry, Error> {
    let bad = |reason| Err(Error::InvalidExpiresIn { reason });
    let secs = match value {
        Field::Number(secs) => *secs,
        // Only ASCII digits, so `parse` fails only by overflow: absurdly large.
        Field::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text
            .parse::<u64>()
            .map_or(f64::INFINITY, |secs| secs as f64),
        _ => return bad("expires_in is not a number"),
    };
    if secs.is_nan() {
        return bad("expires_in is not a number");
    }
    if secs < 0.0 {
        return bad("expires_in is negative");
    }
    let secs = floor(secs);
    if secs < 1.0 {
        return bad("expires_in must be positive");
    }
    if secs > (MAX_LIFETIME_MS / 1_000) as f64 {
        return bad("expires_in is absurdly large");
    }
    // In [1, 31_536_000] and integral, so the cast is exact.
    let lifetime_ms = (secs as u64).saturating_mul(1_000);
    Ok(Expiry {
        expires_at_ms: received_at_ms.saturating_add(lifetime_ms),
        lifetime_ms,
        source: ExpirySource::ExpiresIn,
    })
}

/// `exp` is in the server's clock; a user's laptop can be hours off. The
/// server's "now" (its `Date` header, else a plausible `iat`) tells us the
/// offset, so expiry is computed as a duration and then placed on the local
/// clock.
///
/// Placing `exp` on the local clock shifted by the skew and then subtracting the
/// local receipt time is the same as subtracting the server's "now" from `exp`
/// directly, so no signed (or 128-bit) arithmetic is needed: every "now" is >= 0.
pub fn from_jwt_exp(
    exp: f64,
    iat: Option<f64>,
    received_at_ms: u64,
    server_date_ms: Option<u64>,
) -> Result<Expiry, Error> {
    let server_now = server_date_ms.or_else(|| {
        iat.filter(|&iat| iat_is_plausible(iat, exp))
            .and_then(|iat| u64::try_from(secs_to_ms(iat)).ok())
    });
    let now = server_now.unwrap_or(received_at_ms);
    let remaining = u64::try_from(secs_to_ms(exp))
        .ok()
        .and_then(|exp_ms| exp_ms.checked_sub(now))
        .filter(|&ms| ms > 0);
    let Some(remaining) = remaining else {
        return Err(Error::InvalidExpiresIn {
            reason: "token is already expired",
        });
    };
    let lifetime_ms = remaining.min(MAX_LIFETIME_MS);
    Ok(Expiry {
        expires_at_ms: received_at_ms.saturating_add(lifetime_ms),
        lifetime_ms,
        source: ExpirySource::JwtExp,
    })
}

/// An `iat` is only a usable "server now" if it is a real timestamp that
/// precedes `exp` by at most the maximum lifetime.
fn iat_is_plausible(iat: f64, exp: f64) -> bool {
    iat.is_finite() && iat >= 0.0 && iat <= exp && exp - iat <= (MAX_LIFETIME_MS / 1_000) as f64
}

/// Seconds (possibly fractional, possibly absurd) to ms, clamped to ±1e13 s
/// (~300,000 years) so the cast is exact and fits an `i64`.
fn secs_to_ms(secs: f64) -> i64 {
    const LIMIT: f64 = 1e13;
    let clamped = if secs.is_nan() {
        0.0
    } else {
        secs.clamp(-LIMIT, LIMIT)
    };
    floor(clamped * 1_000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<Expiry, Error>) -> &'static str {
        match r {
            Err(Error::InvalidExpiresIn { reason }) => reason,
            other => panic!("expected InvalidExpiresIn, got {other:?}"),
        }
    }

    #[test]
    fn expires_in_rules() {
        let ok = from_expires_in(&Field::Number(3600.0), 1_000).unwrap();
        assert_eq!(ok.expires_at_ms, 3_601_000);
        assert_eq!(ok.lifetime_ms, 3_600_000);
        assert_eq!(
            from_expires_in(&Field::Number(3599.9), 0)
                .unwrap()
                .lifetime_ms,
            3_599_000
        );
        assert_eq!(
            from_expires_in(&Field::Number(31_536_000.0), 0)
                .unwrap()
                .lifetime_ms,
            MAX_LIFETIME_MS
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(-1.0), 0)),
            "expires_in is negative"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(0.0), 0)),
            "expires_in must be positive"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(-0.0), 0)),
            "expires_in must be positive"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(0.5), 0)),
            "expires_in must be positive"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(1e308), 0)),
            "expires_in is absurdly large"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(f64::INFINITY), 0)),
            "expires_in is absurdly large"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(31_536_001.0), 0)),
            "expires_in is absurdly large"
        );
        assert_eq!(
            reason(from_expires_in(&Field::Number(f64::NAN), 0)),
            "expires_in is not a number"
        );
        for v in [Field::Null, Field::Bool, Field::Compound, Field::Absent] {
            assert_eq!(reason(from_expires_in(&v, 0)), "expires_in is not a number");
        }
        assert_eq!(
            from_expires_in(&Field::Number(10.0), u64::MAX)
                .unwrap()
                .expires_at_ms,
            u64::MAX
        );
    }

    #[test]
    fn a_string_of_ascii_digits_is_the_number_it_spells() {
        let text = |t: &str| from_expires_in(&Field::Text(t.into()), 1_000);
        let ok = text("3600").unwrap();
        assert_eq!((ok.expires_at_ms, ok.lifetime_ms), (3_601_000, 3_600_000));
        assert_eq!(ok.source, ExpirySource::ExpiresIn);
        assert_eq!(text("0060").unwrap().lifetime_ms, 60_000);
        assert_eq!(text("31536000").unwrap().lifetime_ms, MAX_LIFETIME_MS);
        // The same limits as a number.
        assert_eq!(reason(text("0")), "expires_in must be positive");
        assert_eq!(reason(text("31536001")), "expires_in is absurdly large");
        assert_eq!(
            reason(text("99999999999999999999999999")),
            "expires_in is absurdly large"
        );
        // Anything but plain ASCII digits stays refused.
        for t in [
            "",
            "36x0",
            "-1",
            "+60",
            " 3600",
            "3600 ",
            "3600.5",
            "1e3",
            "0x10",
            "3,600",
            "\u{663}\u{666}",
            "NaN",
            "Infinity",
        ] {
            assert_eq!(reason(text(t)), "expires_in is not a number", "{t:?}");
        }
        assert_eq!(
            reason(text("\u{663}\u{666}\u{660}\u{660}")),
            "expires_in is not a number",
            "Arabic-Indic digits are not ASCII digits"
        );
    }

    #[test]
    fn jwt_exp_without_skew_information() {
        let e = from_jwt_exp(2_000.0, None, 1_000_000, None).unwrap();
        assert_eq!((e.expires_at_ms, e.lifetime_ms), (2_000_000, 1_000_000));
        assert_eq!(e.source, ExpirySource::JwtExp);
    }

    #[test]
    fn jwt_exp_corrected_by_server_date() {
        // Local clock is 10 minutes fast: server says 1_000_000, we think 1_600_000.
        let e = from_jwt_exp(1_900.0, None, 1_600_000, Some(1_000_000)).unwrap();
        assert_eq!(e.lifetime_ms, 900_000);
        assert_eq!(e.expires_at_ms, 2_500_000);
        // Local clock slow by 10 minutes.
        let e = from_jwt_exp(1_900.0, None, 400_000, Some(1_000_000)).unwrap();
        assert_eq!((e.expires_at_ms, e.lifetime_ms), (1_300_000, 900_000));
    }

    #[test]
    fn jwt_exp_corrected_by_iat_when_no_date() {
        let e = from_jwt_exp(4_600.0, Some(1_000.0), 50_000_000, None).unwrap();
        assert_eq!(e.lifetime_ms, 3_600_000);
        assert_eq!(e.expires_at_ms, 53_600_000);
        // The Date header wins over iat.
        let e = from_jwt_exp(4_600.0, Some(1_000.0), 50_000_000, Some(4_000_000)).unwrap();
        assert_eq!(e.lifetime_ms, 600_000);
        // Implausible iat (after exp, negative) is ignored.
        let e = from_jwt_exp(4_600.0, Some(9_000.0), 1_000_000, None).unwrap();
        assert_eq!(e.lifetime_ms, 3_600_000);
        let e = from_jwt_exp(4_600.0, Some(-5.0), 1_000_000, None).unwrap();
        assert_eq!(e.lifetime_ms, 3_600_000);
    }

    #[test]
    fn jwt_exp_in_the_past_or_absurd() {
        assert_eq!(
            reason(from_jwt_exp(999.0, None, 1_000_000, None)),
            "token is already expired"
        );
        assert_eq!(
            reason(from_jwt_exp(1_000.0, None, 1_000_000, None)),
            "token is already expired"
        );
        assert_eq!(
            reason(from_jwt_exp(-1e300, None, 0, None)),
            "token is already expired"
        );
        assert_eq!(
            reason(from_jwt_exp(1_000.0, None, 0, Some(u64::MAX))),
            "token is already expired"
        );
        let e = from_jwt_exp(1e300, None, 0, None).unwrap();
        assert_eq!(e.lifetime_ms, MAX_LIFETIME_MS);
        let e = from_jwt_exp(1e12, Some(0.0), u64::MAX, Some(0)).unwrap();
        assert_eq!(
            (e.lifetime_ms, e.expires_at_ms),
            (MAX_LIFETIME_MS, u64::MAX)
        );
    }

    /// The former i128 formulation (skew, local expiry, lifetime), kept as the
    /// reference the u64 one must match exactly.
    fn reference_jwt_exp(
        exp: f64,
        iat: Option<f64>,
        received_at_ms: u64,
        server_date_ms: Option<u64>,
    ) -> Option<(u64, u64)> {
        let ms = |secs: f64| i128::from(secs_to_ms(secs));
        let received = i128::from(received_at_ms);
        let server_now = server_date_ms
            .map(i128::from)
            .or_else(|| iat.filter(|&iat| iat_is_plausible(iat, exp)).map(ms));
        let skew = server_now.map_or(0, |now| now - received);
        let local_expiry = ms(exp) - skew;
        if local_expiry <= received {
            return None;
        }
        let lifetime = (local_expiry - received).min(i128::from(MAX_LIFETIME_MS));
        let lifetime = u64::try_from(lifetime).unwrap();
        Some((received_at_ms.saturating_add(lifetime), lifetime))
    }

    #[test]
    fn jwt_exp_matches_the_signed_formulation() {
        let mut state: u64 = 0x1234_5678_9ABC_DEF1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let times = [
            0.0,
            1.0,
            999.5,
            1.7e9,
            1.7e9 + 0.25,
            1e13,
            2e13,
            -5.0,
            -1e300,
            1e300,
        ];
        let stamps = [0, 1, 999_999, 1_700_000_000_000, u64::MAX / 2, u64::MAX];
        for _ in 0..100_000 {
            let pick = |n: u64, xs: &[f64]| xs[(n % xs.len() as u64) as usize];
            let exp = if next() % 2 == 0 {
                pick(next(), &times)
            } else {
                (next() % 4_000_000_000) as f64 / 2.0
            };
            let iat = match next() % 3 {
                0 => None,
                1 => Some(pick(next(), &times)),
                _ => Some(exp - (next() % 40_000_000) as f64),
            };
            let received = if next() % 2 == 0 {
                stamps[(next() % stamps.len() as u64) as usize]
            } else {
                next() % 4_000_000_000_000
            };
            let date = match next() % 3 {
                0 => None,
                1 => Some(stamps[(next() % stamps.len() as u64) as usize]),
                _ => Some(next() % 4_000_000_000_000),
            };
            let ours = from_jwt_exp(exp, iat, received, date)
                .ok()
                .map(|e| (e.expires_at_ms, e.lifetime_ms));
            assert_eq!(
                ours,
                reference_jwt_exp(exp, iat, received, date),
                "{exp} {iat:?} {received} {date:?}"
            );
        }
    }

    #[test]
    fn default_lifetime() {
        let policy = ExpiryPolicy {
            default_lifetime_ms: Some(300_000),
            ..Default::default()
        };
        let e = resolve_expiry(None, None, 10, None, &policy).unwrap();
        assert_eq!(
            (e.expires_at_ms, e.lifetime_ms, e.source),
            (300_010, 300_000, ExpirySource::Default)
        );
        let zero = ExpiryPolicy {
            default_lifetime_ms: Some(0),
            ..Default::default()
        };
        assert_eq!(
            resolve_expiry(None, None, 10, None, &zero),
            Err(Error::UnknownExpiry)
        );
        assert_eq!(
            resolve_expiry(None, None, 10, None, &ExpiryPolicy::default()),
            Err(Error::UnknownExpiry)
        );
        assert_eq!(ExpirySource::Default.as_str(), "default");
    }
}
