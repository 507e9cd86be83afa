//! The sign-in page.

use crate::api::auth::{get_setup_status, login};
use crate::models::auth::Credentials;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// Username and password form; sends a new install to first-run setup.
#[component]
pub fn LoginPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_setup_status());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = Action::new(|c: &Credentials| {
        let c = c.clone();
        async move { login(c).await }
    });
    Effect::new(move |_| match submit.value().get() {
        Some(Ok(_)) => {
            let _ = window().location().set_href("/");
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        submit.dispatch(Credentials {
            username: username.get_untracked(),
            password: password.get_untracked(),
        });
    };
    view! {
        <Title text="Sign in · Optimus" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(s) if s.needs_setup => view! { <Redirect path="/setup" /> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
        <main class="auth-page">
            <form class="auth-card" on:submit=on_submit data-testid="login-form">
                <h1>"Sign in to Optimus"</h1>
                <label>
                    "Username" <input name="username" autocomplete="username" required bind:value=username />
                </label>
                <label>
                    "Password"
                    <input name="password" type="password" autocomplete="current-password" required bind:value=password />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </Show>
                <button class="button primary" type="submit" disabled=move || submit.pending().get()>
                    "Sign in"
                </button>
            </form>
        </main>
    }
}
