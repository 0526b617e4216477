//! Running the app on one or more listeners, with a periodic purge and a graceful stop.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::{app_for_listeners, AppState};

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
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = JoinSet::new();
    for listener in listeners {
        let mut stop = stop_rx.clone();
        let server = axum::serve(listener, router.clone()).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        });
        servers.spawn(async move { server.await });
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
