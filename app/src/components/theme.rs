//! Dark / light / system theme, remembered in local storage.

use leptos::prelude::*;

/// The storage key (also read by the boot script in the shell).
pub const STORAGE_KEY: &str = "optimus-theme";

/// Applies and remembers a theme choice (`dark`, `light` or `system`).
pub fn apply_theme(choice: &str) {
    if choice == "system" {
        super::browser::forget(STORAGE_KEY);
    } else {
        super::browser::store(STORAGE_KEY, choice);
    }
    imp::apply(choice);
}

/// The remembered choice (`system` when none, and always on the server).
pub fn stored_theme() -> String {
    super::browser::load(STORAGE_KEY)
        .filter(|t| t == "dark" || t == "light")
        .unwrap_or_else(|| "system".into())
}

#[cfg(feature = "hydrate")]
mod imp {
    /// Sets or removes `<html data-theme>`.
    pub fn apply(choice: &str) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = if choice == "system" {
                root.remove_attribute("data-theme")
            } else {
                root.set_attribute("data-theme", choice)
            };
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn apply(_choice: &str) {}
}

/// A select that switches the theme.
#[component]
pub fn ThemeSwitch(
    /// The current choice; shared so the palette can change it too.
    choice: RwSignal<String>,
) -> impl IntoView {
    Effect::new(move |_| choice.set(stored_theme()));
    view! {
        <label class="theme-switch">
            <span class="sr-only">"Theme"</span>
            <select
                data-testid="theme-switch"
                prop:value=move || choice.get()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    apply_theme(&v);
                    choice.set(v);
                }
            >
                <option value="system">"System"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}
