//! A project's Deployments tab: the current release, deploy and roll back (also `D` and `B`),
//! the running deployment's steps live, the history (deploys, automatic and manual rollbacks
//! with their reasons), the kept releases (pin, roll back to one) and the diff between two.

use crate::api::deployments::{
    deploy, diff_releases, list_deployments, list_releases, pin_release, rollback,
};
use crate::components::browser::ClientOnly;
use crate::components::toasts::{use_toasts, Toasts};
use crate::models::auth::Me;
use crate::models::deployments::{
    DeployRequest, DeploymentInfo, PinReleaseRequest, ProjectDeploymentsRequest, ReleaseDiff,
    ReleaseDiffRequest, ReleaseInfo, RollbackRequest,
};
use crate::models::events::{Event, ServerMessage};
use crate::models::Operation;
use crate::pages::deployments::{status_class, when, DeploymentsTable, Steps};
use leptos::prelude::*;

/// The tab, rendered in the browser only (its lists are fetched there).
#[component]
pub fn DeploymentsTab(
    /// The project.
    project_id: i64,
) -> impl IntoView {
    view! {
        <ClientOnly fallback=|| view! { <p class="muted">"Loading deployments…"</p> }>
            <DeploymentsBody project_id />
        </ClientOnly>
    }
}

async fn start(toasts: Toasts, project_id: i64, release: Option<i64>, back: bool) {
    let asked = if back {
        rollback(RollbackRequest {
            project_id,
            release,
        })
        .await
    } else {
        deploy(DeployRequest {
            project_id,
            release,
            ..Default::default()
        })
        .await
    };
    match asked {
        Ok(d) if back => toasts.info(format!("Rolling back to release {}", d.release)),
        Ok(d) => toasts.info(format!("Deploying release {}", d.release)),
        Err(e) => toasts.error(e.to_string()),
    }
}

