#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod browser;
pub mod core;
mod js;

pub use js::{is_token_warden_error, version, TokenManager};
