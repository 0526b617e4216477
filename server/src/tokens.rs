//! Access tokens: short-lived JWTs signed with HS256 and nothing else.
//!
//! Claims: `sub`, `aud`, `iat`, `exp`, `jti`, `scope`, and `sid`: the refresh token
//! family the token was issued for (the session id, named as in OpenID Connect and
//! RFC 9068), so that revoking the family refuses every access token of it (RFC 9700
//! §4.14.2; see [`crate::revoked`]). `sid` is required. Verification accepts only
//! [`ALGORITHM`] (so `alg: none`, `RS256` with the HMAC key as "public key" and the
//! like are refused before any signature check), requires `exp`, `aud` and `sub`,
//! checks `exp` with no leeway both in `jsonwebtoken` (system clock; 10.3+ also
//! refuses a string-typed `exp`, CVE-2026-25537) and against the server's
//! [`Clock`](crate::clock::Clock) (which tests move forward).

use std::fmt;
use std::io::Write;
use std::path::Path;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::KeySource;
use crate::random::{self, RandomError};

/// The one signing algorithm.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// The shortest key accepted (256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// The audience, the configured `--audience`.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
    /// A random id, what logout puts on the deny-list.
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The refresh token family (session) this token belongs to; random, not secret.
    pub sid: String,
}

impl Claims {
    /// Whether `scope` contains `wanted` as a whole word.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope.split(' ').any(|s| s == wanted)
    }
}

/// An encoded access token. No `Display`, a redacted `Debug`: read it with
/// [`AccessToken::expose`] only where it goes on the wire.
pub struct AccessToken(String);

impl AccessToken {
    /// The compact JWT.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Too short to be a 256-bit HMAC key.
    #[error("the JWT key must be at least {MIN_KEY_BYTES} bytes")]
    TooShort,
    /// Reading or writing the key file failed.
    #[error("JWT key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No randomness for a new key.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Why an access token was refused; [`TokenError::description`] goes into
/// `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or claims of the wrong shape.
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm other than HS256 (including `none`).
    #[error("algorithm not allowed")]
    Algorithm,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// Wrong `aud`.
    #[error("wrong audience")]
    Audience,
    /// A required claim is missing.
    #[error("missing claim")]
    MissingClaim,
    /// Past `exp`.
    #[error("token expired")]
    Expired,
    /// Signing failed (server side).
    #[error("cannot sign")]
    Signing,
}

impl TokenError {
    /// A short text for `error_description` (no quotes or backslashes).
    pub fn description(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::Algorithm => "algorithm not allowed",
            Self::Signature => "bad signature",
            Self::Audience => "wrong audience",
            Self::MissingClaim => "missing claim",
            Self::Expired => "token expired",
            Self::Signing => "cannot sign",
        }
    }
}

/// Issues and verifies access tokens with one key.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    ttl_secs: u64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("audience", &self.audience)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens signed with `key` (at least [`MIN_KEY_BYTES`]) for `audience`.
    pub fn new(key: &[u8], audience: &str, ttl_secs: u64) -> Result<Self, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort);
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        // `sid` has no spec-claim switch: a token without it does not deserialize
        // into `Claims` and is refused as malformed.
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            audience: audience.to_string(),
            ttl_secs: ttl_secs.max(1),
        })
    }

    /// The lifetime of new tokens in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A new token for `sub` with `scope` in session (refresh family) `sid`, issued
    /// at `now_ms`.
    pub fn issue(
        &self,
        sub: &str,
        scope: &str,
        sid: &str,
        now_ms: u64,
    ) -> Result<(AccessToken, Claims), TokenError> {
        let iat = now_ms / 1000;
        let claims = Claims {
            sub: sub.to_string(),
            aud: self.audience.clone(),
            iat,
            exp: iat + self.ttl_secs,
            jti: random::base64url::<16>().map_err(|_| TokenError::Signing)?,
            scope: scope.to_string(),
            sid: sid.to_string(),
        };
        let jwt = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|_| TokenError::Signing)?;
        Ok((AccessToken(jwt), claims))
    }

    /// The claims of `token` if it is ours, for us and not expired at `now_ms`.
    /// (The deny-list is the caller's business: it needs the database.)
    pub fn verify(&self, token: &str, now_ms: u64) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::MissingAlgorithm
                | ErrorKind::UnsupportedAlgorithm => TokenError::Algorithm,
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::InvalidAudience => TokenError::Audience,
                ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaim,
                _ => TokenError::Malformed,
            })?;
        if data.claims.exp.saturating_mul(1000) <= now_ms {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}

/// The key bytes from `source`; a generated key lives in `<data_dir>/jwt.key`.
pub fn load_key(source: &KeySource, data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    let key = match source {
        KeySource::Inline(bytes) => bytes.clone(),
        KeySource::File(path) => read_key(path)?,
        KeySource::Generated => {
            let path = data_dir.join("jwt.key");
            if path.exists() {
                read_key(&path)?
            } else {
                generate_key(&path)?
            }
        }
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort);
    }
    Ok(key)
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::File {
        path: path.display().to_string(),
        source,
    }
}

