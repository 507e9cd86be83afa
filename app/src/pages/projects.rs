//! The project overview: workspaces and their scans, search, stack filter, and the card grid.

use crate::api::catalog::{
    add_workspace, count_project_facets, favorite_project, list_projects, list_workspaces,
    scan_workspace,
};
use crate::components::project_card::ProjectCard;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{
    AddWorkspaceRequest, ProjectFlagRequest, ProjectInfo, ProjectQuery, ProjectSort, Stack,
};
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

/// The list filters and order, as kept in the URL so a view can be shared and the back button
/// works.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Search words.
    pub q: String,
    /// Stack id.
    pub stack: String,
    /// Git state.
    pub git: String,
    /// Tag.
    pub tag: String,
    /// `present` or `missing`.
    pub status: String,
    /// Favorites only.
    pub favorite: bool,
    /// Order (`name` when empty).
    pub sort: String,
}

impl Filters {
    /// The URL of the project list with these filters.
    pub fn url(&self) -> String {
        let query = self.query_string();
        if query.is_empty() {
            "/projects".into()
        } else {
            format!("/projects?{query}")
        }
    }

    /// The download link of the list with these filters (every page), in `format`.
    pub fn export_url(&self, format: &str) -> String {
        let query = self.query_string();
        if query.is_empty() {
            format!("/api/v1/projects/export?format={format}")
        } else {
            format!("/api/v1/projects/export?format={format}&{query}")
        }
    }

    /// The one encoding of the filters, shared by the page URL and the export link.
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("stack", &self.stack),
            ("git", &self.git),
            ("tag", &self.tag),
            ("status", &self.status),
            ("sort", &self.sort),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        if self.favorite {
            parts.push("favorite=1".into());
        }
        parts.join("&")
    }

    /// The API query for one page.
    fn query(&self, cursor: Option<String>, limit: u32) -> ProjectQuery {
        let some = |v: &String| (!v.is_empty()).then(|| v.clone());
        ProjectQuery {
            search: some(&self.q),
            stack: some(&self.stack),
            git: some(&self.git),
            tag: some(&self.tag),
            status: some(&self.status),
            favorite: self.favorite.then_some(true),
            sort: some(&self.sort),
            cursor,
            limit: Some(limit),
            ..Default::default()
        }
    }
}

/// Projects per page; more arrive with "Load more".
const PAGE: u32 = 100;

