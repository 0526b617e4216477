//! The bridge between Rust futures and the JS event loop: a minimal single-threaded
//! executor and a promise-as-future, in place of `wasm-bindgen-futures`.
//!
//! Every task is polled in its own microtask (`queueMicrotask`), first after the turn
//! that spawned it, then whenever it is woken; a task's future is taken out of it while
//! it is polled, so a wake during the poll just queues the next poll. Written here
//! because the generic executor with its queue, JSPI support and panic paths cost ~1.5 KB
//! gzip more. The waker is an `Rc` behind a `RawWaker`: sound because wasm32 without the
//! `atomics` feature has a single thread (checked below), and the only `unsafe` in the
//! crate.

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("browser::task assumes single-threaded wasm (its wakers are not thread-safe)");

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

use super::shared::Shared;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &JsValue);
}

/// A boxed future that settles a JS promise.
pub type PromiseFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// A spawned future; `queued` while a poll is scheduled.
struct Task {
    job: Shared<Option<Job>>,
    queued: Cell<bool>,
}

/// Runs a future to completion in the background.
pub fn spawn(job: Job) {
    schedule(Rc::new(Task {
        job: Shared::new(Some(job)),
        queued: Cell::new(false),
    }));
}

/// Queues a poll of `task` unless one is queued already.
fn schedule(task: Rc<Task>) {
    if task.queued.replace(true) {
        return;
    }
    let run = super::timer::once(Box::new(move || run(&task)));
    queue_microtask(&run.into_js_value());
}

/// Polls `task` once; a finished task is dropped, and later wakes find nothing to run.
fn run(task: &Rc<Task>) {
    task.queued.set(false);
    let Some(mut job) = task.job.borrow_mut().take() else {
        return;
    };
    let waker = waker(task.clone());
    if job
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending()
    {
        *task.job.borrow_mut() = Some(job);
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

fn waker(task: Rc<Task>) -> Waker {
    let raw = RawWaker::new(Rc::into_raw(task).cast(), &VTABLE);
    // SAFETY: the data pointer owns one strong count of an `Rc<Task>`, and every vtable
    // function below treats it exactly so. wasm32 is single-threaded, so the waker never
    // crosses a thread.
    unsafe { Waker::from_raw(raw) }
}

unsafe fn clone_raw(data: *const ()) -> RawWaker {
    // SAFETY: `data` came from `Rc::into_raw` and its count is still held.
    unsafe { Rc::increment_strong_count(data.cast::<Task>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_raw(data: *const ()) {
    // SAFETY: takes over the count this waker owned.
    schedule(unsafe { Rc::from_raw(data.cast::<Task>()) });
}

unsafe fn wake_by_ref_raw(data: *const ()) {
    // SAFETY: a new count for the scheduled task; the waker keeps its own.
    unsafe { Rc::increment_strong_count(data.cast::<Task>()) };
    schedule(unsafe { Rc::from_raw(data.cast::<Task>()) });
}

unsafe fn drop_raw(data: *const ()) {
    // SAFETY: releases the count this waker owned.
    drop(unsafe { Rc::from_raw(data.cast::<Task>()) });
}

/// A promise that settles with the future's outcome.
pub fn promise(future: PromiseFuture) -> Promise {
    let mut future = Some(future);
    Promise::new(&mut |resolve, reject| {
        if let Some(future) = future.take() {
            spawn(Box::pin(async move {
                let (settle, value) = match future.await {
                    Ok(value) => (resolve, value),
                    Err(error) => (reject, error),
                };
                let _ = settle.call1(&JsValue::UNDEFINED, &value);
            }));
        }
    })
}

/// A promise reaction (`then`'s resolve or reject handler).
type Callback = Closure<dyn FnMut(JsValue)>;

/// A promise's outcome, once it settled, and the task waiting for it.
struct Pending {
    result: Option<Result<JsValue, JsValue>>,
    waker: Option<Waker>,
    callbacks: Option<[Callback; 2]>,
}

/// A promise as a future: `Ok` with its value, `Err` with its rejection reason.
pub struct JsFuture {
    state: Rc<Shared<Pending>>,
}

impl From<Promise> for JsFuture {
    fn from(promise: Promise) -> Self {
        let state = Rc::new(Shared::new(Pending {
            result: None,
            waker: None,
            callbacks: None,
        }));
        let settle = |ok: bool| {
            let state = state.clone();
            Callback::new(move |value| {
                let waker = {
                    let mut pending = state.borrow_mut();
                    pending.result = Some(if ok { Ok(value) } else { Err(value) });
                    // Breaks the state <-> closure cycle; wasm-bindgen keeps a running
                    // closure alive until it returns.
                    pending.callbacks = None;
                    pending.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            })
        };
        let callbacks = [settle(true), settle(false)];
        let _ = promise.then2(&callbacks[0], &callbacks[1]);
        state.borrow_mut().callbacks = Some(callbacks);
        Self { state }
    }
}

impl Future for JsFuture {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut pending = self.state.borrow_mut();
        match pending.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                pending.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
