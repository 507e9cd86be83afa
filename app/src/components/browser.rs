//! Small browser-only helpers, no-ops on the server.

/// Marks `<body data-hydrated="true">` once the wasm has taken over (end-to-end tests wait on it).
pub fn mark_hydrated() {
    imp::mark_hydrated();
}

#[cfg(feature = "hydrate")]
mod imp {
    pub fn mark_hydrated() {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn mark_hydrated() {}
}
