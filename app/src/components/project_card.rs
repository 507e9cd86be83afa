//! A project card for the overview grid.

use crate::models::catalog::ProjectInfo;
use leptos::prelude::*;

/// One project: name, stacks, git state, status and problems.
#[component]
pub fn ProjectCard(
    /// The project.
    project: ProjectInfo,
    /// Its position in the list.
    index: usize,
    /// The list's keyboard selection (a position), owned by the page: cards are built inside a
    /// Suspend, so a signal derived there would be disposed while the card is still shown.
    selection: RwSignal<usize>,
) -> impl IntoView {
    let href = format!("/projects/{}", project.id);
    let git = project.git.clone().map(|g| {
        let mut parts = vec![g.branch.clone().unwrap_or_else(|| {
            if g.detached {
                "detached".into()
            } else {
                "no branch".into()
            }
        })];
        if g.dirty {
            parts.push("dirty".into());
        }
        if g.ahead > 0 {
            parts.push(format!("↑{}", g.ahead));
        }
        if g.behind > 0 {
            parts.push(format!("↓{}", g.behind));
        }
        parts.join(" · ")
    });
    let errors = project.errors.len();
    let missing = project.status == "missing";
    let favorite = project.favorite;
    let tags = project.tags.clone();
    view! {
        <article class="card project-card" class:selected=move || selection.get() == index data-project=project.name.clone()>
            <h2>
                <a href=href>{project.name.clone()}</a>
                <Show when=move || favorite>
                    <span class="star" title="Favorite" aria-label="Favorite">
                        "★"
                    </span>
                </Show>
            </h2>
            <p class="stacks">
                {project.stacks.iter().map(|s| view! { <span class="badge">{s.as_str()}</span> }).collect_view()}
            </p>
            <p class="muted small">{project.description.clone().unwrap_or_default()}</p>
            <p class="stacks">{tags.into_iter().map(|t| view! { <span class="badge subtle">{format!("#{t}")}</span> }).collect_view()}</p>
            <p class="small">
                {git.map(|g| view! { <span class="git">{g}</span> })}
                <Show when=move || missing>
                    <span class="badge warn">"missing"</span>
                </Show>
                <Show when=move || { errors > 0 }>
                    <span class="badge warn" title="Detection problems; open the project to see them">
                        {format!("{errors} problem(s)")}
                    </span>
                </Show>
            </p>
        </article>
    }
}
