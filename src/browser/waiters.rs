//! Callers waiting for a token (or a refresh outcome), released or failed all at once.
//!
//! Each waiter is a JS promise whose `resolve` we keep, plus a slot for its error; a
//! waiter with a deadline owns a timer that fails it alone, and releasing the waiter
//! cancels that timer.

use alloc::vec::Vec;

use alloc::rc::{Rc, Weak};
use core::cell::Cell;
use core::future::Future;

use super::timer::Timeout;
use crate::browser::task::JsFuture;
use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;

use super::shared::Shared;
use super::timer::clamp_delay_ms;
use crate::core::Error;

type Outcome = Rc<Shared<Option<Error>>>;

struct Waiter {
    id: u64,
    resolve: Function,
    outcome: Outcome,
    // Dropping it clears the deadline timer.
    _deadline: Option<Timeout>,
}

/// The set of pending waiters of one manager.
#[derive(Default)]
pub struct Waiters {
    list: Shared<Vec<Waiter>>,
    next_id: Cell<u64>,
}

impl Waiters {
    /// Registers a waiter now, so an outcome produced in this same turn reaches it, and
    /// returns the future to await. With `deadline_ms` it fails with `on_deadline` then.
    pub fn wait(
        self: &Rc<Self>,
        deadline_ms: Option<u64>,
        on_deadline: Error,
    ) -> impl Future<Output = Result<(), Error>> {
        let id = self.next_id.get().wrapping_add(1);
        self.next_id.set(id);
        let outcome: Outcome = Rc::default();
        let mut resolve_slot = None;
        let promise = Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
        if let Some(resolve) = resolve_slot {
            let deadline = deadline_ms.map(|ms| {
                let weak: Weak<Self> = Rc::downgrade(self);
                Timeout::new(clamp_delay_ms(ms), move || {
                    if let Some(waiters) = weak.upgrade() {
                        waiters.finish_one(id, on_deadline.clone());
                    }
                })
            });
            self.list.borrow_mut().push(Waiter {
                id,
                resolve,
                outcome: outcome.clone(),
                _deadline: deadline,
            });
        }
        async move {
            // The promise only ever resolves; the outcome slot says how.
            let _ = JsFuture::from(promise).await;
            match outcome.borrow_mut().take() {
                Some(err) => Err(err),
                None => Ok(()),
            }
        }
    }

    /// How many callers are waiting.
    pub fn len(&self) -> usize {
        self.list.borrow().len()
    }

    /// True when nobody waits.
    pub fn is_empty(&self) -> bool {
        self.list.borrow().is_empty()
    }

    /// Wakes every waiter with success; each re-checks what it waited for.
    pub fn release_all(&self) {
        self.finish_all(None);
    }

    /// Wakes every waiter with `err`.
    pub fn fail_all(&self, err: &Error) {
        self.finish_all(Some(err));
    }

    fn finish_all(&self, err: Option<&Error>) {
        let list = core::mem::take(&mut *self.list.borrow_mut());
        for waiter in list {
            *waiter.outcome.borrow_mut() = err.cloned();
            let _ = waiter.resolve.call1(&JsValue::NULL, &JsValue::UNDEFINED);
        }
    }

    fn finish_one(&self, id: u64, err: Error) {
        let waiter = {
            let mut list = self.list.borrow_mut();
            let index = list.iter().position(|w| w.id == id);
            index.map(|i| list.swap_remove(i))
        };
        if let Some(waiter) = waiter {
            *waiter.outcome.borrow_mut() = Some(err);
            let _ = waiter.resolve.call1(&JsValue::NULL, &JsValue::UNDEFINED);
        }
    }
}
