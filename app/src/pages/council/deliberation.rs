//! A deliberation as read back: the consensus, every persona's card, the knowledge graph around
//! the decision and the evidence cited.

use super::percent;
use crate::api::council::council_graph;
use crate::components::charts::{NetNode, NetworkChart};
use crate::models::council::{Consensus, DeliberationInfo, Evidence, GraphRequest, Turn};
use leptos::prelude::*;

/// A finished deliberation: consensus, cards, evidence.
#[component]
pub fn Deliberation(d: DeliberationInfo) -> impl IntoView {
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

/// The consensus: the option, confidence, agreement, supporters and dissent.
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
                {c.kind.clone().map(|k| view! { <span class="badge subtle" data-testid="consensus-kind" title=c.kind_why.clone()>{format!("kind: {k}")}</span> })}
            </div>
            <p class="muted">{c.explanation.clone()}</p>
            {(!c.would_change.is_empty()).then(|| view! {
                <div data-testid="would-change">
                    <strong class="small">"What would change this call"</strong>
                    <ul class="small">{c.would_change.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
            {(!c.missing_evidence.is_empty()).then(|| view! {
                <p class="small" data-testid="missing-evidence"><strong>"Missing evidence: "</strong>{c.missing_evidence.join("; ")}</p>
            })}
            {(!c.unused_facts.is_empty()).then(|| view! {
                <p class="small" data-testid="unused-facts"><strong>"Facts not used: "</strong>{c.unused_facts.join("; ")}</p>
            })}
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

/// One persona's turn: its choice, confidence, rationale, conditions and cited evidence.
#[component]
pub fn TurnCard(turn: Turn, evidence: Vec<Evidence>) -> impl IntoView {
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
