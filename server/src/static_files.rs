//! The demo (`www/`) at `/` and the wasm package (`pkg/`) at `/pkg`.
//!
//! `ServeDir` takes MIME types from the extension, so `.wasm` goes out as
//! `application/wasm`, which `WebAssembly.instantiateStreaming` requires.
//!
//! Every static answer carries the `--content-security-policy` (by default
//! [`DEFAULT_CSP`](crate::config::DEFAULT_CSP): scripts from this origin and wasm
//! compilation only, no plugins, no `<base>`, no framing) and `Referrer-Policy:
//! no-referrer`. A path the file system refuses as a name (a segment over 255 bytes,
//! a path over `PATH_MAX`) is 404, like a missing file, not 500.

use std::convert::Infallible;
use std::io;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::service_fn;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::Config;

/// Static routes; `no-cache` so a rebuilt package is picked up on reload.
pub fn router(config: &Config) -> Router {
    let mut router = Router::new()
        .nest_service("/pkg", serve_dir(ServeDir::new(&config.pkg_dir)))
        .fallback_service(serve_dir(ServeDir::new(&config.www_dir)))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    if let Some(csp) = config
        .content_security_policy
        .as_deref()
        .and_then(|csp| HeaderValue::from_str(csp).ok())
    {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ));
    }
    router
}

/// `dir` with its I/O errors answered: missing, forbidden or unnameable paths are
/// 404; anything else is logged and 500.
fn serve_dir(
    dir: ServeDir,
) -> impl tower::Service<
    Request,
    Response = Response,
    Error = Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    service_fn(move |request: Request| {
        let mut dir = dir.clone();
        async move {
            Ok(match dir.try_call(request).await {
                Ok(response) => response.map(Body::new),
                Err(e) if is_not_found(&e) => StatusCode::NOT_FOUND.into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "static file");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            })
        }
    })
}

/// Errors that mean "no such file here" for a client.
fn is_not_found(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::InvalidFilename
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::IsADirectory
    )
}
