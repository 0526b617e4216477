//! The one bridge from Rust futures to the JS event loop.
//!
//! Every async method goes through these two non-generic functions, so the executor
//! glue (`future_to_promise`, `spawn_local`) exists once in the wasm instead of once per
//! future type.

use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::JsValue;

/// A boxed future that settles a JS promise.
pub type PromiseFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// A promise that settles with the future's outcome.
pub fn promise(future: PromiseFuture) -> Promise {
    wasm_bindgen_futures::future_to_promise(future)
}

/// Runs a future to completion in the background.
pub fn spawn(future: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(future);
}
