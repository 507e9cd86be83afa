//! One project's page: its header (facts at a glance, actions) and tabs kept in the URL
//! (`?tab=`): overview, services and logs, pipelines, deployments, backups, environments,
//! council. Each tab owns its data, so a
//! reload of the project (after an edit or a live change) never rebuilds the panels below it.

mod actions;
mod backups;
mod council;
mod dependencies;
mod deployments;
mod environments;
mod github;
mod overview;
mod pipelines;
mod services;
mod timeline;

use crate::api::catalog::get_project;
use crate::models::events::{Event, ServerMessage};
use crate::models::tokens::IdRequest;
use crate::pages::error::ErrorPage;
use crate::AppError;
use actions::ProjectActions;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The tabs of a project page, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Detected facts, dependencies and the timeline.
    Overview,
    /// Services, their state, logs and resources.
    Services,
    /// Pipelines: define, run with parameters, the latest runs and schedules.
    Pipelines,
    /// Deployments: deploy, roll back, the history and the releases.
    Deployments,
    /// Backups: policies, back up now, snapshots, browse and restore.
    Backups,
    /// Environments and secrets.
    Environments,
    /// The council's decisions about the project.
    Council,
}

impl Tab {
    /// Every tab, in order.
    pub const ALL: [Tab; 7] = [
        Tab::Overview,
        Tab::Services,
        Tab::Pipelines,
        Tab::Deployments,
        Tab::Backups,
        Tab::Environments,
        Tab::Council,
    ];

    /// The tab named in the URL (`overview` when absent or unknown).
    pub fn parse(raw: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.as_str()) == raw)
            .unwrap_or(Tab::Overview)
    }

    /// The URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Services => "services",
            Tab::Pipelines => "pipelines",
            Tab::Deployments => "deployments",
            Tab::Backups => "backups",
            Tab::Environments => "environments",
            Tab::Council => "council",
        }
    }

    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Services => "Services & logs",
            Tab::Pipelines => "Pipelines",
            Tab::Deployments => "Deployments",
            Tab::Backups => "Backups",
            Tab::Environments => "Environments",
            Tab::Council => "Council",
        }
    }

    /// The page URL showing this tab of project `id`.
    pub fn href(self, id: i64) -> String {
        match self {
            Tab::Overview => format!("/projects/{id}"),
            other => format!("/projects/{id}?tab={}", other.as_str()),
        }
    }
}

/// The project detail page.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let tab = Memo::new(move |_| query.with(|q| Tab::parse(q.get("tab").as_deref())));
    let version = RwSignal::new(0u32);
    let project = Resource::new(
        move || (id.get(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_project(IdRequest { id }).await,
                None => Err(AppError::not_found("project")),
            }
        },
    );
    services::use_service_shortcuts(Signal::derive(move || id.get()));
    // The header follows live changes to the project (a rescan, an edit elsewhere).
    Effect::new(move |_| {
        crate::components::live::subscribe(&["catalog"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if matches!(envelope.event, Event::ProjectChanged { id: changed, .. } if Some(changed) == id.get_untracked())
                {
                    version.update(|v| *v += 1);
                }
            }
        });
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(p) => {
                        view! {
                    <Title text=format!("{} · Optimus", p.name) />
                    <h1 data-testid="project-title">{p.name.clone()}</h1>
                    <p class="muted">
                        <code>{p.path.clone()}</code>
                        {(p.status == "missing").then(|| view! { <span class="badge warn">"missing from disk"</span> })}
                    </p>
                    <p>{p.description.clone().unwrap_or_default()}</p>
                    <p class="stacks">
                        {p.tags.iter().map(|t| view! { <span class="badge subtle">{format!("#{t}")}</span> }).collect_view()}
                        {p.lifecycle.clone().map(|l| view! { <span class="badge subtle">{l}</span> })}
                        {p.owner.clone().map(|o| view! { <span class="badge subtle">{format!("owner: {o}")}</span> })}
                        {p.stacks.iter().map(|s| view! { <span class="badge">{s.as_str()}</span> }).collect_view()}
                        {p.frameworks.iter().map(|f| view! { <span class="badge subtle">{f.clone()}</span> }).collect_view()}
                        {p.port.map(|port| view! { <span class="badge subtle">{format!("port {port}")}</span> })}
                    </p>
                    {(!p.errors.is_empty())
                        .then(|| {
                            view! {
                                <div class="callout warn" data-testid="project-errors">
                                    <strong>"Problems found while detecting"</strong>
                                    <ul>{p.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                                </div>
                            }
                        })}
                    <ProjectActions project=p.clone() version />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        {move || {
            id.get()
                .map(|id| {
                    view! {
                        <nav class="tabs" role="tablist" aria-label="Project sections" data-testid="project-tabs">
                            {Tab::ALL
                                .into_iter()
                                .map(|t| {
                                    view! {
                                        <a
                                            role="tab"
                                            href=t.href(id)
                                            data-tab=t.as_str()
                                            class="tab"
                                            class:active=move || tab.get() == t
                                            aria-selected=move || (tab.get() == t).to_string()
                                        >
                                            {t.label()}
                                        </a>
                                    }
                                })
                                .collect_view()}
                        </nav>
                    }
                })
        }}
        // Keyed on the project and the tab only: reloading the project leaves the panels alone.
        {move || {
            let Some(id) = id.get() else { return ().into_any() };
            match tab.get() {
                Tab::Overview => view! { <overview::OverviewTab id project version /> }.into_any(),
                Tab::Services => view! { <services::ServicesPanel project_id=id /> }.into_any(),
                Tab::Pipelines => view! { <pipelines::PipelinesTab project_id=id /> }.into_any(),
                Tab::Deployments => view! { <deployments::DeploymentsTab project_id=id /> }.into_any(),
                Tab::Backups => view! { <backups::BackupsTab project_id=id /> }.into_any(),
                Tab::Environments => view! { <environments::EnvironmentsPanel project_id=id /> }.into_any(),
                Tab::Council => view! { <council::CouncilTab id /> }.into_any(),
            }
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_round_trip_through_the_url_and_default_to_the_overview() {
        for t in Tab::ALL {
            assert_eq!(Tab::parse(Some(t.as_str())), t);
        }
        assert_eq!(Tab::parse(None), Tab::Overview);
        assert_eq!(Tab::parse(Some("nope")), Tab::Overview);
        assert_eq!(Tab::Services.href(7), "/projects/7?tab=services");
        assert_eq!(Tab::Overview.href(7), "/projects/7");
    }
}
