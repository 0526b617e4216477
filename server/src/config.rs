//! Everything a server process can be told, from flags and `TOKEN_WARDEN_*` variables.
//!
//! A flag beats its environment variable, which beats the default. Repeatable flags
//! (`--addr`, `--cors-origin`) replace the environment's comma-separated list when
//! given at least once.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderName, HeaderValue};

/// Where the SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbPath {
    /// `:memory:`: gone when the process ends (tests).
    Memory,
    /// A file, created if missing.
    File(PathBuf),
}

/// Where the HS256 signing key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// Read from `<data-dir>/jwt.key`, generated (256 random bits) on first run.
    Generated,
    /// Read from this file (its content, trailing whitespace trimmed).
    File(PathBuf),
    /// Given directly (`TOKEN_WARDEN_JWT_KEY`, or by a test).
    Inline(Vec<u8>),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Generated => f.write_str("Generated"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

/// The resolved settings of one server process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen addresses; each serves the same app and state. Port 0 picks a free port.
    pub addrs: Vec<SocketAddr>,
    /// The demo SPA (`www/`).
    pub www_dir: PathBuf,
    /// The built wasm package (`pkg/`), served under `/pkg`.
    pub pkg_dir: PathBuf,
    /// Holds the generated key and the default database (git-ignored).
    pub data_dir: PathBuf,
    /// The SQLite database.
    pub db: DbPath,
    /// The users file (TOML, Argon2id PHC hashes only).
    pub users_file: PathBuf,
    /// The JWT signing key.
    pub jwt_key: KeySource,
    /// The `aud` claim put into and required from access tokens.
    pub audience: String,
    /// Access token lifetime in seconds (at least 1).
    pub access_ttl_secs: u64,
    /// Absolute lifetime of a refresh family in seconds, counted from login.
    pub refresh_ttl_secs: u64,
    /// A refresh family dies after this many seconds without use.
    pub refresh_idle_secs: u64,
    /// How long the immediate predecessor of a refresh token is still honoured
    /// (once, with an access token and no new refresh token); 0 turns the grace
    /// window off. Default [`DEFAULT_REUSE_GRACE_MS`].
    pub reuse_grace_ms: u64,
    /// Failed logins a minute per account (four times that an hour) before 429;
    /// 0 = no per-account limit. See [`crate::throttle`].
    pub login_failures_per_account: u32,
    /// Failed logins a minute per client address (four times that an hour) before
    /// 429; 0 = no per-address limit.
    pub login_failures_per_address: u32,
    /// Password hashes computed at once (at least 1); more logins wait their turn.
    /// Default: the number of cores.
    pub hash_concurrency: usize,
    /// Seconds a connection may take to send a request head, and may stay idle
    /// between requests; also the deadline for a request body (at least 1).
    pub read_timeout_secs: u64,
    /// The `Content-Security-Policy` of the static files (the demo); `None` sends none.
    pub content_security_policy: Option<String>,
    /// Name of the refresh cookie.
    pub cookie_name: String,
    /// The header every `/auth` request must carry (any non-empty value).
    pub csrf_header: HeaderName,
    /// Exact origins allowed to call with credentials (CORS), e.g. `http://127.0.0.1:9000`.
    pub cors_origins: Vec<HeaderValue>,
    /// Also allow every listener's own origin (`http://127.0.0.1:PORT`, and
    /// `http://localhost:PORT` for loopback) as a CORS origin, so a page served by
    /// one listener may call another: a second origin without knowing the ports
    /// in advance (tests bind port 0).
    pub cors_allow_listeners: bool,
    /// Enables the `/test/*` routes and scripted faults on `/auth/refresh`.
    pub fault_mode: bool,
    /// Puts this `expires_in` into token responses instead of the real lifetime.
    pub issue_expires_in: Option<i64>,
    /// Seconds between purges of expired rows.
    pub purge_interval_secs: u64,
}

/// The grace window for the previous refresh token unless `--reuse-grace-ms`.
pub const DEFAULT_REUSE_GRACE_MS: u64 = 5_000;

