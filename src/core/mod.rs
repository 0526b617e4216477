//! The pure core: no browser imports, tested natively with a manual clock.

/// The crate version, as shipped to JavaScript by `version()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
