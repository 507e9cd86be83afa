//! The services tab of a project page: the services table with its controls and editor, then
//! the resource charts and the merged log. This panel owns the services list (fetched in the
//! browser, reloaded on the project's live service events); the charts and the log own theirs.

mod control;
mod editor;
mod logs;
mod resources;
mod table;

pub use control::use_service_shortcuts;

use crate::api::runtime::{list_services, restart_service, start_service, stop_service};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::events::{Event, ServerMessage};
use crate::models::runtime::{ProjectServicesRequest, ServiceInfo, ServiceRequest};
use crate::models::Operation;
use leptos::prelude::*;
use std::time::Duration;

/// The services table with per-service and whole-project controls. Drawn only after hydration:
/// the resources it creates would otherwise shift the ids of the page's server-rendered
/// resources (and break their hydration).
#[component]
pub fn ServicesPanel(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <h2>"Services"</h2>
        <ClientOnly fallback=|| view! { <p class="muted small">"Loading services…"</p> }>
            <ServicesBody project_id />
        </ClientOnly>
    }
}

#[component]
fn ServicesBody(project_id: i64) -> impl IntoView {
    let toasts = use_toasts();
    let role = use_context::<Me>().map(|m| m.role);
    let can_control = role.is_some_and(|r| Operation::ControlServices.allowed_for(r));
    let can_edit = role.is_some_and(|r| Operation::EditServices.allowed_for(r));
    let version = RwSignal::new(0u32);
    // None: closed; Some(None): a new service; Some(Some(s)): editing s.
    let editing = RwSignal::new(None::<Option<ServiceInfo>>);
    let edited = Callback::new(move |()| {
        editing.set(None);
        version.update(|v| *v += 1);
    });
    // Fetched in the browser: rendered inside the project page's own Suspense, a server-side
    // read here could hydrate against different markup.
    let services = LocalResource::new(move || {
        version.track();
        list_services(ProjectServicesRequest { project_id })
    });
    let names = Memo::new(move |_| {
        services
            .get()
            .and_then(Result::ok)
            .map(|list| {
                list.iter()
                    .map(|s| (s.id, s.definition.name.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let pending = StoredValue::new(false);
    Effect::new(move |_| {
        crate::components::live::subscribe(&["runtime"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ServiceChanged { project_id: p, .. } = envelope.event {
                    if p == project_id && !pending.get_value() {
                        pending.set_value(true);
                        set_timeout(
                            move || {
                                pending.set_value(false);
                                version.update(|v| *v += 1);
                            },
                            Duration::from_millis(150),
                        );
                    }
                }
            }
        });
    });
    let act = move |what: &'static str, id: i64| {
        leptos::task::spawn_local(async move {
            let r = match what {
                "start" => start_service(ServiceRequest { id }).await.map(|_| ()),
                "stop" => stop_service(ServiceRequest { id }).await.map(|_| ()),
                _ => restart_service(ServiceRequest { id }).await.map(|_| ()),
            };
            if let Err(e) = r {
                toasts.error(e.to_string());
            }
            version.update(|v| *v += 1);
        });
    };
    let act_all = move |what: &'static str| {
        leptos::task::spawn_local(async move {
            control::act_on_project(toasts, project_id, what).await;
            version.update(|v| *v += 1);
        });
    };
    view! {
        <Show when=move || can_edit>
            <div class="inline-form">
                <button class="button ghost" data-testid="add-service" on:click=move |_| editing.set(Some(None))>"Add service"</button>
            </div>
        </Show>
        {move || {
            editing
                .get()
                .map(|target| view! { <editor::ServiceEditor project_id existing=target on_done=edited /> })
        }}
        <Transition fallback=|| view! { <p class="muted small">"Loading services…"</p> }>
            {move || Suspend::new(async move {
                let list = services.await.unwrap_or_default();
                if list.is_empty() {
                    return view! {
                        <div class="callout" data-testid="no-services">
                            <p>"No services yet. Optimus can set them up from what it detected (optimus.toml, Procfile or the run command)."</p>
                            <Show when=move || can_edit>
                                <button class="button primary" data-testid="import-services" on:click=move |_| act_all("import")>
                                    "Set up from detection"
                                </button>
                            </Show>
                        </div>
                    }
                        .into_any();
                }
                table::services_table(list, can_control, can_edit, editing, act, act_all).into_any()
            })}
        </Transition>
        // Outside the table's Suspense and keyed on which services exist: a state change
        // reloads the table, never the charts or the log (which keep their range, filter and
        // follow state).
        {move || {
            let names = names.get();
            (!names.is_empty())
                .then(|| view! {
                    <resources::ResourcesPanel services=names.clone() />
                    <logs::LogViewer services=names />
                })
        }}
    }
}
