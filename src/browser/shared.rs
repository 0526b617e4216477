//! `RefCell` without per-call-site panic records.
//!
//! `RefCell::borrow_mut` is `#[track_caller]`: every call site stores a panic `Location`
//! (file name, line, column) in the wasm for the "already borrowed" panic. A borrow
//! conflict is a bug here either way, and a panic traps in the shipped wasm, so these
//! borrows trap directly and carry no location.

use core::cell::{Ref, RefCell, RefMut};

/// A `RefCell` whose borrow conflicts trap at once.
#[derive(Default)]
pub struct Shared<T>(RefCell<T>);

impl<T> Shared<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(RefCell::new(value))
    }

    /// Shared access; traps if the value is mutably borrowed.
    pub fn borrow(&self) -> Ref<'_, T> {
        match self.0.try_borrow() {
            Ok(value) => value,
            Err(_) => conflict(),
        }
    }

    /// Exclusive access; traps if the value is borrowed.
    pub fn borrow_mut(&self) -> RefMut<'_, T> {
        match self.0.try_borrow_mut() {
            Ok(value) => value,
            Err(_) => conflict(),
        }
    }
}

#[cold]
#[inline(never)]
fn conflict() -> ! {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::unreachable()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::process::abort()
    }
}
