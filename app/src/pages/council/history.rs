//! Past deliberations (a click reads one back) and the personas with their track records.

use super::percent;
use crate::error::AppError;
use crate::models::council::{DeliberationSummary, PersonaInfo};
use leptos::prelude::*;

/// The latest deliberations; a click on a question reads it back.
#[component]
pub fn History(
    /// The latest deliberations, fetched by the page.
    history: LocalResource<Result<Vec<DeliberationSummary>, AppError>>,
    /// Reads a deliberation back by id.
    open: Callback<i64>,
) -> impl IntoView {
    view! {
        <h2>"Past deliberations"</h2>
        <table class="table" data-testid="history">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"Question"</th>
                    <th>"Decision"</th>
                    <th>"Confidence"</th>
                    <th>"Outcome"</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    history
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|h| {
                            let id = h.id;
                            view! {
                                <tr>
                                    <td>{id}</td>
                                    <td><a href="#" on:click=move |ev| { ev.prevent_default(); open.run(id); }>{h.question}</a></td>
                                    <td>{h.option.unwrap_or_else(|| "—".into())}</td>
                                    <td>{h.confidence.map(percent).unwrap_or_default()}</td>
                                    <td>{h.outcome.unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()
                }}
            </tbody>
        </table>
    }
}

/// Every persona: role, stance and how often it was right.
#[component]
pub fn Personas(
    /// The personas, fetched by the page.
    personas: LocalResource<Result<Vec<PersonaInfo>, AppError>>,
) -> impl IntoView {
    view! {
        <h2>"Personas"</h2>
        <table class="table" data-testid="personas">
            <thead>
                <tr>
                    <th>"Persona"</th>
                    <th>"Role"</th>
                    <th>"Stance"</th>
                    <th>"Track record"</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    personas
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| {
                            let record = if p.decided == 0 {
                                "no outcomes yet".to_owned()
                            } else {
                                format!(
                                    "{}/{} right, Brier {:.2}",
                                    p.correct,
                                    p.decided,
                                    p.brier.unwrap_or_default()
                                )
                            };
                            view! {
                                <tr>
                                    <td><strong>{p.name}</strong>{p.technical.then(|| view! { <span class="badge">"technical"</span> })}</td>
                                    <td class="muted small">{p.role}</td>
                                    <td>{p.stance}</td>
                                    <td>{record}</td>
                                </tr>
                            }
                        })
                        .collect_view()
                }}
            </tbody>
        </table>
    }
}
