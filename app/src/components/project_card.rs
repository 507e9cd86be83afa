//! A project card for the overview grid.

use crate::models::catalog::ProjectInfo;
use crate::models::runtime::ProjectRuntimeSummary;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// "N/M running" and, when some crash-loop, a badge saying how many.
fn runtime_badges(s: &ProjectRuntimeSummary) -> impl IntoView + use<> {
    let class = if s.running == 0 {
        "badge subtle"
    } else if s.running == s.total {
        "badge ok"
    } else {
        "badge"
    };
    let crash = s.crash_looping;
    view! {
        <span class=class data-testid="runtime-summary" title="Services running of those defined">
            {format!("{}/{} running", s.running, s.total)}
        </span>
        {(crash > 0).then(|| view! {
            <span class="badge danger" data-testid="crash-loop" title="Restarted too often in a row; left stopped">
                {if crash == 1 { "crash loop".to_owned() } else { format!("{crash} crash loops") }}
            </span>
        })}
    }
}

/// One project: name, stacks, git state, services running, status and problems.
#[component]
pub fn ProjectCard(
    /// The project.
    project: ProjectInfo,
    /// Its position in the list.
    index: usize,
    /// The list's keyboard selection (a position), owned by the page: cards are built inside a
    /// Suspend, so a signal derived there would be disposed while the card is still shown.
    selection: RwSignal<usize>,
    /// Services per project (running of total, crash loops), owned by the page for the same
    /// reason; this card shows its own entry, nothing when the project defines no services.
    runtime: Signal<BTreeMap<i64, ProjectRuntimeSummary>>,
) -> impl IntoView {
    let id = project.id;
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
                {move || runtime.with(|all| all.get(&id).map(runtime_badges))}
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
