//! The demo (`www/`) at `/` and the wasm package (`pkg/`) at `/pkg`.
//!
//! `ServeDir` takes MIME types from the extension, so `.wasm` goes out as
//! `application/wasm`, which `WebAssembly.instantiateStreaming` requires.

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::Config;

/// Static routes; `no-cache` so a rebuilt package is picked up on reload.
pub fn router(config: &Config) -> Router {
    Router::new()
        .nest_service("/pkg", ServeDir::new(&config.pkg_dir))
        .fallback_service(ServeDir::new(&config.www_dir))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}
