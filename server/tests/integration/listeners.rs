//! Real sockets: several listeners share one state; `drop` and `hang` faults.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use token_warden_server::serve::{bind, serve};
use token_warden_server::{AppState, ManualClock};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::*;
use crate::wire::{send, Wire};

const SHORT: Duration = Duration::from_secs(5);

struct Running {
    addrs: Vec<SocketAddr>,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    _dir: TempDir,
}

async fn start(args: &[&str]) -> Running {
    let dir = TempDir::new("net");
    let mut config = config(&dir.0, args);
    config.addrs = vec!["127.0.0.1:0".parse().unwrap(); 2];
    let state = AppState::open(config.clone(), Arc::new(ManualClock::starting_now())).unwrap();
    let listeners = bind(&config.addrs).await.unwrap();
    let addrs = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listeners, state.clone(), async move {
        let _ = stopped.await;
    }));
    Running {
        addrs,
        state,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

impl Running {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(SHORT, self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

async fn login(addr: SocketAddr) -> String {
    let r = send(
        addr,
        "POST",
        "/auth/login",
        &[(CSRF.0, CSRF.1), ("content-type", "application/json")],
        r#"{"username":"alice","password":"wonderland-42"}"#,
        SHORT,
    )
    .await;
    assert_eq!(r.status(), 200, "{r:?}");
    r.refresh_cookie().unwrap()
}

async fn refresh(addr: SocketAddr, token: &str, timeout: Duration) -> Wire {
    let cookie = format!("{COOKIE}={token}");
    send(
        addr,
        "POST",
        "/auth/refresh",
        &[(CSRF.0, CSRF.1), ("cookie", &cookie)],
        "",
        timeout,
    )
    .await
}

async fn push_fault(addr: SocketAddr, fault: &str) {
    let r = send(
        addr,
        "POST",
        "/test/faults",
        &[("content-type", "application/json")],
        fault,
        SHORT,
    )
    .await;
    assert_eq!(r.status(), 200, "{r:?}");
}

#[tokio::test]
async fn every_listener_serves_the_same_state() {
    let server = start(&[]).await;
    let [a, b] = [server.addrs[0], server.addrs[1]];
    assert_ne!(a.port(), b.port());
    for addr in [a, b] {
        assert_eq!(
            send(addr, "GET", "/healthz", &[], "", SHORT).await.status(),
            200
        );
    }
    let token = login(a).await;
    let r = refresh(b, &token, SHORT).await;
    assert_eq!(r.status(), 200, "{r:?}");
    let next = r.refresh_cookie().unwrap();
    assert_eq!(refresh(a, &next, SHORT).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let server = start(&["--fault-mode"]).await;
    let addr = server.addrs[0];
    let token = login(addr).await;
    push_fault(addr, r#"{"kind":"drop"}"#).await;
    let r = refresh(addr, &token, SHORT).await;
    assert!(matches!(r, Wire::Closed), "{r:?}");
    // Nothing rotated: the token still works.
    assert_eq!(refresh(addr, &token, SHORT).await.status(), 200);
    let log = server.state.stats.snapshot().refresh_log;
    assert_eq!(log[0].outcome, "fault_drop");
    server.stop().await;
}

#[tokio::test]
async fn hang_never_answers_and_ends_when_the_client_gives_up() {
    let server = start(&["--fault-mode"]).await;
    let addr = server.addrs[1];
    let token = login(addr).await;
    push_fault(addr, r#"{"kind":"hang"}"#).await;
    let r = refresh(addr, &token, Duration::from_millis(300)).await;
    assert!(matches!(r, Wire::TimedOut), "{r:?}");
    // The client dropped its socket; the server notices and logs the refresh as ended.
    let mut waited = Duration::ZERO;
    while server.state.stats.snapshot().refresh_log.is_empty() {
        assert!(waited < SHORT, "the hung refresh never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    let stats = server.state.stats.snapshot();
    assert_eq!(stats.refresh_log[0].outcome, "fault_hang");
    assert_eq!(stats.refreshes_in_flight, 0);
    assert_eq!(refresh(addr, &token, SHORT).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn stopping_releases_a_hung_request() {
    let server = start(&["--fault-mode"]).await;
    let addr = server.addrs[0];
    let token = login(addr).await;
    push_fault(addr, r#"{"kind":"hang"}"#).await;
    let client = tokio::spawn(async move { refresh(addr, &token, SHORT).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    let r = client.await.unwrap();
    assert_eq!(r.status(), 503, "{r:?}");
    assert!(r.body().contains("temporarily_unavailable"), "{r:?}");
}

#[tokio::test]
async fn listeners_can_be_each_others_allowed_origins() {
    let server = start(&["--cors-allow-listeners"]).await;
    let [a, b] = [server.addrs[0], server.addrs[1]];
    let page = format!("http://{a}");
    let token = login(a).await;
    let cookie = format!("{COOKIE}={token}");
    // A page served by listener A refreshes through listener B.
    let r = send(
        b,
        "POST",
        "/auth/refresh",
        &[(CSRF.0, CSRF.1), ("cookie", &cookie), ("origin", &page)],
        "",
        SHORT,
    )
    .await;
    assert_eq!(r.status(), 200, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some(page.clone()));
    let localhost = format!("http://localhost:{}", a.port());
    let r = send(b, "GET", "/healthz", &[("origin", &localhost)], "", SHORT).await;
    assert_eq!(r.header("access-control-allow-origin"), Some(localhost));
    let r = send(
        b,
        "GET",
        "/healthz",
        &[("origin", "http://127.0.0.1:1")],
        "",
        SHORT,
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    server.stop().await;

    // Off by default.
    let server = start(&[]).await;
    let [a, b] = [server.addrs[0], server.addrs[1]];
    let token = login(a).await;
    let cookie = format!("{COOKIE}={token}");
    let page = format!("http://{a}");
    let r = send(
        b,
        "POST",
        "/auth/refresh",
        &[(CSRF.0, CSRF.1), ("cookie", &cookie), ("origin", &page)],
        "",
        SHORT,
    )
    .await;
    assert_eq!(r.status(), 403, "{r:?}");
    server.stop().await;
}
