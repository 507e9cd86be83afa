//! The dashboard home: the machine overview, live, and where to go next.

use crate::api::runtime::host_metrics;
use crate::components::browser::ClientOnly;
use crate::components::host::HostOverview;
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::runtime::{HostMetricsQuery, HostSample, ResourceSample};
use crate::models::Operation;
use leptos::prelude::*;
use leptos_meta::Title;

/// The machine overview's data: the host's last 15 minutes, then samples as they arrive. Drawn
/// after hydration (its browser-side resource must not shift the ids of server-rendered ones).
#[component]
fn MachinePanel() -> impl IntoView {
    view! {
        <ClientOnly>
            <MachineBody />
        </ClientOnly>
    }
}

#[component]
fn MachineBody() -> impl IntoView {
    let host = RwSignal::new(Vec::<HostSample>::new());
    let services = RwSignal::new(Vec::<ResourceSample>::new());
    let history = LocalResource::new(|| async {
        host_metrics(HostMetricsQuery {
            range: Some("15m".into()),
        })
        .await
    });
    Effect::new(move |_| {
        if let Some(Ok(h)) = history.get() {
            host.set(h);
        }
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["metrics"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ResourcesSampled { samples, host: h } = envelope.event {
                    host.update(|all| {
                        all.push(h);
                        let over = all.len().saturating_sub(2000);
                        all.drain(..over);
                    });
                    services.update(|all| {
                        all.extend(samples);
                        let over = all.len().saturating_sub(20_000);
                        all.drain(..over);
                    });
                }
            }
        });
    });
    view! { <HostOverview host services /> }
}

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
        <MachinePanel />
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
