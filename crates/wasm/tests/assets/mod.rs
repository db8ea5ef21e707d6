//! The files `cargo xtask test` links into `crates/wasm/.test-assets/` for the browser tests:
//! the base encoder, the shipped tagger and the shipped recommender.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The bytes of `.test-assets/{path}`, fetched from the test runner's server.
pub(crate) async fn fetch_asset(path: &str) -> Vec<u8> {
    let window = web_sys::window().expect("a browser window");
    let url = format!("/.test-assets/{path}");
    let response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .expect("fetch starts");
    let response: web_sys::Response = response.dyn_into().expect("a Response");
    assert!(
        response.ok(),
        "{url}: HTTP {}; run `cargo xtask test`",
        response.status()
    );
    let buffer = JsFuture::from(response.array_buffer().expect("a body"))
        .await
        .expect("body");
    js_sys::Uint8Array::new(&buffer).to_vec()
}
