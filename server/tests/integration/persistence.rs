//! Sessions survive a restart; expired rows are purged.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use token_warden_server::config::{DbPath, KeySource};
use token_warden_server::{AppState, ManualClock};

use crate::common::*;

fn file_config(dir: &TempDir) -> token_warden_server::Config {
    let mut config = config(&dir.0, &[]);
    config.db = DbPath::File(dir.0.join("data/tw.sqlite3"));
    config
}

fn count(state: &AppState, table: &'static str) -> i64 {
    state
        .db
        .call_blocking(move |c| {
            Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
        })
        .unwrap()
}

#[tokio::test]
async fn a_restart_loses_no_session() {
    let dir = TempDir::new("restart");
    let first = Harness::from_config(file_config(&dir), TempDir::new("unused"));
    let (refresh, access) = first.login_alice().await;
    let rotated = first.refresh(&refresh).await.refresh_cookie().unwrap();
    drop(first);

    let second = Harness::from_config(file_config(&dir), TempDir::new("unused"));
    assert_eq!(
        second.get_api("/api/me", &access).await.status,
        StatusCode::OK
    );
    let r = second.refresh(&rotated).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Reuse detection survives too.
    assert_eq!(
        second.refresh(&refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(second.state.stats.snapshot().reuse_detections, 1);
}

#[tokio::test]
async fn the_generated_key_is_kept_in_the_data_dir() {
    let dir = TempDir::new("key");
    let mut config = file_config(&dir);
    config.jwt_key = KeySource::Generated;
    let first = Harness::from_config(config.clone(), TempDir::new("unused"));
    let (_, access) = first.login_alice().await;
    drop(first);
    assert!(dir.0.join("data/jwt.key").exists());
    let second = Harness::from_config(config, TempDir::new("unused"));
    assert_eq!(
        second.get_api("/api/me", &access).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_hashes_are_stored() {
    let dir = TempDir::new("hashes");
    let h = Harness::from_config(file_config(&dir), TempDir::new("unused"));
    let (refresh, _) = h.login_alice().await;
    drop(h);
    let bytes = std::fs::read(dir.0.join("data/tw.sqlite3")).unwrap();
    let needle = refresh.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn expired_rows_are_purged() {
    let h = Harness::new();
    let (refresh, access) = h.login_alice().await;
    let (other, _) = h.login_alice().await;
    h.send(
        auth_request("/auth/logout")
            .header("cookie", format!("{COOKIE}={other}"))
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let purged = h.state.purge_expired().await.unwrap();
    assert_eq!((purged.families, purged.denied_jtis), (0, 0));
    assert_eq!(count(&h.state, "families"), 2);
    assert_eq!(count(&h.state, "denied_jtis"), 1);

    // After the access token's lifetime: the deny-list entry goes.
    h.advance(Duration::from_secs(301));
    let purged = h.state.purge_expired().await.unwrap();
    assert_eq!(purged.denied_jtis, 1);
    assert_eq!(purged.families, 0);

    // After the idle lifetime: both families (one revoked, one idle) and their tokens go.
    h.advance(Duration::from_secs(24 * 3600));
    let purged = h.state.purge_expired().await.unwrap();
    assert_eq!((purged.families, purged.tokens), (2, 2));
    assert_eq!(count(&h.state, "refresh_tokens"), 0);
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn startup_purges_what_expired_while_the_server_was_down() {
    let dir = TempDir::new("startup");
    let h = Harness::from_config(file_config(&dir), TempDir::new("unused"));
    h.login_alice().await;
    let later = ManualClock::starting_now();
    later.advance(Duration::from_secs(15 * 24 * 3600));
    drop(h);
    let state = AppState::open(file_config(&dir), Arc::new(later)).unwrap();
    assert_eq!(count(&state, "families"), 0);
    assert_eq!(count(&state, "refresh_tokens"), 0);
}
