//! The signed-in shell, the parent route of every signed-in page: it loads the caller (renewing
//! an expired access token with the refresh cookie once) and signs out; the layout draws the
//! rest.

use crate::api::auth::{current_user, logout, refresh_session};
use crate::components::layout::Layout;
use crate::components::toasts::use_toasts;
use crate::error::AppError;
use crate::models::auth::{Me, RefreshRequest};
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The caller, renewing an expired access token with the refresh cookie once.
async fn current_user_or_refresh() -> Result<Me, AppError> {
    match current_user().await {
        Err(AppError::Unauthorized { .. }) => refresh_session(RefreshRequest::default())
            .await
            .map(|r| r.user),
        other => other,
    }
}

/// Loads the caller; signed-in users get the layout, others go to the login page.
///
/// A `Transition`, not a `Suspense`: every resource read below that has no nearer boundary
/// registers here, and a `Suspense` would take the whole app out of the page and put it back
/// each time one of them reloads (losing focus mid-word in a search box).
#[component]
pub fn Shell() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user_or_refresh());
    let toasts = use_toasts();
    let sign_out = Callback::new(move |()| {
        leptos::task::spawn_local(async move {
            match logout().await {
                Ok(()) => {
                    let _ = window().location().set_href("/login");
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    });
    view! {
        <Transition fallback=|| view! { <div class="loading">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => view! { <Layout me on_sign_out=sign_out /> }.into_any(),
                    Err(AppError::Unauthorized { .. }) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
