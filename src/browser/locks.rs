//! One refresh at a time across the tabs of an origin: the Web Locks API.
//!
//! With rotating refresh tokens, two tabs refreshing with the same cookie at once is a
//! reuse, and a correct server then revokes the whole session. Holding an exclusive
//! lock around every refresh request serializes them, and because the browser attaches
//! the cookie when the request is sent, a tab that waited for the lock presents the
//! already-rotated cookie.

use alloc::boxed::Box;

use alloc::rc::Rc;
use core::future::Future;

use crate::browser::task::JsFuture;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::shared::Shared;
use super::task::promise;

/// `navigator.locks.request`, bound to its `LockManager`, if the browser has it.
pub fn lock_manager() -> Option<(JsValue, Function)> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(|l| l.is_object())?;
    let request = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

/// A task handed to the lock callback, or run here when there is no lock.
type Slot<T> = Rc<Shared<Option<core::pin::Pin<Box<dyn Future<Output = T>>>>>>;

/// Runs `task` while holding the exclusive lock `name`; without Web Locks (or if the
/// request fails) it runs unlocked, so a single tab always works.
pub async fn with_lock<T: 'static>(name: &str, task: impl Future<Output = T> + 'static) -> T {
    let task: Slot<T> = Rc::new(Shared::new(Some(Box::pin(task))));
    if let Some((locks, request)) = lock_manager() {
        let out: Rc<Shared<Option<T>>> = Rc::new(Shared::new(None));
        let (task_in, out_in) = (task.clone(), out.clone());
        // The lock is held until the promise this callback returns settles.
        let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
            let task = task_in.borrow_mut().take();
            promise(Box::pin(async move {
                if let Some(task) = task {
                    let value = task.await;
                    *out_in.borrow_mut() = Some(value);
                }
                Ok(JsValue::UNDEFINED)
            }))
        });
        if let Ok(promise) = request.call2(&locks, &JsValue::from_str(name), &callback) {
            let _ = JsFuture::from(Promise::from(promise)).await;
            if let Some(value) = out.borrow_mut().take() {
                return value;
            }
        }
    }
    // No Web Locks, or the lock request failed before running the task: run it here.
    let pending = task.borrow_mut().take();
    match pending {
        Some(task) => task.await,
        // The task ran inside the lock but its result is gone: cannot happen, as the
        // callback stores it before its promise resolves. Re-running is not possible,
        // so park forever rather than invent a value.
        None => core::future::pending().await,
    }
}
