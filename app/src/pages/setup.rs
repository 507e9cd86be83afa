//! First-run setup: creates the owner account.

use crate::api::auth::{get_setup_status, setup_owner};
use crate::models::auth::Credentials;
use crate::models::{Password, Username};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// The first-run form; checks the same rules as the server before sending.
#[component]
pub fn SetupPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_setup_status());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = Action::new(|c: &Credentials| {
        let c = c.clone();
        async move { setup_owner(c).await }
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
        let u = username.get_untracked();
        let p = password.get_untracked();
        if let Err(m) = Username::parse(&u) {
            error.set(Some(format!("username: {m}")));
            return;
        }
        if let Err(m) = Password::parse(&p, &u) {
            error.set(Some(format!("password: {m}")));
            return;
        }
        if p != confirm.get_untracked() {
            error.set(Some("the two passwords differ".into()));
            return;
        }
        error.set(None);
        submit.dispatch(Credentials {
            username: u,
            password: p,
        });
    };
    view! {
        <Title text="Welcome · Optimus" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(s) if !s.needs_setup => view! { <Redirect path="/login" /> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
        <main class="auth-page">
            <form class="auth-card" on:submit=on_submit data-testid="setup-form">
                <h1>"Welcome to Optimus"</h1>
                <p class="muted">"Create the owner account. You can invite others afterwards."</p>
                <label>
                    "Username" <input name="username" autocomplete="username" required bind:value=username />
                </label>
                <label>
                    "Password (at least 12 characters)"
                    <input name="password" type="password" autocomplete="new-password" required bind:value=password />
                </label>
                <label>
                    "Repeat password"
                    <input name="confirm" type="password" autocomplete="new-password" required bind:value=confirm />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </Show>
                <button class="button primary" type="submit" disabled=move || submit.pending().get()>
                    "Create owner account"
                </button>
            </form>
        </main>
    }
}
