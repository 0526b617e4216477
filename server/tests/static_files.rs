//! The static routes serve the demo and the package with the right MIME types.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use token_warden_server::config::KeySource;
use token_warden_server::{app, AppState, Config, SystemClock};
use tower::ServiceExt;

fn state_with_files() -> (AppState, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tw-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("www/index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(dir.join("pkg/x_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("pkg/x.js"), "export {}").unwrap();
    std::fs::write(dir.join("users.toml"), "").unwrap();
    let arg = |p: &str| dir.join(p).display().to_string();
    let args = [
        "--addr".to_string(),
        "127.0.0.1:0".into(),
        "--www".into(),
        arg("www"),
        "--pkg".into(),
        arg("pkg"),
        "--users".into(),
        arg("users.toml"),
        "--data-dir".into(),
        arg("data"),
        "--db".into(),
        ":memory:".into(),
    ];
    let mut cfg = Config::from_args(args, |_| None).unwrap();
    cfg.jwt_key = KeySource::Inline(b"static-files-test-key-0123456789abcdef".to_vec());
    (AppState::open(cfg, Arc::new(SystemClock)).unwrap(), dir)
}

async fn get(state: &AppState, path: &str) -> (StatusCode, String, Vec<u8>) {
    let res = app(state)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ctype, body)
}

#[tokio::test]
async fn serves_index_wasm_and_js_with_their_mime_types() {
    let (state, dir) = state_with_files();
    let (status, ctype, body) = get(&state, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert_eq!(body, b"<h1>demo</h1>");

    let (status, ctype, body) = get(&state, "/pkg/x_bg.wasm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/wasm");
    assert_eq!(&body[..4], b"\0asm");

    let (_, ctype, _) = get(&state, "/pkg/x.js").await;
    assert!(ctype.contains("javascript"), "{ctype}");

    let (status, _, _) = get(&state, "/pkg/missing.wasm").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&state, "/pkg/../../etc/passwd").await;
    assert_ne!(status, StatusCode::OK);
    std::fs::remove_dir_all(dir).ok();
}
