#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// The shipped wasm is built without `std`: its panic and formatting machinery is most
// of what a small wasm would otherwise carry. The code uses `core`/`alloc` throughout;
// native builds, tests and the `std` feature link `std` as usual.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std"), not(test)), no_std)]

extern crate alloc;

pub mod core;
pub mod decode;
pub mod wasm;

pub use wasm::{version, SessionCore};

/// Without `std` a panic traps at once: nothing is formatted or printed, which is what
/// the `std` handler amounts to in a browser (its stderr goes nowhere) with
/// `panic = "abort"`.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo<'_>) -> ! {
    ::core::arch::wasm32::unreachable()
}

/// Talc: a maintained, safe-to-use wasm allocator a fraction of dlmalloc's size; realloc in
/// place is off (realloc copies), which saves a little more.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
