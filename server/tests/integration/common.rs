//! A test harness: the app with an in-memory database, cheap password hashes, a
//! fixed key and a manual clock, driven with `tower::ServiceExt::oneshot`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::Params;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use token_warden_server::config::KeySource;
use token_warden_server::{app, users, AppState, Config, ManualClock};
use tower::ServiceExt;

pub const KEY: &[u8] = b"integration-test-key-0123456789abcdef";
pub const COOKIE: &str = "__Host-Http-refresh";
pub const CSRF: (&str, &str) = ("x-requested-with", "token-warden");
pub const HOST: &str = "app.test";

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tw-it-{}-{n}-{tag}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// alice (read) and bob (read admin) with the demo passwords, hashed cheaply.
pub fn users_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let cheap = || Params::new(Params::MIN_M_COST, 1, 1, None).unwrap();
        let alice = users::hash_with(b"wonderland-42", cheap()).unwrap();
        let bob = users::hash_with(b"builder-42", cheap()).unwrap();
        let text = format!(
            "[[user]]\nusername = \"alice\"\nname = \"Alice\"\nscope = \"read\"\npassword_hash = \"{alice}\"\n\
             [[user]]\nusername = \"bob\"\nname = \"Bob\"\nscope = \"read admin\"\npassword_hash = \"{bob}\"\n"
        );
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tw-it-users-{}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    })
}

/// A config for tests: in-memory DB, fixed key, cheap users, empty static dirs.
pub fn config(dir: &Path, args: &[&str]) -> Config {
    let mut list: Vec<String> = vec![
        "--db".into(),
        ":memory:".into(),
        "--users".into(),
        users_file().display().to_string(),
        "--data-dir".into(),
        dir.join("data").display().to_string(),
        "--www".into(),
        dir.join("www").display().to_string(),
        "--pkg".into(),
        dir.join("pkg").display().to_string(),
    ];
    list.extend(args.iter().map(|s| s.to_string()));
    let mut config = Config::from_args(list, |_| None).unwrap();
    config.jwt_key = KeySource::Inline(KEY.to_vec());
    config
}

pub struct Harness {
    pub state: AppState,
    pub clock: ManualClock,
    pub app: Router,
    pub _dir: TempDir,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_args(&[])
    }

    pub fn with_args(args: &[&str]) -> Self {
        let dir = TempDir::new("h");
        let config = config(&dir.0, args);
        Self::from_config(config, dir)
    }

    pub fn from_config(config: Config, dir: TempDir) -> Self {
        let clock = ManualClock::starting_now();
        let state = AppState::open(config, Arc::new(clock.clone())).unwrap();
        let app = app(&state);
        Self {
            state,
            clock,
            app,
            _dir: dir,
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub async fn send(&self, request: Request<Body>) -> Resp {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn login(&self, username: &str, password: &str) -> Resp {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.send(
            auth_request("/auth/login")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Logs alice in; returns (refresh token, access token).
    pub async fn login_alice(&self) -> (String, String) {
        let r = self.login("alice", "wonderland-42").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        (r.refresh_cookie().unwrap(), r.access_token())
    }

    pub async fn refresh(&self, refresh_token: &str) -> Resp {
        self.send(
            auth_request("/auth/refresh")
                .header("cookie", format!("{COOKIE}={refresh_token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn get_api(&self, path: &str, access: &str) -> Resp {
        self.send(
            Request::get(path)
                .header("authorization", format!("Bearer {access}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// A POST to an /auth route with the CSRF header and a Host.
pub fn auth_request(path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", HOST)
        .header(CSRF.0, CSRF.1)
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The refresh token set by this response, if any (not a deletion).
    pub fn refresh_cookie(&self) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            let value = c.strip_prefix(&format!("{COOKIE}="))?.split(';').next()?;
            (!value.is_empty()).then(|| value.to_string())
        })
    }

    pub fn access_token(&self) -> String {
        self.json()["access_token"].as_str().unwrap().to_string()
    }

    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}
