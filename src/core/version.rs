//! The crate version shipped to JavaScript.

/// The crate version, as shipped to JavaScript by `version()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
