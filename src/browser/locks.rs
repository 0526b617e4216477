//! One refresh at a time across the tabs of an origin: the Web Locks API.
//!
//! With rotating refresh tokens, two tabs refreshing with the same cookie at once is a
//! reuse, and a correct server then revokes the whole session. Holding an exclusive
//! lock around every refresh request serializes them, and because the browser attaches
//! the cookie when the request is sent, a tab that waited for the lock presents the
//! already-rotated cookie.

use core::future::Future;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};

use super::http::set;
use super::primitives::{get, global_get};
use super::task::JsFuture;

/// `navigator.locks.request`, bound to its `LockManager`, if the browser has it.
pub fn lock_manager() -> Option<(JsValue, Function)> {
    let locks = get(&global_get("navigator")?, "locks").filter(|l| l.is_object())?;
    let request = get(&locks, "request")?.dyn_into::<Function>().ok()?;
    Some((locks, request))
}

/// Runs `task` while holding the exclusive lock `name`; without Web Locks (or if the
/// request fails) it runs unlocked, so a single tab always works.
pub async fn with_lock<T>(name: &str, task: impl Future<Output = T>) -> T {
    match acquire(name).await {
        Some(release) => {
            let _held = Held(release);
            task.await
        }
        None => task.await,
    }
}

/// A granted lock; dropping it releases the lock.
struct Held(Function);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED);
    }
}

/// Waits for the exclusive lock `name` and gives the function that releases it; `None`
/// without Web Locks or when the request fails.
///
/// The lock callback is `Promise.resolve.bind(Promise, thenable)`: the browser holds the
/// lock until the promise it returns settles. Resolving with a thenable makes JS call
/// `thenable.then(resolve, reject)`, and that `then` is the resolver of `granted`, so
/// `granted` resolves with the very `resolve` that releases the lock. No Rust closure
/// (and no closure type in the glue) is involved.
async fn acquire(name: &str) -> Option<Function> {
    let (locks, request) = lock_manager()?;
    let promise_class = global_get("Promise")?;
    let resolve: Function = get(&promise_class, "resolve")?.dyn_into().ok()?;
    let mut grant = None;
    let granted = Promise::new(&mut |resolve, _reject| grant = Some(resolve));
    let grant = grant?;
    let thenable = Object::new();
    set(&thenable, "then", &grant);
    let callback = resolve.bind1(&promise_class, &thenable);
    let pending = request
        .call2(&locks, &JsValue::from_str(name), &callback)
        .ok()?;
    // A request that fails settles `granted` with its reason (not a function) instead.
    if let Some(then) = get(&pending, "then").and_then(|t| t.dyn_into::<Function>().ok()) {
        let _ = then.call2(&pending, &JsValue::UNDEFINED, &grant);
    }
    JsFuture::from(granted)
        .await
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use crate::browser::task::promise;
    use crate::browser::timer::sleep;
    use alloc::boxed::Box;
    use alloc::rc::Rc;
    use core::cell::Cell;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn holders_of_one_lock_take_turns_and_release_it() {
        assert!(lock_manager().is_some(), "the test browser has Web Locks");
        let inside = Rc::new(Cell::new(0u32));
        let most = Rc::new(Cell::new(0u32));
        let order = Rc::new(Cell::new(0u32));
        let runs = js_sys::Array::new();
        for i in 0..3u32 {
            let (inside, most, order) = (inside.clone(), most.clone(), order.clone());
            runs.push(&promise(Box::pin(async move {
                with_lock("token-warden-test", async move {
                    inside.set(inside.get() + 1);
                    most.set(most.get().max(inside.get()));
                    sleep(20).await;
                    inside.set(inside.get() - 1);
                    order.set(order.get() * 10 + i + 1);
                })
                .await;
                Ok(JsValue::UNDEFINED)
            })));
        }
        assert!(JsFuture::from(Promise::all(&runs)).await.is_ok());
        assert_eq!(most.get(), 1, "never two holders at once");
        assert_eq!(order.get(), 123, "granted in request order");
        // Every holder released it: it can be taken again at once.
        let again = with_lock("token-warden-test", async { 7 }).await;
        assert_eq!(again, 7);
    }
}
