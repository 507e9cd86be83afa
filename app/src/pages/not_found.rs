//! The 404 page.

use crate::components::status::set_http_status;
use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path that is not a page; served with status 404.
#[component]
pub fn NotFound() -> impl IntoView {
    set_http_status(404);
    // Not a lazily loaded page: hydrated with the main module.
    Effect::new(|_| crate::components::browser::mark_hydrated());
    view! {
        <Title text="Not found · Optimus" />
        <section class="error-page" data-testid="not-found">
            <h1>"404"</h1>
            <p>"There is no page here."</p>
            <a class="button" href="/">
                "Back to the dashboard"
            </a>
        </section>
    }
}