fn read_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    let mut bytes = std::fs::read(path).map_err(file_error(path))?;
    let end = bytes.trim_ascii_end().len();
    bytes.truncate(end);
    Ok(bytes)
}

/// Writes 256 random bits as base64url text (the text is the key), readable by
/// the owner only. Several processes may start at once on one data dir: each
/// writes its own temporary file and hard-links it into place, which fails if the
/// key exists, and the losers read the winner's complete file.
fn generate_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    let key = random::base64url::<32>()?;
    let temp = dir.join(format!(".jwt.key.{}", random::hex::<8>()?));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .and_then(|mut file| file.write_all(format!("{key}\n").as_bytes()))
        .map_err(file_error(&temp));
    let linked = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(key.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(path),
        Err(e) => Err(file_error(path)(e)),
    });
    let _ = std::fs::remove_file(&temp);
    linked
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 4_000_000_000_000;

    fn tokens() -> Tokens {
        Tokens::new(KEY, "aud-1", 60).unwrap()
    }

    /// A token with our key but a hand-made header and payload.
    fn forge(header: &str, payload: &str, key: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let head = URL_SAFE_NO_PAD.encode(header);
        let body = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{head}.{body}.{sig}")
    }

    fn payload(exp: &str, aud: &str) -> String {
        format!(
            r#"{{"sub":"a","aud":"{aud}","iat":1,"exp":{exp},"jti":"j","scope":"read","sid":"s"}}"#
        )
    }

    #[test]
    fn issues_what_it_verifies() {
        let t = tokens();
        let (token, claims) = t.issue("alice", "read admin", "fam-1", NOW).unwrap();
        assert_eq!(claims.exp - claims.iat, 60);
        assert_eq!(claims.aud, "aud-1");
        assert_eq!(claims.sid, "fam-1");
        assert!(claims.has_scope("admin") && !claims.has_scope("adm"));
        assert_eq!(t.verify(token.expose(), NOW).unwrap(), claims);
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.expose().split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "HS256");
    }

    #[test]
    fn refuses_expired_by_server_clock() {
        let t = tokens();
        let (token, claims) = t.issue("alice", "read", "fam-1", NOW).unwrap();
        assert_eq!(
            t.verify(token.expose(), claims.exp * 1000 - 1).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            t.verify(token.expose(), claims.exp * 1000),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn refuses_foreign_or_forged_tokens() {
        let t = tokens();
        let (token, _) = t.issue("alice", "read", "fam-1", NOW).unwrap();
        let other = Tokens::new(b"another key that is long enough!!", "aud-1", 60).unwrap();
        assert_eq!(
            other.verify(token.expose(), NOW),
            Err(TokenError::Signature)
        );
        let wrong_aud = Tokens::new(KEY, "aud-2", 60).unwrap();
        assert_eq!(
            wrong_aud.verify(token.expose(), NOW),
            Err(TokenError::Audience)
        );

        let far = "9999999999";
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload(far, "aud-1"))
        );
        assert!(t.verify(&none, NOW).is_err());
        let hs512 = forge(
            r#"{"alg":"HS512","typ":"JWT"}"#,
            &payload(far, "aud-1"),
            KEY,
        );
        assert_eq!(t.verify(&hs512, NOW), Err(TokenError::Algorithm));
        let good = forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &payload(far, "aud-1"),
            KEY,
        );
        assert!(
            t.verify(&good, NOW).is_ok(),
            "the forge helper makes valid tokens"
        );
        let string_exp = forge(
            r#"{"alg":"HS256"}"#,
            &payload("\"9999999999\"", "aud-1"),
            KEY,
        );
        assert!(t.verify(&string_exp, NOW).is_err());
        let past = forge(r#"{"alg":"HS256"}"#, &payload("1000", "aud-1"), KEY);
        assert_eq!(
            t.verify(&past, 1_000),
            Err(TokenError::Expired),
            "system clock check"
        );
        assert_eq!(t.verify("not-a-jwt", NOW), Err(TokenError::Malformed));
        let no_exp = forge(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":"a","aud":"aud-1","iat":1,"jti":"j","scope":""}"#,
            KEY,
        );
        assert!(t.verify(&no_exp, NOW).is_err());
        let no_sid = forge(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":"a","aud":"aud-1","iat":1,"exp":9999999999,"jti":"j","scope":""}"#,
            KEY,
        );
        assert_eq!(t.verify(&no_sid, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn short_keys_are_refused_and_generated_keys_persist() {
        assert!(Tokens::new(b"short", "a", 1).is_err());
        let dir = std::env::temp_dir().join(format!("tw-key-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let first = load_key(&KeySource::Generated, &dir).unwrap();
        let second = load_key(&KeySource::Generated, &dir).unwrap();
        assert_eq!(first.len(), 43);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
        // Racing first starts agree on one key.
        let race = dir.join("race");
        let keys: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_key(&KeySource::Generated, &race).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 43));
        assert_eq!(
            std::fs::read_dir(&race).unwrap().count(),
            1,
            "no temporary files left"
        );
        let file = KeySource::File(dir.join("jwt.key"));
        assert_eq!(load_key(&file, Path::new("/nonexistent")).unwrap(), first);
        assert!(load_key(&KeySource::Inline(b"short".to_vec()), &dir).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
