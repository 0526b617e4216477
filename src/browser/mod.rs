//! The browser layer: the only code that touches the browser. It performs what the
//! session core decides (our POSTs, the refresh timer, the Web Lock, the tab channel,
//! the wake-up listeners) on web-sys, gloo-timers and wasm-bindgen-futures, and the
//! token's path goes through the built-ins `captured.js` read at load.

pub mod captured;
pub mod clock;
pub mod listener;
pub mod locks;
pub mod network;
pub mod post;
pub mod tabs;
pub mod timer;
pub mod wake;

/// The page's origin, `location.origin` (`"null"` for an opaque one); `None` outside a
/// window.
pub fn page_origin() -> Option<String> {
    web_sys::window().and_then(|w| w.location().origin().ok())
}
