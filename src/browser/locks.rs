//! Web Locks (`navigator.locks`), so that one tab at a time refreshes: the API is behind
//! web-sys's `web_sys_unstable_apis` cfg, so this is the one small typed `extern` block.

use core::cell::RefCell;
use core::future::Future;
use std::rc::Rc;

use js_sys::{Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    type LockManager;
    /// `locks.request(name, callback)`: the lock is held until the promise `callback`
    /// returns settles.
    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, callback: &JsValue) -> Result<Promise, JsValue>;
}

fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    let request = Reflect::get(&locks, &JsValue::from_str("request")).ok()?;
    request.is_function().then(|| locks.unchecked_into())
}

/// Whether this browser has Web Locks.
pub fn available() -> bool {
    lock_manager().is_some()
}

/// Runs `task` holding the Web Lock `name`, or without one where the browser has no
/// Web Locks or refuses them here (an opaque origin). The lock is released when `task`
/// finishes; `task` resolves nothing through the lock, so what it produces never
/// settles a promise a page script could patch.
pub async fn with_lock<F, Fut>(name: &str, task: F)
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let slot = Rc::new(RefCell::new(Some(task)));
    if let Some(locks) = lock_manager() {
        let inside = slot.clone();
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            let task = inside.borrow_mut().take();
            future_to_promise(async move {
                if let Some(task) = task {
                    task().await;
                }
                Ok(JsValue::UNDEFINED)
            })
        });
        if let Ok(held) = locks.request(name, &callback) {
            let _ = JsFuture::from(held).await;
        }
    }
    // No lock, or the browser refused it before running the task: run it unlocked.
    let task = slot.borrow_mut().take();
    if let Some(task) = task {
        task().await;
    }
}
