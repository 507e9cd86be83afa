//! The council tab: what the council decided about this project, and a way to ask it.

use crate::api::council::list_deliberations;
use crate::models::council::DeliberationsQuery;
use leptos::prelude::*;

/// This project's deliberations, newest first.
#[component]
pub fn CouncilTab(
    /// The project id.
    id: i64,
) -> impl IntoView {
    let past = LocalResource::new(move || {
        list_deliberations(DeliberationsQuery {
            project_id: Some(id),
            limit: Some(20),
            ..Default::default()
        })
    });
    view! {
        <p>
            <a class="button primary" href=format!("/council?project={id}") data-testid="ask-council">
                "Ask the council about this project"
            </a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let list = match past.await {
                    Ok(list) => list,
                    // A failed read is said as such, never shown as "not asked yet".
                    Err(e) => return view! { <p class="form-error" data-testid="deliberations-error">{e.to_string()}</p> }.into_any(),
                };
                if list.is_empty() {
                    return view! { <p class="muted" data-testid="no-deliberations">"The council has not been asked about this project yet."</p> }.into_any();
                }
                view! {
                    <table class="table" data-testid="project-deliberations">
                        <thead>
                            <tr>
                                <th>"Question"</th>
                                <th>"Decision"</th>
                                <th>"Confidence"</th>
                                <th>"Outcome"</th>
                                <th>"Asked"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list
                                .into_iter()
                                .map(|d| {
                                    view! {
                                        <tr>
                                            <td>{d.question}</td>
                                            <td>{d.option.unwrap_or_else(|| d.status.clone())}</td>
                                            <td>{d.confidence.map(|c| format!("{:.0}%", c * 100.0)).unwrap_or_default()}</td>
                                            <td>{d.outcome.unwrap_or_default()}</td>
                                            <td>{d.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            })}
        </Transition>
    }
}
