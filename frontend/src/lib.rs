#![recursion_limit = "512"]
//! The wasm entry point: hydrates the server-rendered page.

/// Called by the generated loader once the wasm module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
