//! Smoke tests of the browser layer in headless Chromium.
#![cfg(target_arch = "wasm32")]

use token_warden::browser::{fetch, timer};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn timer_fires_after_its_delay() {
    let start = js_sys::Date::now();
    timer::sleep(30).await;
    let elapsed = js_sys::Date::now() - start;
    assert!(elapsed >= 25.0, "timer fired after {elapsed} ms");
}

#[wasm_bindgen_test]
fn absurd_delays_are_clamped_not_wrapped() {
    assert_eq!(timer::clamp_delay_ms(u64::MAX), 2_147_483_647);
    assert_eq!(timer::clamp_delay_ms(5), 5);
}

#[wasm_bindgen_test]
async fn fetch_reads_a_data_url() {
    let request = web_sys::Request::new_with_str("data:text/plain,hello%20warden").unwrap();
    let response = fetch::send(&request).await.unwrap();
    assert_eq!(response.status(), 200);
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    assert_eq!(text.as_string().unwrap(), "hello warden");
}

#[wasm_bindgen_test]
async fn fetch_rejects_on_an_unreachable_url() {
    let request = web_sys::Request::new_with_str("http://127.0.0.1:9/").unwrap();
    let err = fetch::send(&request).await.unwrap_err();
    assert!(err.dyn_ref::<js_sys::Error>().is_some());
}

#[wasm_bindgen_test]
fn version_matches_the_crate() {
    assert_eq!(token_warden::version(), env!("CARGO_PKG_VERSION"));
}
