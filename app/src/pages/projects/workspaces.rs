//! The workspaces panel: adding a folder to scan, and each workspace with its scan state, live
//! counts while a scan runs, and a rescan button.

use crate::api::catalog::{add_workspace, scan_workspace};
use crate::components::toasts::use_toasts;
use crate::error::AppError;
use crate::models::auth::Me;
use crate::models::catalog::{AddWorkspaceRequest, WorkspaceInfo};
use crate::models::page::Page;
use crate::models::tokens::IdRequest;
use crate::models::Operation;
use leptos::prelude::*;
use std::time::Duration;

/// The add form and the list of workspaces.
#[component]
pub fn WorkspacesPanel(
    /// The page's workspaces, reloaded when `version` changes.
    workspaces: Resource<Result<Page<WorkspaceInfo>, AppError>>,
    /// Bumped to reload the page's data.
    version: RwSignal<u32>,
    /// The latest scan progress from the event stream: (workspace, folders, projects).
    live_progress: RwSignal<Option<(i64, u32, u32)>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let can_manage =
        use_context::<Me>().is_some_and(|m| Operation::ManageWorkspaces.allowed_for(m.role));
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
    view! {
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
    }
}
