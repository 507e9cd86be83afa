//! Small browser-only helpers, no-ops on the server.

/// Marks `<body data-hydrated="true">` once the wasm has taken over (end-to-end tests wait on it).
pub fn mark_hydrated() {
    imp::mark_hydrated();
}

/// Reads a value remembered in local storage (`None` on the server).
pub fn load(key: &str) -> Option<String> {
    imp::load(key)
}

/// Remembers a value in local storage.
pub fn store(key: &str, value: &str) {
    imp::store(key, value);
}

/// Forgets a value in local storage.
pub fn forget(key: &str) {
    imp::forget(key);
}

/// Puts text on the clipboard; false when the browser refused (or on the server).
pub fn copy_text(text: &str) -> bool {
    imp::copy_text(text)
}

#[cfg(feature = "hydrate")]
mod imp {
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window().and_then(|w| w.local_storage().ok().flatten())
    }

    pub fn load(key: &str) -> Option<String> {
        storage().and_then(|s| s.get_item(key).ok().flatten())
    }

    pub fn store(key: &str, value: &str) {
        if let Some(s) = storage() {
            let _ = s.set_item(key, value);
        }
    }

    pub fn forget(key: &str) {
        if let Some(s) = storage() {
            let _ = s.remove_item(key);
        }
    }

    pub fn copy_text(text: &str) -> bool {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else {
            return false;
        };
        let get = |target: &wasm_bindgen::JsValue, key: &str| {
            js_sys::Reflect::get(target, &wasm_bindgen::JsValue::from_str(key)).ok()
        };
        let Some(clipboard) = get(&window, "navigator").and_then(|n| get(&n, "clipboard")) else {
            return false;
        };
        let Some(write) =
            get(&clipboard, "writeText").and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return false;
        };
        write
            .call1(&clipboard, &wasm_bindgen::JsValue::from_str(text))
            .is_ok()
    }

    pub fn mark_hydrated() {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn mark_hydrated() {}
    pub fn load(_key: &str) -> Option<String> {
        None
    }
    pub fn store(_key: &str, _value: &str) {}
    pub fn forget(_key: &str) {}
    pub fn copy_text(_text: &str) -> bool {
        false
    }
}

/// Renders its children only in the browser, after hydration. For parts whose data the browser
/// fetches itself: nothing of them is in the server-rendered page, so nothing can mismatch.
#[leptos::component]
pub fn ClientOnly(
    /// What to draw once hydrated.
    children: leptos::children::ChildrenFn,
    /// What the server renders (and the browser shows until then).
    #[prop(optional, into)]
    fallback: leptos::prelude::ViewFn,
) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <Show when=move || mounted.get() fallback=fallback>
            {children()}
        </Show>
    }
}
