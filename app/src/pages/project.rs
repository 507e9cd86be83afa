//! One project's detected facts, commands, git summary, components and problems.

use crate::api::catalog::{
    archive_project, delete_project, favorite_project, get_dependencies, get_project,
    list_projects, project_activity, set_dependencies, update_project, write_descriptor,
};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{
    ActivityQuery, ProjectFlagRequest, ProjectInfo, ProjectQuery, SetDependenciesRequest,
    UpdateProjectRequest, LIFECYCLES,
};
use crate::models::events::{Event, ServerMessage};
use crate::models::tokens::IdRequest;
use crate::models::Operation;
use crate::pages::error::ErrorPage;
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Favorite, archive, delete and the edit form; hidden from viewers.
#[component]
fn ProjectActions(
    /// The project.
    project: ProjectInfo,
    /// Bumped to reload the page's data.
    version: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    let can_edit = use_context::<Me>().is_some_and(|m| Operation::EditProjects.allowed_for(m.role));
    let id = project.id;
    let favorite = project.favorite;
    let archived = project.archived;
    let confirm_delete = RwSignal::new(false);
    let name = RwSignal::new(project.name.clone());
    let description = RwSignal::new(project.description.clone().unwrap_or_default());
    let tags = RwSignal::new(project.tags.join(", "));
    let owner = RwSignal::new(project.owner.clone().unwrap_or_default());
    let lifecycle = RwSignal::new(project.lifecycle.clone().unwrap_or_default());
    let after = move |r: Result<(), crate::AppError>, ok: &'static str| {
        match r {
            Ok(()) => toasts.info(ok),
            Err(e) => toasts.error(e.to_string()),
        }
        version.update(|v| *v += 1);
    };
    let toggle_favorite = move |_| {
        leptos::task::spawn_local(async move {
            after(
                favorite_project(ProjectFlagRequest {
                    id,
                    value: !favorite,
                })
                .await
                .map(|_| ()),
                "Saved",
            );
        });
    };
    let toggle_archive = move |_| {
        leptos::task::spawn_local(async move {
            after(
                archive_project(ProjectFlagRequest {
                    id,
                    value: !archived,
                })
                .await
                .map(|_| ()),
                if archived { "Unarchived" } else { "Archived" },
            );
        });
    };
    let remove = move |_| {
        if !confirm_delete.get_untracked() {
            confirm_delete.set(true);
            return;
        }
        leptos::task::spawn_local(async move {
            match delete_project(IdRequest { id }).await {
                Ok(()) => {
                    toasts.info("Removed from the catalog; the files are untouched");
                    let _ = window().location().set_href("/projects");
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let write_file = move |_| {
        leptos::task::spawn_local(async move {
            match write_descriptor(IdRequest { id }).await {
                Ok(w) => toasts.info(format!("Wrote {}", w.path)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = UpdateProjectRequest {
            id,
            name: Some(name.get_untracked()),
            description: Some(description.get_untracked()),
            tags: Some(
                tags.get_untracked()
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            owner: Some(owner.get_untracked()),
            lifecycle: Some(lifecycle.get_untracked()),
            commands: None,
        };
        leptos::task::spawn_local(async move {
            after(update_project(request).await.map(|_| ()), "Saved");
        });
    };
    view! {
        <Show when=move || can_edit>
            <div class="inline-form" data-testid="project-actions">
                <button class="button" data-testid="favorite" on:click=toggle_favorite>
                    {if favorite { "★ Unfavorite" } else { "☆ Favorite" }}
                </button>
                <button class="button" on:click=toggle_archive>
                    {if archived { "Unarchive" } else { "Archive" }}
                </button>
                <button class="button" title="Write this project's facts to a new optimus.toml in its folder" on:click=write_file>
                    "Write optimus.toml"
                </button>
                <button class="button danger" on:click=remove>
                    {move || if confirm_delete.get() { "Click again to remove from the catalog" } else { "Remove from catalog" }}
                </button>
            </div>
            <details id="edit" class="card">
                <summary>"Edit"</summary>
                <form class="edit-form" data-testid="edit-project" on:submit=save>
                    <label>"Name (empty: detected name)" <input name="name" bind:value=name /></label>
                    <label>"Description" <input name="description" bind:value=description /></label>
                    <label>"Tags, comma separated" <input name="tags" bind:value=tags /></label>
                    <label>"Owner" <input name="owner" bind:value=owner /></label>
                    <label>
                        "Lifecycle"
                        <select name="lifecycle" prop:value=move || lifecycle.get() on:change=move |ev| lifecycle.set(event_target_value(&ev))>
                            <option value="">"—"</option>
                            {LIFECYCLES.iter().map(|l| view! { <option value=*l>{*l}</option> }).collect_view()}
                        </select>
                    </label>
                    <button class="button primary" type="submit">
                        "Save"
                    </button>
                </form>
            </details>
        </Show>
    }
}

/// What the project depends on and what depends on it; editors add and remove dependencies.
#[component]
fn Dependencies(
    /// The project.
    id: i64,
    /// Bumped when the page's data reloads.
    version: RwSignal<u32>,
) -> impl IntoView {
    let toasts = use_toasts();
    let can_edit = use_context::<Me>().is_some_and(|m| Operation::EditProjects.allowed_for(m.role));
    let deps = Resource::new(
        move || version.get(),
        move |_| get_dependencies(IdRequest { id }),
    );
    let candidates = Resource::new(
        || (),
        |_| {
            list_projects(ProjectQuery {
                limit: Some(200),
                ..Default::default()
            })
        },
    );
    let save = move |next: Vec<i64>| {
        leptos::task::spawn_local(async move {
            if let Err(e) = set_dependencies(SetDependenciesRequest {
                id,
                depends_on: next,
            })
            .await
            {
                toasts.error(e.to_string());
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <h2>"Dependencies"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(d) = deps.await else { return ().into_any() };
                let current: Vec<i64> = d.depends_on.iter().map(|r| r.id).collect();
                let options = candidates
                    .await
                    .map(|p| p.items.into_iter().filter(|c| c.id != id && !current.contains(&c.id)).collect::<Vec<_>>())
                    .unwrap_or_default();
                let add_from = current.clone();
                view! {
                    <div data-testid="dependencies">
                        <p>
                            "Depends on: "
                            {if d.depends_on.is_empty() { Some("nothing") } else { None }}
                            {d
                                .depends_on
                                .iter()
                                .map(|r| {
                                    let rid = r.id;
                                    let rest: Vec<i64> = current.iter().copied().filter(|x| *x != rid).collect();
                                    view! {
                                        <span class="badge">
                                            <a href=format!("/projects/{rid}")>{r.name.clone()}</a>
                                            <Show when=move || can_edit>
                                                <button class="link" aria-label="Remove dependency" on:click={
                                                    let rest = rest.clone();
                                                    move |_| save(rest.clone())
                                                }>"×"</button>
                                            </Show>
                                        </span>
                                    }
                                })
                                .collect_view()}
                        </p>
                        <p>
                            "Used by: "
                            {if d.dependents.is_empty() { Some("nothing") } else { None }}
                            {d.dependents.iter().map(|r| view! { <a class="badge" href=format!("/projects/{}", r.id)>{r.name.clone()}</a> }).collect_view()}
                        </p>
                        <Show when=move || can_edit>
                            <select
                                name="add-dependency"
                                aria-label="Add a dependency"
                                on:change={
                                    let add_from = add_from.clone();
                                    move |ev| {
                                        if let Ok(new) = event_target_value(&ev).parse::<i64>() {
                                            let mut next = add_from.clone();
                                            next.push(new);
                                            save(next);
                                        }
                                    }
                                }
                            >
                                <option value="">"Add a dependency…"</option>
                                {options.iter().map(|c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> }).collect_view()}
                            </select>
                        </Show>
                    </div>
                }
                    .into_any()
            })}
        </Transition>
    }
}

/// The project's timeline, refreshed live when the project changes.
#[component]
fn ActivityTimeline(
    /// The project.
    id: i64,
    /// Bumped when the page's data reloads.
    version: RwSignal<u32>,
) -> impl IntoView {
    let entries = Resource::new(
        move || version.get(),
        move |_| {
            project_activity(ActivityQuery {
                id,
                cursor: None,
                limit: Some(50),
            })
        },
    );
    Effect::new(move |_| {
        crate::components::live::subscribe(&["catalog"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if matches!(envelope.event, Event::ProjectChanged { id: changed, .. } if changed == id)
                {
                    version.update(|v| *v += 1);
                }
            }
        });
    });
    view! {
        <h2>"Activity"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                entries
                    .await
                    .map(|page| {
                        view! {
                            <ol class="timeline" data-testid="activity">
                                {page
                                    .items
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <li>
                                                <time>{e.at.format("%Y-%m-%d %H:%M").to_string()}</time>
                                                <span class="badge subtle">{e.kind}</span>
                                                <span>{e.summary}</span>
                                                {e.actor.map(|a| view! { <span class="muted small">{format!(" — {a}")}</span> })}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                        }
                    })
                    .ok()
            })}
        </Transition>
    }
}

/// The project detail page.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
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
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
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
                            <crate::components::services::ServicesPanel project_id=p.id />
                            <crate::components::environments::EnvironmentsPanel project_id=p.id />
                            <h2>"Commands"</h2>
                            <table class="table" data-testid="commands">
                                <thead>
                                    <tr>
                                        <th>"For"</th>
                                        <th>"Command"</th>
                                        <th>"From"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.commands
                                        .iter()
                                        .map(|c| {
                                            view! {
                                                <tr>
                                                    <td>{format!("{:?}", c.kind).to_lowercase()}</td>
                                                    <td>
                                                        <code>{c.command.clone()}</code>
                                                    </td>
                                                    <td class="muted">{c.source.clone()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <h2>"Git"</h2>
                            {match p.git.clone() {
                                None => view! { <p class="muted">"Not a git repository."</p> }.into_any(),
                                Some(g) => {
                                    view! {
                                        <table class="table" data-testid="git">
                                            <tbody>
                                                <tr>
                                                    <th>"Branch"</th>
                                                    <td>{g.branch.clone().unwrap_or_else(|| "(detached)".into())}</td>
                                                </tr>
                                                <tr>
                                                    <th>"Upstream"</th>
                                                    <td>
                                                        {g.upstream.clone().unwrap_or_else(|| "none".into())}
                                                        {format!(" · {} ahead, {} behind", g.ahead, g.behind)}
                                                    </td>
                                                </tr>
                                                <tr>
                                                    <th>"Working tree"</th>
                                                    <td>{format!("{} staged, {} modified, {} untracked", g.staged, g.modified, g.untracked)}</td>
                                                </tr>
                                                <tr>
                                                    <th>"Last commit"</th>
                                                    <td>
                                                        {g.last_commit
                                                            .clone()
                                                            .map(|c| format!("{} — {} ({}, {})", &c.hash[..c.hash.len().min(10)], c.subject, c.author, c.time.format("%Y-%m-%d")))
                                                            .unwrap_or_else(|| "none".into())}
                                                    </td>
                                                </tr>
                                                <tr>
                                                    <th>"Remote"</th>
                                                    <td>{g.remote_url.clone().unwrap_or_else(|| "none".into())}</td>
                                                </tr>
                                            </tbody>
                                        </table>
                                    }
                                        .into_any()
                                }
                            }}
                            // Drawn after hydration: server-rendered, these two failed to
                            // hydrate on quick reloads (tachys expected a marker node).
                            <crate::components::browser::ClientOnly>
                                <Dependencies id=p.id version />
                                <ActivityTimeline id=p.id version />
                            </crate::components::browser::ClientOnly>
                            {(!p.components.is_empty())
                                .then(|| {
                                    view! {
                                        <h2>"Components"</h2>
                                        <ul data-testid="components">
                                            {p.components
                                                .iter()
                                                .map(|c| {
                                                    let stacks = c.stacks.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                                                    view! {
                                                        <li>
                                                            <code>{c.path.clone()}</code>
                                                            {format!(" — {} ({stacks})", c.name)}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                })}
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
