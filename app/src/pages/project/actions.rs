//! The project's actions: favorite, archive, write `optimus.toml`, remove, and the edit form.

use crate::api::catalog::{
    archive_project, delete_project, favorite_project, update_project, write_descriptor,
};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{ProjectFlagRequest, ProjectInfo, UpdateProjectRequest, LIFECYCLES};
use crate::models::tokens::IdRequest;
use crate::models::Operation;
use leptos::prelude::*;

/// Favorite, archive, delete and the edit form; hidden from viewers.
#[component]
pub fn ProjectActions(
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
