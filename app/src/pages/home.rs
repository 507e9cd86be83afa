//! The dashboard home.

use crate::models::auth::Me;
use crate::models::Operation;
use leptos::prelude::*;
use leptos_meta::Title;

/// The dashboard landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = use_context::<Me>();
    let name = me.as_ref().map(|m| m.username.clone()).unwrap_or_default();
    let role = me.as_ref().map(|m| m.role);
    let admin = role.is_some_and(|r| Operation::ListUsers.allowed_for(r));
    view! {
        <Title text="Dashboard · Optimus" />
        <h1 data-testid="dashboard-title">"Dashboard"</h1>
        <p class="muted">"Signed in as " <strong>{name}</strong> "."</p>
        <crate::components::host::HostOverview />
        <div class="cards">
            <section class="card">
                <h2>"Projects"</h2>
                <p>"Point Optimus at the folders where your code lives and it catalogs every project it finds."</p>
                <a class="button" href="/projects">
                    "Open projects"
                </a>
            </section>
            <section class="card">
                <h2>"API tokens"</h2>
                <p>"Script Optimus with curl: create a token with just the scopes you need."</p>
                <a class="button" href="/tokens">
                    "Manage tokens"
                </a>
            </section>
            <Show when=move || admin>
                <section class="card">
                    <h2>"Team"</h2>
                    <p>"Invite people as viewers, operators or admins."</p>
                    <a class="button" href="/users">
                        "Manage users"
                    </a>
                </section>
            </Show>
            <section class="card">
                <h2>"Keyboard"</h2>
                <p>"Press " <kbd>"Ctrl K"</kbd> " for the command palette and " <kbd>"?"</kbd> " for every shortcut."</p>
            </section>
        </div>
    }
}
