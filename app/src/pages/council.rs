//! The Council page: ask a question (project, facts, options), watch the personas' cards arrive
//! live, read the consensus with its confidence and dissent, drill into the cited evidence; past
//! deliberations and the personas' track records below.

use crate::api::catalog::list_projects;
use crate::api::council::{
    council_graph, deliberate, forget_memory, get_deliberation, list_deliberations, list_memories,
    list_personas, update_memory,
};
use crate::components::browser::ClientOnly;
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::catalog::ProjectQuery;
use crate::models::council::{
    Consensus, DeliberateRequest, DeliberationInfo, DeliberationRequest, DeliberationsQuery,
    Evidence, GraphRequest, MemoriesQuery, MemoryRequest, Turn, UpdateMemoryRequest,
};
use crate::models::events::{Event, ServerMessage};
use crate::models::Operation;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// `key = value` lines into facts: numbers and true/false are typed, the rest is text.
pub fn parse_facts(text: &str) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once('=')
            .or_else(|| line.split_once(':'))
            .ok_or_else(|| format!("`{line}`: write key = value"))?;
        let key = k.trim().to_lowercase().replace([' ', '-'], "_");
        let v = v.trim();
        let value = if let Ok(n) = v.parse::<i64>() {
            serde_json::Value::from(n)
        } else if let Ok(f) = v.parse::<f64>() {
            serde_json::Value::from(f)
        } else if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
            serde_json::Value::from(v.eq_ignore_ascii_case("true"))
        } else {
            serde_json::Value::from(v.to_owned())
        };
        out.insert(key, value);
    }
    Ok(out)
}

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
    let open = move |id: i64| {
        leptos::task::spawn_local(async move {
            match get_deliberation(DeliberationRequest { id }).await {
                Ok(d) => current.set(Some(d)),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
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
                                    <td><a href="#" on:click=move |ev| { ev.prevent_default(); open(id); }>{h.question}</a></td>
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
        <Memories />
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

/// What the council remembers: search (ranked by relevance, importance and recency), pin,
/// forget.
#[component]
fn Memories() -> impl IntoView {
    let toasts = use_toasts();
    let can_manage =
        use_context::<Me>().is_some_and(|m| Operation::ManageMemories.allowed_for(m.role));
    let search = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let found = LocalResource::new(move || {
        version.track();
        let q = search.get();
        list_memories(MemoriesQuery {
            search: (!q.trim().is_empty()).then_some(q),
            limit: Some(20),
            ..Default::default()
        })
    });
    let act = move |id: i64, pin: Option<bool>| {
        leptos::task::spawn_local(async move {
            let r = match pin {
                Some(p) => update_memory(UpdateMemoryRequest {
                    id,
                    pinned: Some(p),
                    ..Default::default()
                })
                .await
                .map(|_| ()),
                None => forget_memory(MemoryRequest { id }).await,
            };
            match r {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <h2>"Memories"</h2>
        <input type="search" name="memory-search" placeholder="Search what the council remembers" aria-label="Search memories" bind:value=search />
        <ul class="memories" data-testid="memories">
            {move || {
                found
                    .get()
                    .and_then(Result::ok)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| {
                        let id = m.id;
                        let pinned = m.pinned;
                        view! {
                            <li class="card small" data-memory=id.to_string()>
                                <span class="badge">{m.kind.clone()}</span>
                                {pinned.then(|| view! { <span class="badge ok">"pinned"</span> })}
                                " "<strong>{m.title.clone()}</strong>
                                <div class="muted">{m.content.chars().take(240).collect::<String>()}</div>
                                <Show when=move || can_manage>
                                    <button class="button ghost small" on:click=move |_| act(id, Some(!pinned))>{if pinned { "Unpin" } else { "Pin" }}</button>
                                    <button class="button ghost small" data-testid="forget" on:click=move |_| act(id, None)>"Forget"</button>
                                </Show>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// A finished deliberation: consensus, cards, evidence.
#[component]
fn Deliberation(d: DeliberationInfo) -> impl IntoView {
    let c = d.consensus.clone();
    let evidence = d.evidence.clone();
    view! {
        <section class="deliberation" data-testid="deliberation" data-id=d.id.to_string()>
            <h2>{format!("#{} {}", d.id, d.question)}</h2>
            {c.map(|c| view! { <ConsensusCard c /> })}
            <div class="turns" data-testid="turns">
                {d.turns
                    .into_iter()
                    .map(|turn| view! { <TurnCard turn evidence=evidence.clone() /> })
                    .collect_view()}
            </div>
            <DecisionGraph id=d.id />
            <h3>"Evidence"</h3>
            <ul class="evidence" data-testid="evidence">
                {d.evidence
                    .into_iter()
                    .map(|e| {
                        view! {
                            <li id=format!("evidence-{}-{}", d.id, e.id) class=format!("signal-{}", e.signal)>
                                <code>{e.id.clone()}</code>" "<span class="badge">{e.source.clone()}</span>" "{e.summary.clone()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The knowledge graph around a decision: its project, the project's technologies and the
/// projects that share them.
#[component]
fn DecisionGraph(id: i64) -> impl IntoView {
    use crate::components::charts::{NetNode, NetworkChart};
    let nodes = RwSignal::new(Vec::<NetNode>::new());
    let links = RwSignal::new(Vec::<(String, String, String)>::new());
    let count = RwSignal::new(0usize);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let req = GraphRequest {
                deliberation_id: Some(id),
                depth: Some(3),
                ..Default::default()
            };
            if let Ok(view) = council_graph(req).await {
                count.set(view.nodes.len());
                links.set(
                    view.edges
                        .iter()
                        .map(|e| (e.src.to_string(), e.dst.to_string(), e.kind.clone()))
                        .collect(),
                );
                nodes.set(
                    view.nodes
                        .into_iter()
                        .take(300)
                        .map(|n| NetNode {
                            id: n.id.to_string(),
                            label: n.label,
                            kind: n.kind,
                            distance: n.distance,
                        })
                        .collect(),
                );
            }
        });
    });
    view! {
        <h3>"Knowledge graph"</h3>
        <p class="muted small" data-testid="graph-count">{move || format!("{} nodes around this decision", count.get())}</p>
        <NetworkChart id=format!("graph-{id}") nodes=nodes links=links />
    }
}

#[component]
fn ConsensusCard(c: Consensus) -> impl IntoView {
    let option = c.option.clone().unwrap_or_else(|| "no consensus".into());
    view! {
        <div class="consensus card" data-testid="consensus" data-option=option.clone()>
            <div class="consensus-head">
                <strong class="consensus-option">{option.replace('_', " ")}</strong>
                <span class="badge" data-testid="consensus-confidence">{format!("confidence {}", percent(c.confidence))}</span>
                <span class="badge">{format!("agreement {}", percent(c.agreement))}</span>
                {c.majority.clone().map(|m| view! { <span class="badge subtle">{format!("plain majority: {}", m.replace('_', " "))}</span> })}
            </div>
            <p class="muted">{c.explanation.clone()}</p>
            <p class="small">{format!("Supporters: {}", if c.supporters.is_empty() { "none".to_owned() } else { c.supporters.join(", ") })}</p>
            {(!c.dissenters.is_empty()).then(|| view! {
                <details>
                    <summary>{format!("{} dissent", c.dissenters.len())}</summary>
                    <ul>
                        {c.dissenters
                            .iter()
                            .map(|x| view! { <li><strong>{x.persona.clone()}</strong>{format!(" chose {}: ", x.option)}{x.reason.clone()}</li> })
                            .collect_view()}
                    </ul>
                </details>
            })}
        </div>
    }
}

#[component]
fn TurnCard(turn: Turn, evidence: Vec<Evidence>) -> impl IntoView {
    let title = format!(
        "{}{}",
        turn.persona,
        if turn.round > 1 { " (round 2)" } else { "" }
    );
    let chosen = if turn.abstained {
        "abstained".to_owned()
    } else {
        turn.option.clone().unwrap_or_default().replace('_', " ")
    };
    let cited: Vec<Evidence> = evidence
        .into_iter()
        .filter(|e| turn.evidence.contains(&e.id))
        .collect();
    view! {
        <article class="card turn" data-testid="turn" data-persona=turn.persona.clone() data-option=turn.option.clone().unwrap_or_default()>
            <header>
                <strong>{title}</strong>
                <span class="badge">{chosen}</span>
                <span class="muted small">{percent(turn.confidence)}</span>
            </header>
            <meter min="0" max="1" value=turn.confidence></meter>
            <p class="small">{turn.rationale.clone()}</p>
            {(!turn.conditions.is_empty()).then(|| view! {
                <p class="small"><strong>"Conditions: "</strong>{turn.conditions.join("; ")}</p>
            })}
            {(!cited.is_empty()).then(|| view! {
                <details>
                    <summary class="small">{format!("Cites {}", turn.evidence.join(", "))}</summary>
                    <ul class="small">
                        {cited.into_iter().map(|e| view! { <li><code>{e.id}</code>" "{e.summary}</li> }).collect_view()}
                    </ul>
                </details>
            })}
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_typed_from_key_value_lines() {
        let f =
            parse_facts("tests = failing\nDeadline days: 2\nschema_change = true\nratio = 0.5\n");
        assert!(f.is_ok(), "{f:?}");
        let Ok(f) = f else { return };
        assert_eq!(f["tests"], "failing");
        assert_eq!(f["deadline_days"], 2);
        assert_eq!(f["schema_change"], true);
        assert_eq!(f["ratio"], 0.5);
        assert!(parse_facts("no value here").is_err());
    }
}
