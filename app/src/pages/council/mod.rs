//! The Council page: ask a question (project, facts, options), watch the personas' cards arrive
//! live, read the consensus with its confidence and dissent, drill into the cited evidence; past
//! deliberations, memories and the personas' track records below.

mod deliberation;
mod facts;
mod history;
mod memories;

use crate::api::catalog::list_projects;
use crate::api::council::{deliberate, get_deliberation, list_deliberations, list_personas};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::ProjectQuery;
use crate::models::council::{
    DeliberateRequest, DeliberationInfo, DeliberationRequest, DeliberationsQuery, Turn,
};
use crate::models::events::{Event, ServerMessage};
use crate::models::Operation;
use deliberation::{Deliberation, TurnCard};
use facts::parse_facts;
use leptos::prelude::*;
use memories::Memories;

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The Council page.
#[component]
pub fn CouncilPage() -> impl IntoView {
    view! {
        <h1>"Council of Minds"</h1>
        <p class="muted">"Personas deliberate on a project's real evidence and reach a calibrated consensus."</p>
        <ClientOnly fallback=|| view! { <p class="muted">"Loading…"</p> }>
            <CouncilBody />
        </ClientOnly>
    }
}

#[component]
fn CouncilBody() -> impl IntoView {
    let toasts = use_toasts();
    let can_ask = use_context::<Me>().is_some_and(|m| Operation::Deliberate.allowed_for(m.role));
    let question = RwSignal::new(String::new());
    // `?project=ID` (the project page's council tab) preselects the project.
    let project = RwSignal::new(
        leptos_router::hooks::use_query_map()
            .with_untracked(|q| q.get("project"))
            .filter(|p| p.parse::<i64>().is_ok())
            .unwrap_or_default(),
    );
    let facts = RwSignal::new(String::new());
    let options = RwSignal::new(String::new());
    let second_round = RwSignal::new(false);
    let asking = RwSignal::new(false);
    let live_turns = RwSignal::new(Vec::<Turn>::new());
    let live_id = RwSignal::new(None::<i64>);
    let current = RwSignal::new(None::<DeliberationInfo>);
    let history_version = RwSignal::new(0u32);
    let projects = LocalResource::new(|| {
        list_projects(ProjectQuery {
            limit: Some(200),
            ..Default::default()
        })
    });
    let history = LocalResource::new(move || {
        history_version.track();
        list_deliberations(DeliberationsQuery {
            limit: Some(20),
            ..Default::default()
        })
    });
    let personas = LocalResource::new(move || {
        history_version.track();
        list_personas()
    });
    // Turns stream in while the request runs: the first deliberation seen is ours.
    Effect::new(move |_| {
        crate::components::live::subscribe(&["council"], move |msg| {
            if let ServerMessage::Event { envelope } = msg {
                if let Event::CouncilTurn {
                    deliberation_id,
                    turn,
                } = envelope.event
                {
                    if !asking.get_untracked() {
                        return;
                    }
                    match live_id.get_untracked() {
                        None => live_id.set(Some(deliberation_id)),
                        Some(id) if id != deliberation_id => return,
                        _ => {}
                    }
                    live_turns.update(|t| t.push(turn));
                }
            }
        });
    });
    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed = match parse_facts(&facts.get_untracked()) {
            Ok(f) => f,
            Err(e) => {
                toasts.error(format!("facts: {e}"));
                return;
            }
        };
        let req = DeliberateRequest {
            question: question.get_untracked(),
            project_id: project.get_untracked().parse().ok(),
            facts: parsed,
            options: options
                .get_untracked()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            personas: Vec::new(),
            second_round: second_round.get_untracked(),
        };
        asking.set(true);
        live_turns.set(Vec::new());
        live_id.set(None);
        current.set(None);
        leptos::task::spawn_local(async move {
            match deliberate(req).await {
                Ok(d) => {
                    current.set(Some(d));
                    history_version.update(|v| *v += 1);
                }
                Err(e) => toasts.error(e.to_string()),
            }
            asking.set(false);
        });
    };
    let open = Callback::new(move |id: i64| {
        leptos::task::spawn_local(async move {
            match get_deliberation(DeliberationRequest { id }).await {
                Ok(d) => current.set(Some(d)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    });
    view! {
        <Show when=move || can_ask>
            <form class="editor" data-testid="ask" on:submit=ask>
                <label class="wide">
                    "Question"
                    <textarea name="question" required placeholder="Should we deploy the billing release today?" bind:value=question></textarea>
                </label>
                <label>
                    "Project"
                    <select name="project" prop:value=move || project.get() on:change=move |ev| project.set(event_target_value(&ev))>
                        <option value="">"— none —"</option>
                        {move || {
                            projects
                                .get()
                                .and_then(Result::ok)
                                .map(|page| {
                                    page.items
                                        .into_iter()
                                        .map(|p| {
                                            let value = p.id.to_string();
                                            let chosen = project.get_untracked() == value;
                                            view! { <option value=value selected=chosen>{p.name}</option> }
                                        })
                                        .collect_view()
                                })
                        }}
                    </select>
                </label>
                <label>
                    "Options (comma-separated; empty: proceed / with conditions / defer / reject)"
                    <input name="options" bind:value=options />
                </label>
                <label class="wide">
                    "Facts (key = value per line: tests = failing, deadline_days = 2, team_size = 3, backup_age_hours = 30, schema_change = true, effort = small)"
                    <textarea name="facts" bind:value=facts></textarea>
                </label>
                <label class="small"><input type="checkbox" name="second_round" bind:checked=second_round />" Second round (personas see each other's positions and may revise)"</label>
                <div class="inline-form wide">
                    <button class="button primary" type="submit" data-testid="deliberate" disabled=move || asking.get()>
                        {move || if asking.get() { "Deliberating…" } else { "Ask the council" }}
                    </button>
                </div>
            </form>
        </Show>
        <Show when=move || asking.get()>
            <div class="turns" data-testid="live-turns">
                <For each=move || live_turns.get() key=|t| (t.persona.clone(), t.round) let:turn>
                    <TurnCard turn evidence=Vec::new() />
                </For>
            </div>
        </Show>
        {move || current.get().map(|d| view! { <Deliberation d /> })}
        <history::History history open />
        <Memories />
        <history::Personas personas />
    }
}