/// The CSP of the demo unless `--content-security-policy`: scripts from this origin
/// only (the wasm compiled by `WebAssembly.instantiateStreaming` needs
/// `'wasm-unsafe-eval'`), no plugins, no `<base>`, no framing.
pub const DEFAULT_CSP: &str =
    "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The refresh cookie name used unless `--cookie-name` says otherwise.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-Http-refresh";

const USAGE: &str = "\
usage: token-warden-server [FLAGS]
       token-warden-server hash-password   (reads a password from stdin, prints its Argon2id hash)
  --addr HOST:PORT          listen address, repeatable (env TOKEN_WARDEN_ADDR, comma list; default 127.0.0.1:8080)
  --www DIR                 demo directory (env TOKEN_WARDEN_WWW, default <repo>/www)
  --pkg DIR                 wasm package directory (env TOKEN_WARDEN_PKG, default <repo>/pkg)
  --data-dir DIR            key and database directory (env TOKEN_WARDEN_DATA_DIR, default <repo>/server/data)
  --db PATH|:memory:        SQLite database (env TOKEN_WARDEN_DB, default <data-dir>/token-warden.sqlite3)
  --users FILE              users file (env TOKEN_WARDEN_USERS, default <repo>/server/demo-users.toml)
  --jwt-key-file FILE       HS256 key file, >= 32 bytes (env TOKEN_WARDEN_JWT_KEY_FILE; env TOKEN_WARDEN_JWT_KEY
                            holds the key itself; default: generated once into <data-dir>/jwt.key)
  --audience AUD            access token audience (env TOKEN_WARDEN_AUDIENCE, default token-warden)
  --access-ttl SECONDS      access token lifetime, >= 1 (env TOKEN_WARDEN_ACCESS_TTL, default 300)
  --refresh-ttl SECONDS     refresh family absolute lifetime (env TOKEN_WARDEN_REFRESH_TTL, default 1209600 = 14 days)
  --refresh-idle-ttl SECONDS  refresh family idle lifetime (env TOKEN_WARDEN_REFRESH_IDLE_TTL, default 86400 = 1 day)
  --reuse-grace-ms MS       grace window for the previous refresh token, 0 = off (env TOKEN_WARDEN_REUSE_GRACE_MS, default 5000)
  --login-failures-per-account N  failed logins a minute (4 N an hour) per account before 429, 0 = off
                            (env TOKEN_WARDEN_LOGIN_FAILURES_PER_ACCOUNT, default 5)
  --login-failures-per-address N  the same per client address (env TOKEN_WARDEN_LOGIN_FAILURES_PER_ADDRESS, default 30)
  --hash-concurrency N      password hashes at once (env TOKEN_WARDEN_HASH_CONCURRENCY, default: the number of cores)
  --read-timeout SECONDS    time to send a request head, idle time between requests, body deadline
                            (env TOKEN_WARDEN_READ_TIMEOUT, default 10)
  --content-security-policy POLICY  CSP of the static files, '' = none (env TOKEN_WARDEN_CSP,
                            default script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none')
  --cookie-name NAME        refresh cookie name (env TOKEN_WARDEN_COOKIE_NAME, default __Host-Http-refresh)
  --csrf-header NAME        required header on /auth routes (env TOKEN_WARDEN_CSRF_HEADER, default X-Requested-With)
  --cors-origin ORIGIN      allowed credentialed origin, repeatable (env TOKEN_WARDEN_CORS_ORIGINS, comma list; default none)
  --cors-allow-listeners    allow every listener's own origin too (env TOKEN_WARDEN_CORS_ALLOW_LISTENERS=1)
  --fault-mode              enable /test/* and scripted faults (env TOKEN_WARDEN_FAULT_MODE=1)
  --issue-expires-in N      lie about expires_in in token responses (env TOKEN_WARDEN_ISSUE_EXPIRES_IN)
  --purge-interval SECONDS  how often expired rows are deleted (env TOKEN_WARDEN_PURGE_INTERVAL, default 60)";

/// Flags that take a value, with their environment variable.
const VALUE_FLAGS: &[(&str, &str)] = &[
    ("--addr", "TOKEN_WARDEN_ADDR"),
    ("--www", "TOKEN_WARDEN_WWW"),
    ("--pkg", "TOKEN_WARDEN_PKG"),
    ("--data-dir", "TOKEN_WARDEN_DATA_DIR"),
    ("--db", "TOKEN_WARDEN_DB"),
    ("--users", "TOKEN_WARDEN_USERS"),
    ("--jwt-key-file", "TOKEN_WARDEN_JWT_KEY_FILE"),
    ("--audience", "TOKEN_WARDEN_AUDIENCE"),
    ("--access-ttl", "TOKEN_WARDEN_ACCESS_TTL"),
    ("--refresh-ttl", "TOKEN_WARDEN_REFRESH_TTL"),
    ("--refresh-idle-ttl", "TOKEN_WARDEN_REFRESH_IDLE_TTL"),
    ("--reuse-grace-ms", "TOKEN_WARDEN_REUSE_GRACE_MS"),
    (
        "--login-failures-per-account",
        "TOKEN_WARDEN_LOGIN_FAILURES_PER_ACCOUNT",
    ),
    (
        "--login-failures-per-address",
        "TOKEN_WARDEN_LOGIN_FAILURES_PER_ADDRESS",
    ),
    ("--hash-concurrency", "TOKEN_WARDEN_HASH_CONCURRENCY"),
    ("--read-timeout", "TOKEN_WARDEN_READ_TIMEOUT"),
    ("--content-security-policy", "TOKEN_WARDEN_CSP"),
    ("--cookie-name", "TOKEN_WARDEN_COOKIE_NAME"),
    ("--csrf-header", "TOKEN_WARDEN_CSRF_HEADER"),
    ("--cors-origin", "TOKEN_WARDEN_CORS_ORIGINS"),
    ("--issue-expires-in", "TOKEN_WARDEN_ISSUE_EXPIRES_IN"),
    ("--purge-interval", "TOKEN_WARDEN_PURGE_INTERVAL"),
];

/// Flags given on the command line, in order (repeatable ones keep every value).
struct Flags {
    values: Vec<(&'static str, String)>,
    switches: Vec<&'static str>,
}

/// Flags without a value, with their environment variable (`1`, `true` or `yes`).
const SWITCHES: &[(&str, &str)] = &[
    ("--fault-mode", "TOKEN_WARDEN_FAULT_MODE"),
    (
        "--cors-allow-listeners",
        "TOKEN_WARDEN_CORS_ALLOW_LISTENERS",
    ),
];

impl Flags {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut flags = Self {
            values: Vec::new(),
            switches: Vec::new(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            match name {
                "-h" | "--help" => return Err(USAGE.into()),
                _ if SWITCHES.iter().any(|(f, _)| *f == name) => {
                    if inline.is_some() {
                        return Err(format!("{name} takes no value\n{USAGE}"));
                    }
                    flags
                        .switches
                        .extend(SWITCHES.iter().map(|(f, _)| *f).filter(|f| *f == name));
                }
                _ => {
                    let Some(&(flag, _)) = VALUE_FLAGS.iter().find(|(f, _)| *f == name) else {
                        return Err(format!("unknown argument {arg}\n{USAGE}"));
                    };
                    let value = match inline {
                        Some(value) => value,
                        None => args
                            .next()
                            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?,
                    };
                    flags.values.push((flag, value));
                }
            }
        }
        Ok(flags)
    }

    /// Whether a switch is on (flag given, or its variable says so).
    fn switch(&self, flag: &str, env: &dyn Fn(&str) -> Option<String>) -> bool {
        let variable = SWITCHES
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or("", |(_, e)| e);
        self.switches.contains(&flag)
            || env(variable).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
    }

    /// Every value of `flag`, or the environment's comma list, or empty.
    fn all(&self, flag: &str, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let given: Vec<String> = self
            .values
            .iter()
            .filter(|(f, _)| *f == flag)
            .map(|(_, v)| v.clone())
            .collect();
        if !given.is_empty() {
            return given;
        }
        env(env_of(flag))
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The last value of `flag`, else its environment variable.
    fn one(&self, flag: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .map(|(_, v)| v.clone())
            .or_else(|| env(env_of(flag)))
    }

    fn number<T: std::str::FromStr>(
        &self,
        flag: &str,
        env: &dyn Fn(&str) -> Option<String>,
        default: T,
    ) -> Result<T, String>
    where
        T::Err: fmt::Display,
    {
        match self.one(flag, env) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse()
                .map_err(|e| format!("{flag}: bad number {text:?}: {e}")),
        }
    }
}

fn env_of(flag: &str) -> &'static str {
    VALUE_FLAGS
        .iter()
        .find(|(f, _)| *f == flag)
        .map_or("", |(_, e)| e)
}

impl Config {
    /// Reads flags first, then `TOKEN_WARDEN_*` variables, then defaults.
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let env: &dyn Fn(&str) -> Option<String> = &env;
        let flags = Flags::parse(args)?;
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let path =
            |flag: &str, default: PathBuf| flags.one(flag, env).map_or(default, PathBuf::from);

        let mut addrs = Vec::new();
        for text in flags.all("--addr", env) {
            addrs.push(
                text.parse::<SocketAddr>()
                    .map_err(|e| format!("bad listen address {text:?}: {e}"))?,
            );
        }
        if addrs.is_empty() {
            addrs.push(SocketAddr::from(([127, 0, 0, 1], 8080)));
        }

        let data_dir = path("--data-dir", repo.join("server/data"));
        let db = match flags.one("--db", env) {
            Some(text) if text == ":memory:" => DbPath::Memory,
            Some(text) => DbPath::File(PathBuf::from(text)),
            None => DbPath::File(data_dir.join("token-warden.sqlite3")),
        };
        let jwt_key = if let Some(file) = flags
            .values
            .iter()
            .rev()
            .find(|(f, _)| *f == "--jwt-key-file")
        {
            KeySource::File(PathBuf::from(&file.1))
        } else if let Some(key) = env("TOKEN_WARDEN_JWT_KEY") {
            KeySource::Inline(key.trim_end().as_bytes().to_vec())
        } else if let Some(file) = env("TOKEN_WARDEN_JWT_KEY_FILE") {
            KeySource::File(PathBuf::from(file))
        } else {
            KeySource::Generated
        };

        let access_ttl_secs = flags.number("--access-ttl", env, 300u64)?;
        let refresh_ttl_secs = flags.number("--refresh-ttl", env, 14 * 24 * 3600u64)?;
        let refresh_idle_secs = flags.number("--refresh-idle-ttl", env, 24 * 3600u64)?;
        let purge_interval_secs = flags.number("--purge-interval", env, 60u64)?;
        let read_timeout_secs = flags.number("--read-timeout", env, 10u64)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hash_concurrency = flags.number("--hash-concurrency", env, cores)?;
        for (flag, value) in [
            ("--access-ttl", access_ttl_secs),
            ("--refresh-ttl", refresh_ttl_secs),
            ("--refresh-idle-ttl", refresh_idle_secs),
            ("--purge-interval", purge_interval_secs),
            ("--read-timeout", read_timeout_secs),
            ("--hash-concurrency", hash_concurrency as u64),
        ] {
            if value == 0 {
                return Err(format!("{flag} must be at least 1"));
            }
        }

        let cookie_name = flags
            .one("--cookie-name", env)
            .unwrap_or_else(|| DEFAULT_COOKIE_NAME.into());
        if cookie_name.is_empty() || !cookie_name.bytes().all(is_cookie_name_byte) {
            return Err(format!(
                "--cookie-name {cookie_name:?} is not a cookie name"
            ));
        }
        let csrf_text = flags
            .one("--csrf-header", env)
            .unwrap_or_else(|| "X-Requested-With".into());
        let csrf_header = HeaderName::try_from(csrf_text.as_str())
            .map_err(|e| format!("--csrf-header {csrf_text:?}: {e}"))?;

        let mut cors_origins = Vec::new();
        for origin in flags.all("--cors-origin", env) {
            cors_origins.push(parse_origin(&origin)?);
        }

        let audience = flags
            .one("--audience", env)
            .unwrap_or_else(|| "token-warden".into());
        if audience.is_empty() {
            return Err("--audience must not be empty".into());
        }
        let issue_expires_in = match flags.one("--issue-expires-in", env) {
            None => None,
            Some(text) => Some(
                text.trim()
                    .parse::<i64>()
                    .map_err(|e| format!("--issue-expires-in: bad number {text:?}: {e}"))?,
            ),
        };
        let content_security_policy = match flags.one("--content-security-policy", env) {
            None => Some(DEFAULT_CSP.to_string()),
            Some(text) if text.trim().is_empty() => None,
            Some(text) => {
                HeaderValue::from_str(text.trim()).map_err(|_| {
                    format!("--content-security-policy {text:?} is not a header value")
                })?;
                Some(text.trim().to_string())
            }
        };
        let fault_mode = flags.switch("--fault-mode", env);
        let cors_allow_listeners = flags.switch("--cors-allow-listeners", env);

        Ok(Self {
            addrs,
            www_dir: path("--www", repo.join("www")),
            pkg_dir: path("--pkg", repo.join("pkg")),
            users_file: path("--users", repo.join("server/demo-users.toml")),
            data_dir,
            db,
            jwt_key,
            audience,
            access_ttl_secs,
            refresh_ttl_secs,
            refresh_idle_secs,
            reuse_grace_ms: flags.number("--reuse-grace-ms", env, DEFAULT_REUSE_GRACE_MS)?,
            login_failures_per_account: flags.number("--login-failures-per-account", env, 5u32)?,
            login_failures_per_address: flags.number("--login-failures-per-address", env, 30u32)?,
            hash_concurrency,
            read_timeout_secs,
            content_security_policy,
            cookie_name,
            csrf_header,
            cors_origins,
            cors_allow_listeners,
            fault_mode,
            issue_expires_in,
            purge_interval_secs,
        })
    }
}

/// RFC 6265 `token` characters (no separators, no controls).
fn is_cookie_name_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

/// Accepts `scheme://host[:port]` exactly as a browser sends it in `Origin`.
fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    let bad =
        |why: &str| format!("--cors-origin {text:?}: {why} (want e.g. http://127.0.0.1:9000)");
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| bad("must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '*', '@', ' ']) {
        return Err(bad("must be an origin: no path, wildcard or credentials"));
    }
    HeaderValue::from_str(text).map_err(|_| bad("not a header value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flag_beats_env_beats_default() {
        let none = |_: &str| None;
        let cfg = Config::from_args(args(&[]), none).unwrap();
        assert_eq!(cfg.addrs.len(), 1);
        assert_eq!(cfg.addrs[0].to_string(), "127.0.0.1:8080");

        let env = |k: &str| (k == "TOKEN_WARDEN_ADDR").then(|| "127.0.0.1:9000".to_string());
        let cfg = Config::from_args(args(&[]), env).unwrap();
        assert_eq!(cfg.addrs[0].port(), 9000);

        let cfg = Config::from_args(args(&["--addr", "127.0.0.1:0"]), env).unwrap();
        assert_eq!(cfg.addrs.len(), 1);
        assert_eq!(cfg.addrs[0].port(), 0);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let cfg = Config::from_args(args(&[]), |_| None).unwrap();
        assert_eq!(cfg.access_ttl_secs, 300);
        assert_eq!(cfg.refresh_ttl_secs, 14 * 24 * 3600);
        assert_eq!(cfg.refresh_idle_secs, 24 * 3600);
        assert_eq!(cfg.reuse_grace_ms, 5_000);
        assert_eq!(cfg.login_failures_per_account, 5);
        assert_eq!(cfg.login_failures_per_address, 30);
        assert!(cfg.hash_concurrency >= 1);
        assert_eq!(cfg.read_timeout_secs, 10);
        assert_eq!(cfg.content_security_policy.as_deref(), Some(DEFAULT_CSP));
        let off = Config::from_args(
            args(&["--content-security-policy", "", "--reuse-grace-ms", "0"]),
            |_| None,
        )
        .unwrap();
        assert_eq!(off.content_security_policy, None);
        assert_eq!(off.reuse_grace_ms, 0);
        assert_eq!(cfg.cookie_name, "__Host-Http-refresh");
        assert_eq!(cfg.csrf_header.as_str(), "x-requested-with");
        assert!(cfg.cors_origins.is_empty());
        assert!(!cfg.fault_mode);
        assert_eq!(cfg.issue_expires_in, None);
        assert_eq!(cfg.audience, "token-warden");
        assert!(matches!(cfg.jwt_key, KeySource::Generated));
        assert_eq!(
            cfg.db,
            DbPath::File(cfg.data_dir.join("token-warden.sqlite3"))
        );
        assert!(cfg.users_file.ends_with("server/demo-users.toml"));
    }

    #[test]
    fn repeatable_flags_and_env_lists() {
        let env = |k: &str| match k {
            "TOKEN_WARDEN_CORS_ORIGINS" => Some("http://a.test, http://b.test:81".to_string()),
            "TOKEN_WARDEN_ADDR" => Some("127.0.0.1:1,127.0.0.1:2".to_string()),
            "TOKEN_WARDEN_FAULT_MODE" => Some("1".to_string()),
            _ => None,
        };
        let cfg = Config::from_args(args(&[]), env).unwrap();
        assert_eq!(cfg.addrs.len(), 2);
        assert_eq!(cfg.cors_origins.len(), 2);
        assert_eq!(cfg.cors_origins[1], "http://b.test:81");
        assert!(cfg.fault_mode);
        assert!(!cfg.cors_allow_listeners);
        let cfg = Config::from_args(args(&["--cors-allow-listeners"]), |_| None).unwrap();
        assert!(cfg.cors_allow_listeners && !cfg.fault_mode);

        let cfg = Config::from_args(
            args(&[
                "--addr",
                "127.0.0.1:0",
                "--addr=127.0.0.1:0",
                "--cors-origin",
                "http://c.test",
                "--db",
                ":memory:",
                "--access-ttl",
                "1",
                "--issue-expires-in",
                "-5",
            ]),
            env,
        )
        .unwrap();
        assert_eq!(cfg.addrs.len(), 2);
        assert_eq!(
            cfg.cors_origins,
            vec![HeaderValue::from_static("http://c.test")]
        );
        assert_eq!(cfg.db, DbPath::Memory);
        assert_eq!(cfg.access_ttl_secs, 1);
        assert_eq!(cfg.issue_expires_in, Some(-5));
    }

    #[test]
    fn key_sources_in_order_and_inline_key_is_not_printed() {
        let env = |k: &str| match k {
            "TOKEN_WARDEN_JWT_KEY" => Some("a-very-secret-key-of-at-least-32-bytes".to_string()),
            "TOKEN_WARDEN_JWT_KEY_FILE" => Some("/env/key".to_string()),
            _ => None,
        };
        let cfg = Config::from_args(args(&[]), env).unwrap();
        assert!(matches!(cfg.jwt_key, KeySource::Inline(_)));
        assert!(!format!("{cfg:?}").contains("a-very-secret"));
        let cfg = Config::from_args(args(&["--jwt-key-file", "/flag/key"]), env).unwrap();
        assert!(matches!(cfg.jwt_key, KeySource::File(p) if p.as_os_str() == "/flag/key"));
        let only_file =
            |k: &str| (k == "TOKEN_WARDEN_JWT_KEY_FILE").then(|| "/env/key".to_string());
        let cfg = Config::from_args(args(&[]), only_file).unwrap();
        assert!(matches!(cfg.jwt_key, KeySource::File(p) if p.as_os_str() == "/env/key"));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let none = |_: &str| None;
        for bad in [
            &["--addr", "nope"][..],
            &["--addr"],
            &["--bogus"],
            &["--access-ttl", "0"],
            &["--access-ttl", "-1"],
            &["--cors-origin", "*"],
            &["--cors-origin", "http://a.test/"],
            &["--cors-origin", "a.test"],
            &["--cookie-name", "bad name"],
            &["--csrf-header", "bad header"],
            &["--fault-mode=yes"],
            &["--read-timeout", "0"],
            &["--hash-concurrency", "0"],
            &["--login-failures-per-account", "-1"],
            &["--content-security-policy", "a\nb"],
        ] {
            assert!(Config::from_args(args(bad), none).is_err(), "{bad:?}");
        }
    }
}
