//! A filter menu: a labelled `<select>` over a list of options, showing the current value and
//! reporting a new choice. The page owns the value and what a choice does.

use leptos::prelude::*;

/// One choice of a filter menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterOption {
    /// What the page receives (and the URL keeps); empty for "any".
    pub value: String,
    /// What the menu shows.
    pub label: String,
}

impl FilterOption {
    /// A choice with its value and label.
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// A `<select>` whose options and value come from the page. Each option also carries the
/// `selected` attribute, so the server-rendered page shows the choice before hydration and a
/// menu whose options are redrawn (new counts) keeps it.
#[component]
pub fn FilterSelect(
    /// The form name (`name=`), as the URL and the tests know the filter.
    name: &'static str,
    /// The accessible name.
    label: &'static str,
    /// The choices, in order.
    #[prop(into)]
    options: Signal<Vec<FilterOption>>,
    /// The value chosen now.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the value of a new choice.
    on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <select
            name=name
            aria-label=label
            prop:value=move || value.get()
            on:change=move |ev| on_change.run(event_target_value(&ev))
        >
            {move || {
                options
                    .get()
                    .into_iter()
                    .map(|o| {
                        let mine = o.value.clone();
                        view! {
                            <option value=o.value selected=move || value.with(|v| *v == mine)>
                                {o.label}
                            </option>
                        }
                    })
                    .collect_view()
            }}
        </select>
    }
}
