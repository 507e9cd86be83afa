//! The Deployments page (`g e`): the latest deployments across projects, live. A project's own
//! deployments (deploy, watch the steps, roll back, pin, compare releases) are a tab of the
//! project page; both show deployments with [`DeploymentRow`] and steps with [`Steps`].

use crate::api::deployments::recent_deployments;
use crate::components::browser::ClientOnly;
use crate::models::deployments::{DeployStep, DeploymentInfo, RecentDeploymentsRequest};
use crate::models::events::{Event, ServerMessage};
use leptos::prelude::*;

/// The badge class of a deployment status.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" => "badge ok",
        "failed" | "rolled_back" => "badge danger",
        "running" => "badge running",
        _ => "badge subtle",
    }
}

/// `2026-12-06T08:18:46.68+00:00` → `2026-12-06 08:18:46`.
pub fn when(at: &str) -> String {
    at.get(..19).unwrap_or(at).replace('T', " ")
}

/// A deployment as a table row: what, its status and why, who, when.
#[component]
pub fn DeploymentRow(
    /// The deployment.
    d: DeploymentInfo,
    /// Show the project's name.
    #[prop(optional)]
    with_project: bool,
) -> impl IntoView {
    let status = d.status.as_str();
    let what = match (d.kind.as_str(), d.rollback_of) {
        ("rollback", Some(of)) => format!("rollback to release {} (of #{of})", d.release),
        ("rollback", None) => format!("rollback to release {}", d.release),
        _ => format!("release {}", d.release),
    };
    view! {
        <tr data-testid="deployment-row" data-status=status data-kind=d.kind.clone()>
            <td>{format!("#{}", d.id)}</td>
            {with_project.then(|| view! {
                <td><a href=format!("/projects/{}?tab=deployments", d.project_id)>{d.project.clone()}</a></td>
            })}
            <td>{what}</td>
            <td>
                <span class=status_class(status) data-testid="deployment-status">{status.replace('_', " ")}</span>
                {d.reason.clone().map(|r| view! { <div class="muted small" data-testid="deployment-reason">{r}</div> })}
            </td>
            <td>{d.strategy.replace('_', "-")}</td>
            <td>{d.triggered_by.clone().unwrap_or_else(|| "Optimus".into())}</td>
            <td>{when(&d.created_at)}</td>
        </tr>
    }
}

/// A table of deployments, newest first.
#[component]
pub fn DeploymentsTable(
    /// The deployments.
    list: Vec<DeploymentInfo>,
    /// Show each one's project.
    #[prop(optional)]
    with_project: bool,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted" data-testid="no-deployments">"No deployments yet."</p> }
            .into_any();
    }
    view! {
        <table class="table" data-testid="deployments">
            <thead>
                <tr>
                    <th>"#"</th>
                    {with_project.then(|| view! { <th>"Project"</th> })}
                    <th>"What"</th>
                    <th>"Status"</th>
                    <th>"Strategy"</th>
                    <th>"By"</th>
                    <th>"When"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|d| view! { <DeploymentRow d with_project /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A deployment's steps, as they go.
#[component]
pub fn Steps(
    /// The steps in order.
    steps: Vec<DeployStep>,
) -> impl IntoView {
    view! {
        <ol class="deploy-steps" data-testid="deploy-steps">
            {steps
                .into_iter()
                .map(|s| {
                    let mark = match s.status.as_str() {
                        "done" => "✓",
                        "failed" => "✗",
                        "running" => "…",
                        _ => "·",
                    };
                    view! {
                        <li data-testid="deploy-step" data-status=s.status.clone()>
                            <span class=format!("step-mark {}", s.status)>{mark}</span>
                            " "
                            {s.name.clone()}
                            {s.detail.clone().map(|d| view! { <span class="muted">{format!(" — {d}")}</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// The Deployments page.
#[component]
pub fn DeploymentsPage() -> impl IntoView {
    view! {
        <h1>"Deployments"</h1>
        <p class="muted">"Deployments and rollbacks across every project, live."</p>
        <ClientOnly fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <DeploymentsBody />
        </ClientOnly>
    }
}

#[component]
fn DeploymentsBody() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        recent_deployments(RecentDeploymentsRequest { limit: Some(50) })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["deployments"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if matches!(envelope.event, Event::DeploymentChanged { step: None, .. }) {
                    version.update(|v| *v += 1);
                }
            }
        });
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                list.get().map(|r| match r {
                    Ok(list) => view! { <DeploymentsTable list with_project=true /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
    }
}
