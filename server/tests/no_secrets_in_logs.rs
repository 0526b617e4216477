//! Nothing the server logs, at any level, contains a token, a cookie value or a
//! password. Its own binary: it installs a global subscriber that captures all output.

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "integration/wire.rs"]
mod wire;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use common::*;
use token_warden_server::serve::{bind, serve};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn tokens_cookies_and_passwords_never_reach_the_log() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .init();

    let mut secrets: Vec<String> = vec!["wonderland-42".into(), "builder-42".into()];
    // Grace off, so that replaying the predecessor right away is reuse.
    let h = Harness::with_args(&["--fault-mode", "--reuse-grace-ms", "0"]);
    let (first, access) = h.login_alice().await;
    let r = h.login("bob", "wrong-password-42").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    secrets.push("wrong-password-42".into());
    let r = h.refresh(&first).await;
    let second = r.refresh_cookie().unwrap();
    let access2 = r.access_token();
    assert_eq!(h.get_api("/api/me", &access2).await.status, StatusCode::OK);
    assert_eq!(
        h.get_api("/api/admin", &access2).await.status,
        StatusCode::FORBIDDEN
    );
    // Reuse detection (the loudest path) and a refused refresh.
    assert_eq!(h.refresh(&first).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.refresh(&second).await.status, StatusCode::UNAUTHORIZED);
    // A CSRF refusal carrying a cookie.
    let r = h
        .send(
            axum::http::Request::post("/auth/refresh")
                .header("cookie", format!("{COOKIE}={second}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Logout with both credentials.
    let (third, access3) = h.login_alice().await;
    let r = h
        .send(
            auth_request("/auth/logout")
                .header("cookie", format!("{COOKIE}={third}"))
                .header("authorization", format!("Bearer {access3}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get_api("/api/me", &access3).await.status,
        StatusCode::UNAUTHORIZED
    );
    secrets.extend([first, second, third, access, access2, access3]);

    // The same over a real socket, so hyper's and axum's own logging is included.
    let listeners = bind(&["127.0.0.1:0".parse().unwrap()]).await.unwrap();
    let addr = listeners[0].local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listeners, h.state.clone(), async move {
        let _ = stopped.await;
    }));
    let long = Duration::from_secs(5);
    let r = wire::send(
        addr,
        "POST",
        "/auth/login",
        &[(CSRF.0, CSRF.1), ("content-type", "application/json")],
        r#"{"username":"bob","password":"builder-42"}"#,
        long,
    )
    .await;
    let token = r.refresh_cookie().unwrap();
    let cookie = format!("{COOKIE}={token}");
    let r = wire::send(
        addr,
        "POST",
        "/auth/refresh",
        &[(CSRF.0, CSRF.1), ("cookie", &cookie)],
        "",
        long,
    )
    .await;
    assert_eq!(r.status(), 200);
    let bearer: serde_json::Value = serde_json::from_str(r.body()).unwrap();
    let bearer = bearer["access_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {bearer}");
    let r = wire::send(
        addr,
        "GET",
        "/api/admin",
        &[("authorization", &auth)],
        "",
        long,
    )
    .await;
    assert_eq!(r.status(), 200);
    secrets.extend([token, r.refresh_cookie().unwrap_or_default(), bearer]);
    // Failed logins until throttled: logged with account and address, no password.
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = wire::send(
            addr,
            "POST",
            "/auth/login",
            &[(CSRF.0, CSRF.1), ("content-type", "application/json")],
            &format!(r#"{{"username":"carol","password":"carol-guess-{i}-secret"}}"#),
            long,
        )
        .await;
        statuses.push(r.status());
        secrets.push(format!("carol-guess-{i}-secret"));
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("login"), "the capture works: {log}");
    assert!(log.contains("reuse detected"), "{log}");
    assert!(
        log.contains(r#"login refused: bad username or password user="carol" address=127.0.0.1"#),
        "{log}"
    );
    assert!(log.contains("login throttled"), "{log}");
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !log.contains(secret.as_str()),
            "a secret leaked into the log:\n{log}"
        );
        // Not even a recognisable piece of it.
        let piece = &secret[..secret.len().min(16)];
        assert!(
            !log.contains(piece),
            "a piece of a secret leaked into the log:\n{log}"
        );
    }
}
