//! Dark / light / system theme, remembered in local storage.

use leptos::prelude::*;

/// The storage key (also read by the boot script in the shell).
pub const STORAGE_KEY: &str = "optimus-theme";

/// Applies and remembers a theme choice (`dark`, `light` or `system`).
pub fn apply_theme(choice: &str) {
    imp::apply(choice);
}

/// The remembered choice (`system` when none).
pub fn stored_theme() -> String {
    imp::stored()
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::STORAGE_KEY;

    pub fn apply(choice: &str) {
        let Some(window) = web_sys::window() else { return };
        if let Ok(Some(storage)) = window.local_storage() {
            let _ = if choice == "system" {
                storage.remove_item(STORAGE_KEY)
            } else {
                storage.set_item(STORAGE_KEY, choice)
            };
        }
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = if choice == "system" {
                root.remove_attribute("data-theme")
            } else {
                root.set_attribute("data-theme", choice)
            };
        }
    }

    pub fn stored() -> String {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .filter(|t| t == "dark" || t == "light")
            .unwrap_or_else(|| "system".into())
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn apply(_choice: &str) {}
    pub fn stored() -> String {
        "system".into()
    }
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