/// Lists workspaces and projects; filters live in the URL so they can be shared.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let toasts = use_toasts();
    let can_manage =
        use_context::<Me>().is_some_and(|m| Operation::ManageWorkspaces.allowed_for(m.role));
    let can_edit = use_context::<Me>().is_some_and(|m| Operation::EditProjects.allowed_for(m.role));
    let query = use_query_map();
    let navigate = use_navigate();
    let filters = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            Filters {
                q: get("q"),
                stack: get("stack"),
                git: get("git"),
                tag: get("tag"),
                status: get("status"),
                favorite: matches!(get("favorite").as_str(), "1" | "true"),
                sort: get("sort"),
            }
        })
    });
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
    let projects = Resource::new(
        move || (filters.get(), version.get()),
        move |(f, _)| list_projects(f.query(None, PAGE)),
    );
    // Facets ignore the stack and tag choices so the menus show what picking another would give.
    // Fetched in the browser only: the filter bar is not under a Suspense boundary, so a
    // server-side read would never be sent along with the page.
    let facets = LocalResource::new(move || {
        let f = filters.get();
        version.track();
        count_project_facets(
            Filters {
                stack: String::new(),
                tag: String::new(),
                ..f
            }
            .query(None, PAGE),
        )
    });
    // Pages after the first, appended by "Load more"; reset whenever the first page reloads.
    let more = RwSignal::new(Vec::<ProjectInfo>::new());
    let next_cursor = RwSignal::new(None::<String>);
    let first_len = RwSignal::new(0usize);
    Effect::new(move |_| {
        if let Some(Ok(page)) = projects.get() {
            first_len.set(page.items.len());
            next_cursor.set(page.next_cursor.clone());
            more.set(Vec::new());
        }
    });
    let loading_more = RwSignal::new(false);
    let load_more = move || {
        let Some(cursor) = next_cursor.get_untracked() else {
            return;
        };
        if loading_more.get_untracked() {
            return;
        }
        loading_more.set(true);
        let f = filters.get_untracked();
        leptos::task::spawn_local(async move {
            match list_projects(f.query(Some(cursor), PAGE)).await {
                Ok(page) => {
                    next_cursor.set(page.next_cursor);
                    more.update(|m| m.extend(page.items));
                }
                Err(e) => toasts.error(e.to_string()),
            }
            loading_more.set(false);
        });
    };
    // The project at a keyboard position, across the first page and the loaded ones.
    let project_at = move |i: usize| -> Option<(i64, bool)> {
        let first = projects.get_untracked().and_then(Result::ok)?;
        match first.items.get(i) {
            Some(p) => Some((p.id, p.favorite)),
            None => {
                more.with_untracked(|m| m.get(i - first.items.len()).map(|p| (p.id, p.favorite)))
            }
        }
    };
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
    // What the search box shows. It follows the URL only while the box is not being typed in:
    // typed characters arrive faster than navigations, and an older URL must not overwrite them.
    let search_text = RwSignal::new(filters.with_untracked(|f| f.q.clone()));
    Effect::new(move |_| {
        let q = filters.with(|f| f.q.clone());
        let typing = search_ref.get_untracked().is_some_and(|el| {
            document()
                .active_element()
                .is_some_and(|active| el.is_same_node(Some(&active)))
        });
        if !typing {
            search_text.set(q);
        }
    });
    let set_filters = {
        let navigate = navigate.clone();
        move |change: &dyn Fn(&mut Filters)| {
            let mut next = filters.get_untracked();
            change(&mut next);
            selected.set(0);
            navigate(
                &next.url(),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
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
                let count = first_len.get_untracked() + more.with_untracked(Vec::len);
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
                        if let Some((id, favorite)) = project_at(selected.get_untracked()) {
                            let value = !favorite;
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
                        if let Some((id, _)) = project_at(selected.get_untracked()) {
                            navigate(&format!("/projects/{id}#edit"), Default::default());
                        }
                    }
                    "Enter" => {
                        if let Some((id, _)) = project_at(selected.get_untracked()) {
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
        <div class="inline-form filters">
            <input
                node_ref=search_ref
                type="search"
                name="search"
                placeholder="Search projects (press /)"
                aria-label="Search projects"
                prop:value=move || search_text.get()
                on:input={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        search_text.set(v.clone());
                        set(&|f| f.q = v.clone())
                    }
                }
                class="grow"
            />
            <select
                name="stack"
                aria-label="Stack"
                prop:value=move || filters.with(|f| f.stack.clone())
                on:change={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        set(&|f| f.stack = v.clone())
                    }
                }
            >
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
            <select
                name="tag"
                aria-label="Tag"
                prop:value=move || filters.with(|f| f.tag.clone())
                on:change={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        set(&|f| f.tag = v.clone())
                    }
                }
            >
                <option value="">"Any tag"</option>
                {move || {
                    let mut tags = facets.get().and_then(Result::ok).map(|f| f.tags).unwrap_or_default();
                    // The chosen tag stays selectable even when nothing else carries it.
                    let chosen = filters.with(|f| f.tag.clone());
                    if !chosen.is_empty() {
                        tags.entry(chosen).or_default();
                    }
                    tags.into_iter()
                        .map(|(t, n)| view! { <option value=t.clone()>{format!("{t} ({n})")}</option> })
                        .collect_view()
                }}
            </select>
            <select
                name="git"
                aria-label="Git state"
                prop:value=move || filters.with(|f| f.git.clone())
                on:change={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        set(&|f| f.git = v.clone())
                    }
                }
            >
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
            <select
                name="status"
                aria-label="Status"
                prop:value=move || filters.with(|f| f.status.clone())
                on:change={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        set(&|f| f.status = v.clone())
                    }
                }
            >
                <option value="">"Any status"</option>
                <option value="present">"present"</option>
                <option value="missing">
                    {move || format!("missing ({})", facets.get().and_then(Result::ok).map(|f| f.missing).unwrap_or(0))}
                </option>
            </select>
            <label class="check">
                <input
                    type="checkbox"
                    name="favorite"
                    prop:checked=move || filters.with(|f| f.favorite)
                    on:change={
                        let set = set_filters.clone();
                        move |ev| {
                            let v = event_target_checked(&ev);
                            set(&|f| f.favorite = v)
                        }
                    }
                />
                {move || format!("★ ({})", facets.get().and_then(Result::ok).map(|f| f.favorites).unwrap_or(0))}
            </label>
            <select
                name="sort"
                aria-label="Sort by"
                prop:value=move || filters.with(|f| f.sort.clone())
                on:change={
                    let set = set_filters.clone();
                    move |ev| {
                        let v = event_target_value(&ev);
                        set(&|f| f.sort = if v == "name" { String::new() } else { v.clone() })
                    }
                }
            >
                {ProjectSort::ALL
                    .iter()
                    .map(|s| {
                        let value = if *s == ProjectSort::Name { "" } else { s.as_str() };
                        view! { <option value=value>{format!("Sort: {}", s.label())}</option> }
                    })
                    .collect_view()}
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
                href=move || filters.with(|f| f.export_url("csv"))
            >
                "Export CSV"
            </a>
            <a
                class="button ghost"
                download
                href=move || filters.with(|f| f.export_url("json"))
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
                        let offset = page.items.len();
                        view! {
                            <div class="cards" class:dense=move || dense.get() data-testid="project-grid">
                                {page
                                    .items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, p)| view! { <ProjectCard project=p index=i selection=selected /> })
                                    .collect_view()}
                                {move || {
                                    more.get()
                                        .into_iter()
                                        .enumerate()
                                        .map(|(i, p)| {
                                            let i = offset + i;
                                            view! { <ProjectCard project=p index=i selection=selected /> }
                                        })
                                        .collect_view()
                                }}
                            </div>
                            <p class="muted small load-more" data-testid="list-count">
                                {move || {
                                    let shown = offset + more.with(Vec::len);
                                    let total = facets.get().and_then(Result::ok).map(|f| f.total);
                                    match total {
                                        Some(t) => format!("Showing {shown} of {t} projects"),
                                        None => format!("Showing {shown} projects"),
                                    }
                                }}
                                <Show when=move || next_cursor.with(Option::is_some)>
                                    <button
                                        class="button ghost"
                                        data-testid="load-more"
                                        disabled=move || loading_more.get()
                                        on:click=move |_| load_more()
                                    >
                                        "Load more"
                                    </button>
                                </Show>
                            </p>
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
        assert_eq!(Filters::default().url(), "/projects");
        let f = Filters {
            q: "my app".into(),
            stack: "rust".into(),
            ..Default::default()
        };
        assert_eq!(f.url(), "/projects?q=my%20app&stack=rust");
        let f = Filters {
            q: "a&b".into(),
            git: "dirty".into(),
            favorite: true,
            sort: "last_commit".into(),
            ..Default::default()
        };
        assert_eq!(
            f.url(),
            "/projects?q=a%26b&git=dirty&sort=last_commit&favorite=1"
        );
        assert_eq!(
            f.export_url("csv"),
            "/api/v1/projects/export?format=csv&q=a%26b&git=dirty&sort=last_commit&favorite=1"
        );
        assert_eq!(
            Filters::default().export_url("json"),
            "/api/v1/projects/export?format=json"
        );
        let q = f.query(Some("c9".into()), 100);
        assert_eq!(q.favorite, Some(true));
        assert_eq!(q.stack, None);
        assert_eq!(q.cursor.as_deref(), Some("c9"));
    }
}
