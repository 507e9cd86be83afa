//! What the project depends on and what depends on it.

use crate::api::catalog::{get_dependencies, list_projects, set_dependencies};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::{ProjectQuery, SetDependenciesRequest};
use crate::models::tokens::IdRequest;
use crate::models::Operation;
use leptos::prelude::*;

/// What the project depends on and what depends on it; editors add and remove dependencies.
#[component]
pub fn Dependencies(
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
