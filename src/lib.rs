#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod api;
pub mod browser;
pub mod core;
pub mod decode;

pub use api::{version, TokenManager};

/// Talc: a maintained wasm allocator a fraction of dlmalloc's size; realloc in place is
/// off (realloc copies), which saves a little more.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
