//! The reference backend of token-warden: serves the demo SPA and the built package.
//! The auth endpoints (login, refresh, logout, a protected API) come with issue 5.

pub mod config;
pub mod static_files;

use axum::Router;
pub use config::Config;

/// Builds the whole application router for `config`.
pub fn app(config: &Config) -> Router {
    static_files::router(config)
}