#[component]
fn DeploymentsBody(project_id: i64) -> impl IntoView {
    let toasts = use_toasts();
    let can_deploy = use_context::<Me>().is_some_and(|m| Operation::Deploy.allowed_for(m.role));
    let version = RwSignal::new(0u32);
    let deployments = LocalResource::new(move || {
        version.track();
        list_deployments(ProjectDeploymentsRequest { project_id })
    });
    let releases = LocalResource::new(move || {
        version.track();
        list_releases(ProjectDeploymentsRequest { project_id })
    });
    Effect::new(move |_| {
        crate::components::live::subscribe(&["deployments"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::DeploymentChanged { project_id: p, .. } = envelope.event {
                    if p == project_id {
                        version.update(|v| *v += 1);
                    }
                }
            }
        });
    });
    // `D` deploys, `B` rolls back to the release before (while this tab is shown).
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if !can_deploy
                || crate::components::layout::is_typing(&ev)
                || ev.ctrl_key()
                || ev.meta_key()
                || ev.alt_key()
            {
                return;
            }
            match ev.key().as_str() {
                "D" => leptos::task::spawn_local(start(toasts, project_id, None, false)),
                "B" => leptos::task::spawn_local(start(toasts, project_id, None, true)),
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    });
    view! {
        <h2>"Deployments"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading deployments…"</p> }>
            {move || {
                let current = releases
                    .get()
                    .and_then(|r| r.ok())
                    .and_then(|l| l.into_iter().find(|r| r.current));
                view! {
                    <div class="deploy-head" data-testid="deploy-head">
                        {match current {
                            Some(r) => view! {
                                <p data-testid="current-release">
                                    <strong>{format!("Release {} serves", r.number)}</strong>
                                    {r.commit_message.clone().map(|m| view! { <span class="muted">{format!(" — {m}")}</span> })}
                                </p>
                            }.into_any(),
                            None => view! { <p class="muted" data-testid="current-release">"Nothing deployed yet."</p> }.into_any(),
                        }}
                        {can_deploy.then(|| view! {
                            <div class="actions">
                                <button class="button primary" data-testid="deploy" title="Deploy the project's files as a new release (D)"
                                    on:click=move |_| leptos::task::spawn_local(start(toasts, project_id, None, false))>
                                    "Deploy"
                                </button>
                                <button class="button" data-testid="rollback" title="Roll back to the release before (B)"
                                    on:click=move |_| leptos::task::spawn_local(start(toasts, project_id, None, true))>
                                    "Roll back"
                                </button>
                            </div>
                        })}
                    </div>
                }
            }}
            {move || {
                deployments.get().map(|r| match r {
                    Ok(list) => view! { <Latest list=list.clone() /> <h3>"History"</h3> <DeploymentsTable list /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
            <h3>"Releases"</h3>
            {move || {
                releases.get().map(|r| match r {
                    Ok(list) => view! { <Releases list project_id can_deploy version /> <Compare list=list_numbers(&releases) project_id /> }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Transition>
    }
}

fn list_numbers(releases: &LocalResource<Result<Vec<ReleaseInfo>, crate::AppError>>) -> Vec<i64> {
    releases
        .get()
        .and_then(|r| r.ok())
        .map(|l| l.iter().map(|r| r.number).collect())
        .unwrap_or_default()
}

/// The newest deployment with its steps (live while it runs).
#[component]
fn Latest(list: Vec<DeploymentInfo>) -> impl IntoView {
    let Some(d) = list.into_iter().next() else {
        return ().into_any();
    };
    let status = d.status.as_str();
    view! {
        <section class="card deploy-latest" data-testid="latest-deployment" data-status=status>
            <p>
                <strong>{format!("#{} · release {}", d.id, d.release)}</strong>
                " "
                <span class=status_class(status)>{status.replace('_', " ")}</span>
                {d.watch_until.clone().map(|w| view! { <span class="muted">{format!(" watching until {}", when(&w))}</span> })}
            </p>
            {d.reason.clone().map(|r| view! { <p class="muted">{r}</p> })}
            {d.council.clone().map(|c| {
                let option = c.option.clone().unwrap_or_else(|| "no consensus".into()).replace('_', " ");
                let outcome = match &c.outcome {
                    Some(o) => format!(" · outcome recorded: {}", o.replace('_', " ")),
                    None => " · outcome recorded when it ends".into(),
                };
                view! {
                    <p class="deploy-council" data-testid="council-verdict">
                        "Council of Minds: " <strong>{option}</strong>
                        {format!(" at {:.0} % confidence{outcome} (deliberation #{})", c.confidence * 100.0, c.deliberation_id)}
                    </p>
                }
            })}
            <Steps steps=d.steps />
        </section>
    }
    .into_any()
}

/// The kept releases: pin, roll back to one.
#[component]
fn Releases(
    list: Vec<ReleaseInfo>,
    project_id: i64,
    can_deploy: bool,
    version: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    if list.is_empty() {
        return view! { <p class="muted">"No releases yet: the first deployment makes one."</p> }
            .into_any();
    }
    let pin = move |release: i64, pinned: bool| {
        leptos::task::spawn_local(async move {
            match pin_release(PinReleaseRequest {
                project_id,
                release,
                pinned,
            })
            .await
            {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <table class="table" data-testid="releases">
            <thead>
                <tr><th>"Release"</th><th>"Source"</th><th>"Services"</th><th>"Size"</th><th>"Made"</th><th></th></tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|r| {
                        let n = r.number;
                        let source = match (&r.commit, &r.commit_message) {
                            (Some(c), m) => format!("{} {}", c.get(..8).unwrap_or(c), m.clone().unwrap_or_default()),
                            (None, _) if r.source == "pipeline_run" => format!("run {}", r.pipeline_run_id.unwrap_or_default()),
                            _ => "working folder".into(),
                        };
                        view! {
                            <tr data-testid="release-row" data-number=n>
                                <td>
                                    {format!("{n}")}
                                    {r.current.then(|| view! { <span class="badge ok">"current"</span> })}
                                    {r.pinned.then(|| view! { <span class="badge subtle">"pinned"</span> })}
                                    {r.pruned.then(|| view! { <span class="badge subtle">"pruned"</span> })}
                                </td>
                                <td>{source}</td>
                                <td>{r.services.join(", ")}</td>
                                <td>{format!("{} files, {} KiB", r.files, r.bytes / 1024)}</td>
                                <td>{when(&r.created_at)}</td>
                                <td class="actions">
                                    {(can_deploy && !r.pruned).then(|| view! {
                                        <button class="button" data-testid="pin" on:click=move |_| pin(n, !r.pinned)>
                                            {if r.pinned { "Unpin" } else { "Pin" }}
                                        </button>
                                    })}
                                    {(can_deploy && !r.pruned && !r.current).then(|| view! {
                                        <button class="button" data-testid="rollback-to" on:click=move |_| leptos::task::spawn_local(start(toasts, project_id, Some(n), true))>
                                            "Roll back to this"
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Picks two releases and shows what changed between them.
#[component]
fn Compare(list: Vec<i64>, project_id: i64) -> impl IntoView {
    if list.len() < 2 {
        return ().into_any();
    }
    let to = RwSignal::new(list[0]);
    let from = RwSignal::new(list[1]);
    let shown = RwSignal::new(None::<Result<ReleaseDiff, String>>);
    let options = move |selected: RwSignal<i64>| {
        list.iter()
            .map(|n| {
                let n = *n;
                view! { <option value=n.to_string() selected=move || selected.get() == n>{format!("release {n}")}</option> }
            })
            .collect_view()
    };
    let (from_options, to_options) = (options(from), options(to));
    let compare = move |_| {
        leptos::task::spawn_local(async move {
            let asked = diff_releases(ReleaseDiffRequest {
                project_id,
                from: from.get_untracked(),
                to: to.get_untracked(),
            })
            .await;
            shown.set(Some(asked.map_err(|e| e.to_string())));
        });
    };
    view! {
        <div class="compare" data-testid="compare">
            <label>"From " <select name="from" on:change=move |ev| from.set(event_target_value(&ev).parse().unwrap_or_default())>{from_options}</select></label>
            <label>" to " <select name="to" on:change=move |ev| to.set(event_target_value(&ev).parse().unwrap_or_default())>{to_options}</select></label>
            " "
            <button class="button" data-testid="compare-releases" on:click=compare>"Compare"</button>
            {move || shown.get().map(|r| match r {
                Ok(d) => view! { <DiffView d /> }.into_any(),
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

#[component]
fn DiffView(d: ReleaseDiff) -> impl IntoView {
    let list = |title: &'static str, items: Vec<String>| {
        (!items.is_empty()).then(|| {
            view! {
                <p><strong>{title}</strong></p>
                <ul>{items.into_iter().map(|i| view! { <li><code>{i}</code></li> }).collect_view()}</ul>
            }
        })
    };
    let nothing = d.commits.is_empty()
        && d.services.is_empty()
        && d.env_added.is_empty()
        && d.env_removed.is_empty()
        && d.env_changed.is_empty();
    view! {
        <div class="diff" data-testid="release-diff">
            <p class="muted">{format!("Release {} → {}", d.from, d.to)}</p>
            {nothing.then(|| view! { <p>"No differences in commits, services or environment keys."</p> })}
            {list("Commits", d.commits)}
            {list("Services", d.services)}
            {list("Environment keys added", d.env_added)}
            {list("Environment keys removed", d.env_removed)}
            {list("Environment keys changed", d.env_changed)}
        </div>
    }
}
