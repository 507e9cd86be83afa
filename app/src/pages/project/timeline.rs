//! The project's activity timeline; the page bumps `version` when the project changes.

use crate::api::catalog::project_activity;
use crate::models::catalog::ActivityQuery;
use leptos::prelude::*;

/// The project's timeline, refreshed live when the project changes.
#[component]
pub fn ActivityTimeline(
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
