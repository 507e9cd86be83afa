//! The project overview: workspaces and their scans, search, stack filter, and the card grid.

use crate::api::catalog::{
    add_workspace, count_project_facets, favorite_project, list_projects, list_workspaces,
    scan_workspace,
};
use crate::components::project_card::ProjectCard;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{AddWorkspaceRequest, ProjectFlagRequest, ProjectQuery, Stack};
use crate::models::events::{Event, ServerMessage};
use crate::models::page::PageRequest;
use crate::models::tokens::IdRequest;
use crate::models::Operation;
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use std::time::Duration;

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URL of the project list with these filters.
pub fn projects_url(search: &str, stack: &str, git: &str) -> String {
    let mut parts = Vec::new();
    if !search.is_empty() {
        parts.push(format!("q={}", encode(search)));
    }
    if !stack.is_empty() {
        parts.push(format!("stack={}", encode(stack)));
    }
    if !git.is_empty() {
        parts.push(format!("git={}", encode(git)));
    }
    if parts.is_empty() {
        "/projects".into()
    } else {
        format!("/projects?{}", parts.join("&"))
    }
}

/// Lists workspaces and projects; filters live in the URL so they can be shared.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let toasts = use_toasts();
    let can_manage =
        use_context::<Me>().is_some_and(|m| Operation::ManageWorkspaces.allowed_for(m.role));
    let can_edit = use_context::<Me>().is_some_and(|m| Operation::EditProjects.allowed_for(m.role));
    let query = use_query_map();
    let navigate = use_navigate();
    let search = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default()));
    let stack = Memo::new(move |_| query.with(|q| q.get("stack").unwrap_or_default()));
    let git = Memo::new(move |_| query.with(|q| q.get("git").unwrap_or_default()));
    let dense = RwSignal::new(false);
    Effect::new(move |_| {
        dense.set(
            crate::components::browser::load("optimus-projects-view").as_deref() == Some("list"),
        )
    });
    let version = RwSignal::new(0u32);
    let workspaces = Resource::new(
        move || version.get(),
        |_| {
            list_workspaces(PageRequest {
                cursor: None,
                limit: Some(200),
            })
        },
    );
    let query_for = |search: String, stack: String, git: String| ProjectQuery {
        search: Some(search),
        stack: (!stack.is_empty()).then_some(stack),
        git: (!git.is_empty()).then_some(git),
        cursor: None,
        limit: Some(200),
        ..Default::default()
    };
    let projects = Resource::new(
        move || (search.get(), stack.get(), git.get(), version.get()),
        move |(search, stack, git, _)| list_projects(query_for(search, stack, git)),
    );
    let facets = Resource::new(
        move || (search.get(), git.get(), version.get()),
        move |(search, git, _)| count_project_facets(query_for(search, String::new(), git)),
    );
    // Live: scan progress and discovered projects arrive over the event stream; refreshes are
    // coalesced to at most one every 300 ms.
    let live_progress = RwSignal::new(None::<(i64, u32, u32)>);
    let refresh_pending = StoredValue::new(false);
    Effect::new(move |_| {
        crate::components::live::subscribe(&["catalog"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::ScanProgress {
                    workspace_id,
                    folders_scanned,
                    projects_found,
                    ..
                } = envelope.event
                {
                    live_progress.set(Some((workspace_id, folders_scanned, projects_found)));
                }
                if !refresh_pending.get_value() {
                    refresh_pending.set_value(true);
                    set_timeout(
                        move || {
                            refresh_pending.set_value(false);
                            version.update(|v| *v += 1);
                        },
                        Duration::from_millis(300),
                    );
                }
            }
        });
    });
    // Fallback when the stream is unavailable: while a scan runs, refresh every 2 s.
    Effect::new(move |_| {
        let running = workspaces
            .get()
            .and_then(Result::ok)
            .is_some_and(|p| p.items.iter().any(|w| w.scan_state == "running"));
        if running {
            set_timeout(move || version.update(|v| *v += 1), Duration::from_secs(2));
        }
    });

    let path = RwSignal::new(String::new());
    let add = Action::new(|r: &AddWorkspaceRequest| {
        let r = r.clone();
        async move { add_workspace(r).await }
    });
    Effect::new(move |_| match add.value().get() {
        Some(Ok(w)) => {
            toasts.info(format!("Scanning {}", w.path));
            path.set(String::new());
            version.update(|v| *v += 1);
        }
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let rescan = move |id: i64| {
        leptos::task::spawn_local(async move {
            if let Err(e) = scan_workspace(IdRequest { id }).await {
                toasts.error(e.to_string());
            }
            version.update(|v| *v += 1);
        });
    };

    let selected = RwSignal::new(0usize);
    let search_ref = NodeRef::<leptos::html::Input>::new();
    let set_filters = {
        let navigate = navigate.clone();
        move |q: String, s: String, g: String| {
            selected.set(0);
            navigate(
                &projects_url(&q, &s, &g),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    let set_search = {
        let set_filters = set_filters.clone();
        move |q: String| set_filters(q, stack.get_untracked(), git.get_untracked())
    };
    let set_stack = {
        let set_filters = set_filters.clone();
        move |s: String| set_filters(search.get_untracked(), s, git.get_untracked())
    };
    let set_git = move |g: String| set_filters(search.get_untracked(), stack.get_untracked(), g);

    // Keyboard: `/` search, `j`/`k` move, Enter open.
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            let navigate = navigate.clone();
            let handle = window_event_listener(leptos::ev::keydown, move |ev| {
                let typing = crate::components::layout::is_typing(&ev);
                if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                    if typing && ev.key() == "Escape" {
                        if let Some(input) = search_ref.get_untracked() {
                            let _ = input.blur();
                        }
                    }
                    return;
                }
                let count = projects
                    .get_untracked()
                    .and_then(Result::ok)
                    .map(|p| p.items.len())
                    .unwrap_or(0);
                match ev.key().as_str() {
                    "/" => {
                        ev.prevent_default();
                        if let Some(input) = search_ref.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                    "j" if count > 0 => selected.update(|s| *s = (*s + 1).min(count - 1)),
                    "k" => selected.update(|s| *s = s.saturating_sub(1)),
                    "f" if can_edit => {
                        let target = projects.get_untracked().and_then(Result::ok).and_then(|p| {
                            p.items
                                .get(selected.get_untracked())
                                .map(|p| (p.id, !p.favorite))
                        });
                        if let Some((id, value)) = target {
                            leptos::task::spawn_local(async move {
                                if let Err(e) =
                                    favorite_project(ProjectFlagRequest { id, value }).await
                                {
                                    toasts.error(e.to_string());
                                }
                                version.update(|v| *v += 1);
                            });
                        }
                    }
                    "e" => {
                        let id = projects
                            .get_untracked()
                            .and_then(Result::ok)
                            .and_then(|p| p.items.get(selected.get_untracked()).map(|p| p.id));
                        if let Some(id) = id {
                            navigate(&format!("/projects/{id}#edit"), Default::default());
                        }
                    }
                    "Enter" => {
                        let id = projects
                            .get_untracked()
                            .and_then(Result::ok)
                            .and_then(|p| p.items.get(selected.get_untracked()).map(|p| p.id));
                        if let Some(id) = id {
                            navigate(&format!("/projects/{id}"), Default::default());
                        }
                    }
                    _ => {}
                }
            });
            on_cleanup(move || handle.remove());
        });
    }

    view! {
        <Title text="Projects · Optimus" />
        <h1>"Projects"</h1>
        <Show when=move || can_manage>
            <form
                class="inline-form"
                data-testid="add-workspace"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add.dispatch(AddWorkspaceRequest { path: path.get_untracked() });
                }
            >
                <input name="path" placeholder="/home/you/code — a folder to scan for projects" required bind:value=path class="grow" />
                <button class="button primary" type="submit">
                    "Add workspace"
                </button>
            </form>
        </Show>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                workspaces
                    .await
                    .map(|page| {
                        page.items
                            .into_iter()
                            .map(|w| {
                                let id = w.id;
                                let running = w.scan_state == "running";
                                view! {
                                    <div class="workspace" data-testid="workspace" data-id=id.to_string() data-state=w.scan_state.clone()>
                                        <code>{w.path.clone()}</code>
                                        <span class="badge">{w.scan_state.clone()}</span>
                                        <Show when=move || running>
                                            <progress class="scan-progress" aria-label="Scan progress"></progress>
                                        </Show>
                                        <span class="muted small" data-testid="scan-counts">
                                            {move || match live_progress.get() {
                                                Some((ws, folders, found)) if ws == id && running => {
                                                    format!("{found} projects · {folders} folders so far")
                                                }
                                                _ => format!("{} projects · {} folders", w.projects_found, w.folders_scanned),
                                            }}
                                            {w.last_scan_ms.map(|ms| format!(" · {ms} ms"))}
                                        </span>
                                        {w.scan_error.clone().map(|e| view! { <span class="form-error">{e}</span> })}
                                        <Show when=move || can_manage && !running>
                                            <button class="button ghost" on:click=move |_| rescan(id)>
                                                "Rescan"
                                            </button>
                                        </Show>
                                    </div>
                                }
                            })
                            .collect_view()
                    })
                    .ok()
            })}
        </Transition>
        <div class="inline-form">
            <input
                node_ref=search_ref
                type="search"
                name="search"
                placeholder="Search projects (press /)"
                aria-label="Search projects"
                prop:value=move || search.get()
                on:input=move |ev| set_search(event_target_value(&ev))
                class="grow"
            />
            <select name="stack" aria-label="Stack" prop:value=move || stack.get() on:change=move |ev| set_stack(event_target_value(&ev))>
                <option value="">"All stacks"</option>
                {move || {
                    let counts = facets.get().and_then(Result::ok).map(|f| f.stacks).unwrap_or_default();
                    Stack::ALL
                        .iter()
                        .map(|s| {
                            let n = counts.get(s.as_str()).copied().unwrap_or(0);
                            view! { <option value=s.as_str()>{format!("{} ({n})", s.as_str())}</option> }
                        })
                        .collect_view()
                }}
            </select>
            <select name="git" aria-label="Git state" prop:value=move || git.get() on:change=move |ev| set_git(event_target_value(&ev))>
                <option value="">"Any git state"</option>
                <option value="dirty">
                    {move || format!("dirty ({})", facets.get().and_then(Result::ok).map(|f| f.dirty).unwrap_or(0))}
                </option>
                <option value="behind">
                    {move || format!("behind ({})", facets.get().and_then(Result::ok).map(|f| f.behind).unwrap_or(0))}
                </option>
                <option value="ahead">"ahead"</option>
                <option value="clean">"clean"</option>
                <option value="none">"not a repository"</option>
            </select>
            <button
                class="button ghost"
                data-testid="toggle-view"
                title="Switch between cards and a dense list"
                on:click=move |_| {
                    let next = !dense.get_untracked();
                    dense.set(next);
                    crate::components::browser::store("optimus-projects-view", if next { "list" } else { "grid" });
                }
            >
                {move || if dense.get() { "Cards" } else { "List" }}
            </button>
            <a
                class="button ghost"
                data-testid="export-csv"
                download
                href=move || format!("/api/v1/projects/export?format=csv&search={}&stack={}", encode(&search.get()), encode(&stack.get()))
            >
                "Export CSV"
            </a>
            <a
                class="button ghost"
                download
                href=move || format!("/api/v1/projects/export?format=json&search={}&stack={}", encode(&search.get()), encode(&stack.get()))
            >
                "JSON"
            </a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
            {move || Suspend::new(async move {
                match projects.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(page) if page.items.is_empty() => {
                        view! {
                            <p class="muted empty" data-testid="no-projects">
                                "No projects match. Add a workspace — a folder where your code lives — and Optimus will find every project in it."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(page) => {
                        view! {
                            <div class="cards" class:dense=move || dense.get() data-testid="project-grid">
                                {page
                                    .items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, p)| view! { <ProjectCard project=p selected=Signal::derive(move || selected.get() == i) /> })
                                    .collect_view()}
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_url() {
        assert_eq!(projects_url("", "", ""), "/projects");
        assert_eq!(
            projects_url("my app", "rust", ""),
            "/projects?q=my%20app&stack=rust"
        );
        assert_eq!(
            projects_url("a&b", "", "dirty"),
            "/projects?q=a%26b&git=dirty"
        );
    }
}
