//! The project grid: the first page of cards, the pages "Load more" added, and the count.

use crate::components::project_card::ProjectCard;
use crate::error::AppError;
use crate::models::catalog::{ProjectFacets, ProjectInfo};
use crate::models::page::Page;
use crate::models::runtime::ProjectRuntimeSummary;
use crate::pages::error::ErrorPage;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// The cards (or the dense list) and the "Load more" line.
#[component]
pub fn ProjectGrid(
    /// The first page, reloaded whenever the filters or the page's data change.
    projects: Resource<Result<Page<ProjectInfo>, AppError>>,
    /// Pages after the first, appended by "Load more".
    more: RwSignal<Vec<ProjectInfo>>,
    /// The cursor of the next page; none on the last.
    next_cursor: RwSignal<Option<String>>,
    /// Whether a further page is on its way.
    loading_more: RwSignal<bool>,
    /// Asks for the next page.
    on_load_more: Callback<()>,
    /// Counts for the filters (the total is shown beside the count).
    facets: LocalResource<Result<ProjectFacets, AppError>>,
    /// Whether the grid is the dense list.
    dense: RwSignal<bool>,
    /// The keyboard selection (a position).
    selected: RwSignal<usize>,
    /// Services per project, fetched by the page and kept live. Created by the page, not here:
    /// the cards are built inside a Suspend, whose own signals are disposed on the next reload.
    runtime: Signal<BTreeMap<i64, ProjectRuntimeSummary>>,
) -> impl IntoView {
    view! {
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
                                    .map(|(i, p)| view! { <ProjectCard project=p index=i selection=selected runtime /> })
                                    .collect_view()}
                                {move || {
                                    more.get()
                                        .into_iter()
                                        .enumerate()
                                        .map(|(i, p)| {
                                            let i = offset + i;
                                            view! { <ProjectCard project=p index=i selection=selected runtime /> }
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
                                        on:click=move |_| on_load_more.run(())
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
