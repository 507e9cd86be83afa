//! The project overview: workspaces and their scans, search and filters (kept in the URL), and
//! the card grid with each project's services running, live.
//!
//! The page owns the data (workspaces, the first page of projects, the filter counts, the
//! service counts) and the live stream; its panels draw them.

mod filter_bar;
mod filters;
mod grid;
mod runtime;
mod workspaces;

use crate::api::catalog::{count_project_facets, favorite_project, list_projects, list_workspaces};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{ProjectFlagRequest, ProjectInfo};
use crate::models::events::{Event, ServerMessage};
use crate::models::page::PageRequest;
use crate::models::Operation;
use filter_bar::FilterBar;
use filters::Filters;
use grid::ProjectGrid;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use runtime::RuntimeCounts;
use std::time::Duration;
use workspaces::WorkspacesPanel;

/// Projects per page; more arrive with "Load more".
const PAGE: u32 = 100;

/// Lists workspaces and projects; filters live in the URL so they can be shared.
#[component]
pub fn ProjectsPage() -> impl IntoView {
    let toasts = use_toasts();
    let can_edit = use_context::<Me>().is_some_and(|m| Operation::EditProjects.allowed_for(m.role));
    let query = use_query_map();
    let navigate = use_navigate();
    let filters = Memo::new(move |_| query.with(Filters::from_query));
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
    let first_ids = RwSignal::new(Vec::<i64>::new());
    Effect::new(move |_| {
        if let Some(Ok(page)) = projects.get() {
            first_ids.set(page.items.iter().map(|p| p.id).collect());
            next_cursor.set(page.next_cursor.clone());
            more.set(Vec::new());
        }
    });
    let shown = Memo::new(move |_| {
        let mut ids = first_ids.get();
        more.with(|m| ids.extend(m.iter().map(|p| p.id)));
        ids
    });
    let runtime = RuntimeCounts::new(shown);
    let loading_more = RwSignal::new(false);
    let load_more = Callback::new(move |()| {
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
    });
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
    // Live, over one stream: scan progress and discovered projects reload the page's data (at
    // most once every 300 ms); a service changing state reloads only the service counts.
    let live_progress = RwSignal::new(None::<(i64, u32, u32)>);
    let refresh_pending = StoredValue::new(false);
    Effect::new(move |_| {
        crate::components::live::subscribe(&["catalog", "runtime"], move |msg| {
            match &msg {
                ServerMessage::Event { envelope } => match envelope.event {
                    Event::ServiceChanged { project_id, .. } => {
                        runtime.service_changed(project_id);
                        return;
                    }
                    Event::ScanProgress {
                        workspace_id,
                        folders_scanned,
                        projects_found,
                        ..
                    } => live_progress.set(Some((workspace_id, folders_scanned, projects_found))),
                    _ => {}
                },
                // Connected: the counts may predate the page's own read. The page's data is
                // fresh (reloading it here would drop the pages "Load more" added).
                ServerMessage::Subscribed { .. } => {
                    runtime.refresh();
                    return;
                }
                // Fell behind: whatever changed meanwhile is fetched again.
                ServerMessage::Lagged { .. } => runtime.refresh(),
                ServerMessage::Error { .. } => {}
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
        });
    });

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
        Callback::new(move |next: Filters| {
            selected.set(0);
            navigate(
                &next.url(),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        })
    };
    // Keyboard: `/` search, `j`/`k` move, Enter open.
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
            let count = shown.with_untracked(Vec::len);
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
                            if let Err(e) = favorite_project(ProjectFlagRequest { id, value }).await
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

    view! {
        <Title text="Projects · Optimus" />
        <h1>"Projects"</h1>
        <WorkspacesPanel workspaces version live_progress />
        <FilterBar filters facets search_text search_ref dense on_change=set_filters />
        <ProjectGrid
            projects
            more
            next_cursor
            loading_more
            on_load_more=load_more
            facets
            dense
            selected
            runtime=runtime.by_project
        />
    }
}
