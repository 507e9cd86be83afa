//! The error page.

use crate::components::status::set_http_status;
use crate::error::AppError;
use leptos::prelude::*;

/// Shows an error with its HTTP status.
#[component]
pub fn ErrorPage(
    /// What went wrong.
    error: AppError,
) -> impl IntoView {
    set_http_status(error.status());
    view! {
        <section class="error-page" data-testid="error-page">
            <h1>{error.status()}</h1>
            <p>{error.to_string()}</p>
            <a class="button" href="/">
                "Back to the dashboard"
            </a>
        </section>
    }
}
