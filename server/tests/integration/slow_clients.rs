//! Issue 13, item 7: connections that trickle or idle are closed; odd paths are
//! answered 404/414, never 500. Real sockets on 127.0.0.1, bounded loops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use token_warden_server::serve::{bind, serve};
use token_warden_server::{AppState, ManualClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::common::*;

/// How long a test waits at most for the server to close a connection.
const BOUND: Duration = Duration::from_secs(40);

/// A server with `args` on a free port; sending on the returned channel stops it.
async fn start(args: &[&str]) -> (SocketAddr, oneshot::Sender<()>, TempDir) {
    let dir = TempDir::new("slow");
    let mut config = config(&dir.0, args);
    config.addrs = vec!["127.0.0.1:0".parse().unwrap()];
    let state = AppState::open(config.clone(), Arc::new(ManualClock::starting_now())).unwrap();
    let listeners = bind(&config.addrs).await.unwrap();
    let addr = listeners[0].local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listeners, state, async move {
        let _ = stopped.await;
    }));
    (addr, stop, dir)
}

/// Writes `bytes` one at a time every `every`, reading meanwhile; returns how long
/// after connecting the server closed the connection (`None`: still open at `BOUND`).
async fn trickle(
    addr: SocketAddr,
    prefix: &[u8],
    bytes: &[u8],
    every: Duration,
) -> Option<Duration> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let (mut read, mut write) = stream.into_split();
    write.write_all(prefix).await.unwrap();
    let reader = async move {
        let mut buf = [0u8; 4096];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    };
    let writer = async move {
        for byte in bytes.iter().cycle() {
            tokio::time::sleep(every).await;
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let raced = async {
        tokio::select! {
            closed = reader => closed,
            () = writer => unreachable!(),
        }
    };
    tokio::time::timeout(BOUND, raced).await.ok()
}

#[tokio::test]
async fn trickling_and_idle_connections_are_closed() {
    let (addr, stop, _dir) = start(&[]).await;
    let header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let every = Duration::from_secs(1);
    let complete = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let body = b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Requested-With: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
    let (header_trickle, idle, keep_alive_idle, body_trickle) = tokio::join!(
        // One header byte every second, never finishing the head.
        trickle(addr, b"", header, every),
        // Connects and sends nothing.
        trickle(addr, b"", b"", Duration::from_secs(3600)),
        // One complete request, then silence on the kept-alive connection.
        trickle(addr, complete, b"", Duration::from_secs(3600)),
        // A complete head, then the body one byte every second.
        trickle(addr, body, b"a", every),
    );
    println!(
        "closed after: header trickle {header_trickle:?}, idle {idle:?}, \
         idle after a request {keep_alive_idle:?}, body trickle {body_trickle:?} (bound {BOUND:?})"
    );
    for (what, closed) in [
        ("header trickle", header_trickle),
        ("idle", idle),
        ("idle after a request", keep_alive_idle),
        ("body trickle", body_trickle),
    ] {
        let closed = closed.unwrap_or_else(|| panic!("{what}: still open after {BOUND:?}"));
        assert!(
            closed <= Duration::from_secs(25),
            "{what}: closed after {closed:?}"
        );
    }
    let _ = stop.send(());
}

#[tokio::test]
async fn a_normal_request_still_works_after_the_timeouts_are_set() {
    let (addr, stop, _dir) = start(&[]).await;
    let r = crate::wire::send(addr, "GET", "/healthz", &[], "", Duration::from_secs(5)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.body(), "ok");
    let _ = stop.send(());
}

#[tokio::test]
async fn a_slow_answer_is_not_cut_by_the_read_timeout() {
    let (addr, stop, _dir) = start(&["--fault-mode", "--read-timeout", "1"]).await;
    let fault = r#"{"kind":"delay","ms":2500}"#;
    let long = Duration::from_secs(10);
    let r = crate::wire::send(addr, "POST", "/test/faults", &[], fault, long).await;
    assert_eq!(r.status(), 200, "{r:?}");
    // The handler takes 2.5 s, longer than the 1 s read timeout: the answer still comes.
    let r = crate::wire::send(addr, "POST", "/auth/refresh", &[(CSRF.0, CSRF.1)], "", long).await;
    assert_eq!(r.status(), 401, "{r:?}");
    let _ = stop.send(());
}

#[tokio::test]
async fn long_path_segments_are_404_or_414_never_500() {
    let h = Harness::new();
    std::fs::create_dir_all(h._dir.0.join("www")).unwrap();
    std::fs::create_dir_all(h._dir.0.join("pkg")).unwrap();
    let long = "a".repeat(300);
    let many = "b/".repeat(2100);
    let paths = [
        format!("/{long}"),
        format!("/{long}.js"),
        format!("/x/{long}/y"),
        format!("/pkg/{long}"),
        format!("/api/{long}"),
        format!("/test/{long}"),
        format!("/{}", "c".repeat(256)),
        format!("/{many}"),
        format!("/%2e%2e/{long}"),
    ];
    for path in paths {
        let r = h
            .send(Request::get(path.as_str()).body(Body::empty()).unwrap())
            .await;
        println!("GET /…({} bytes) → {}", path.len(), r.status);
        assert!(
            r.status == StatusCode::NOT_FOUND || r.status == StatusCode::URI_TOO_LONG,
            "{} bytes: {}",
            path.len(),
            r.status
        );
    }
    let r = h
        .send(
            auth_request(&format!("/auth/{long}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 404 | 414), "{}", r.status);
}
