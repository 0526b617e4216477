//! Running the app on one or more listeners, with a periodic purge and a graceful stop.
//!
//! Connections are served by hyper's HTTP/1 server with its timer set, so that
//! `header_read_timeout` (`--read-timeout`, 10 s by default) holds: a client must
//! send a whole request head within that time, and the same timer runs again while
//! a kept-alive connection waits for its next request, so a connection that
//! trickles header bytes, or sends nothing, is closed after it. A request body has
//! the same time from the head (see [`crate::routes`]). Every request carries the
//! TCP peer as `ConnectInfo<SocketAddr>` (login throttling counts by address).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::{app_for_listeners, AppState};

/// How long a stopping server waits for open connections to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Binds every address (in order).
pub async fn bind(addrs: &[SocketAddr]) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Serves the same app and state on every listener until `shutdown` resolves,
/// purging expired rows every `purge_interval_secs`. On shutdown, hanging fault
/// handlers are released and in-flight requests finish.
pub async fn serve(
    listeners: Vec<TcpListener>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let router = app_for_listeners(&state, &addrs);
    let (stop_tx, stop_rx) = watch::channel(false);
    let read_timeout = Duration::from_secs(state.config.read_timeout_secs.max(1));
    let mut servers = JoinSet::new();
    for listener in listeners {
        servers.spawn(accept_loop(
            listener,
            router.clone(),
            read_timeout,
            stop_rx.clone(),
        ));
    }
    let purger = tokio::spawn(purge_loop(state.clone()));
    tokio::spawn({
        let state = state.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down");
            state.begin_shutdown();
            stop_tx.send_replace(true);
        }
    });
    let mut result = Ok(());
    while let Some(joined) = servers.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(e) => result = Err(io::Error::other(e.to_string())),
        }
    }
    purger.abort();
    result
}

/// Accepts connections on `listener` until `stop` turns true, then lets the open
/// ones finish (at most [`DRAIN_LIMIT`]).
async fn accept_loop(
    listener: TcpListener,
    router: Router,
    read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(Body::new)
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_LIMIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN_LIMIT:?}; stopping anyway");
    }
    Ok(())
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// A failed `accept`: per-connection errors are ignored; others (too many open
/// files) are logged and retried after a second, as hyper 0.14 and axum do.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn purge_loop(state: AppState) {
    let period = Duration::from_secs(state.config.purge_interval_secs.max(1));
    let mut interval = tokio::time::interval(period);
    interval.tick().await; // the first tick is immediate; startup already purged
    loop {
        interval.tick().await;
        match state.purge_expired().await {
            Ok(purged) if purged == Default::default() => {}
            Ok(purged) => tracing::info!(?purged, "purged expired rows"),
            Err(e) => tracing::error!(error = %e, "purge failed"),
        }
    }
}
