//! Deliberate: gather evidence, run the rounds, reach consensus, remember; read, list, and
//! record outcomes.

use super::roster::all_personas;
use crate::error::AppError;
use crate::models::council::{
    default_options, option_id, Consensus, DeliberateRequest, DeliberationInfo,
    DeliberationSummary, DeliberationsQuery, Evidence, OptionInfo, OutcomeRequest, PersonaInfo,
    Turn,
};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::council::consensus::{self, Vote};
use crate::server::council::llm::Llm;
use crate::server::council::memory::{self, NewMemory};
use crate::server::council::repo::deliberations::{self as repo, Deliberation, NewDeliberation};
use crate::server::council::repo::memories;
use crate::server::council::{
    evidence, graph, judgement, offline, personas, sources, Context, Engine, Offline,
};
use crate::server::error::ServerResult;
use crate::server::notifications::{self, NewNotification};
use crate::server::state::AppState;
use crate::server::stored::Undecodable;
use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one persona may take with the offline engine before it abstains.
const OFFLINE_DEADLINE: Duration = Duration::from_secs(30);

pub(super) fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

/// The options of a request: the asker's (2–8, distinct) or the default set.
fn options_of(req: &DeliberateRequest) -> Result<Vec<OptionInfo>, AppError> {
    if req.options.is_empty() {
        return Ok(default_options());
    }
    if req.options.len() > 8 {
        return Err(bad(
            "options",
            "give 2 to 8 options, or none for the default set",
        ));
    }
    if req.options.len() < 2 {
        return Err(AppError::unprocessable(
            "options",
            "give 2 to 8 options, or none for the default set",
        ));
    }
    let mut out: Vec<OptionInfo> = Vec::new();
    for label in &req.options {
        let id = option_id(label);
        if id.is_empty() || label.chars().count() > 80 {
            return Err(bad(
                "options",
                format!("`{label}` must have 1 to 80 characters with a letter or digit"),
            ));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(AppError::unprocessable(
                "options",
                format!("`{label}` is given twice"),
            ));
        }
        out.push(OptionInfo {
            id,
            label: label.trim().to_owned(),
        });
    }
    Ok(out)
}

fn check_facts(facts: &BTreeMap<String, Value>) -> Result<(), AppError> {
    if facts.len() > 30 {
        return Err(bad("facts", "at most 30 facts"));
    }
    for (k, v) in facts {
        if k.is_empty()
            || k.len() > 64
            || !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(bad(
                "facts",
                format!("`{k}`: names are 1 to 64 of a-z 0-9 _"),
            ));
        }
        match v {
            Value::String(s) if s.chars().count() > 500 => {
                return Err(bad("facts", format!("`{k}`: at most 500 characters")))
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            _ => {
                return Err(bad(
                    "facts",
                    format!("`{k}`: a text, a number or true/false"),
                ))
            }
        }
    }
    Ok(())
}

/// The deliberation as the client sees it; a stored value that cannot be read names its row.
fn info(m: Deliberation, turns: Vec<Turn>) -> Result<DeliberationInfo, Undecodable> {
    Ok(DeliberationInfo {
        facts: repo::facts(&m)?,
        options: repo::options(&m)?,
        evidence: repo::evidence(&m)?,
        consensus: repo::consensus(&m)?,
        id: m.id,
        question: m.question,
        project_id: m.project_id,
        status: m.status,
        engine: m.engine,
        turns,
        asked_by: m.asked_by,
        created_at: m.created_at,
        finished_at: m.finished_at,
        outcome: m.outcome,
        outcome_note: m.outcome_note,
    })
}

async fn turns_of(state: &AppState, id: i64) -> ServerResult<Vec<Turn>> {
    Ok(repo::turns(&state.db, id)
        .await?
        .iter()
        .map(repo::turn)
        .collect::<Result<_, _>>()?)
}

/// Stores a round's turns in one transaction, then publishes each.
async fn save_round(state: &AppState, deliberation_id: i64, turns: &[Turn]) -> ServerResult<()> {
    let now = Utc::now();
    let txn = crate::server::db::begin(&state.db).await?;
    for t in turns {
        repo::insert_turn(&txn, deliberation_id, t, now).await?;
    }
    txn.commit().await?;
    for t in turns {
        state
            .bus
            .publish(Event::CouncilTurn {
                deliberation_id,
                turn: t.clone(),
            })
            .await;
    }
    Ok(())
}

/// Keeps only the evidence a persona may cite: ids that exist.
fn cited_only(mut t: Turn, evidence: &[Evidence]) -> Turn {
    t.evidence.retain(|id| evidence.iter().any(|e| &e.id == id));
    t
}

/// Runs one round for every persona concurrently; a persona that fails or runs past the
/// deadline abstains.
pub(super) async fn round<E: Engine>(
    engine: &E,
    asked: &[&PersonaInfo],
    ctx: &Context<'_>,
    previous: Option<&[Turn]>,
    deadline: Duration,
) -> Vec<Turn> {
    let futures = asked.iter().map(|p| async move {
        let result = match previous {
            None => tokio::time::timeout(deadline, engine.position(p, ctx)).await,
            Some(prev) => {
                let Some(own) = prev.iter().find(|t| t.persona == p.key) else {
                    return crate::server::council::offline::abstain(p, "no first-round position");
                };
                if own.abstained {
                    let mut again = own.clone();
                    again.round = 2;
                    return again;
                }
                let others: Vec<(String, f64)> = prev
                    .iter()
                    .filter(|t| t.persona != p.key)
                    .filter_map(|t| t.option.clone().map(|o| (o, t.confidence)))
                    .collect();
                tokio::time::timeout(deadline, engine.revise(p, ctx, own, &others)).await
            }
        };
        match result {
            Ok(Ok(t)) => cited_only(t, ctx.evidence),
            Ok(Err(why)) => {
                let mut t = crate::server::council::offline::abstain(p, &why);
                t.round = if previous.is_some() { 2 } else { 1 };
                t
            }
            Err(_) => {
                let mut t = crate::server::council::offline::abstain(
                    p,
                    &format!("no answer within {} ms", deadline.as_millis()),
                );
                t.round = if previous.is_some() { 2 } else { 1 };
                t
            }
        }
    });
    futures::future::join_all(futures).await
}

/// The LLM engine when an endpoint is configured (the offline engine otherwise).
fn llm_engine(state: &AppState) -> Option<Llm> {
    let s = &state.settings;
    let base = s.llm_base_url.as_deref()?;
    Some(Llm::new(
        base,
        s.llm_api_key.as_ref().map(|k| k.expose().to_owned()),
        s.llm_model.as_deref().unwrap_or("gpt-4o-mini"),
        Duration::from_millis(s.llm_timeout_ms),
        s.llm_token_budget,
    ))
}

/// Round one (and two when asked), each turn stored and published as it is taken.
async fn rounds<E: Engine>(
    state: &AppState,
    id: i64,
    engine: &E,
    asked: &[&PersonaInfo],
    ctx: &Context<'_>,
    second_round: bool,
    deadline: Duration,
) -> ServerResult<Vec<Turn>> {
    let first = round(engine, asked, ctx, None, deadline).await;
    save_round(state, id, &first).await?;
    if !second_round {
        return Ok(first);
    }
    let second = round(engine, asked, ctx, Some(&first), deadline).await;
    save_round(state, id, &second).await?;
    Ok(second)
}

/// Asks the council: gathers evidence, takes each persona's position (and revision), combines
/// them, stores and remembers the deliberation, and returns it.
pub async fn deliberate(
    state: &AppState,
    caller: &Caller,
    req: DeliberateRequest,
) -> ServerResult<DeliberationInfo> {
    caller.authorize(Operation::Deliberate)?;
    let question = req.question.trim().to_owned();
    if !(3..=2000).contains(&question.chars().count()) {
        return Err(bad("question", "must have 3 to 2000 characters").into());
    }
    let options = options_of(&req)?;
    check_facts(&req.facts)?;
    if let Some(pid) = req.project_id {
        crate::server::catalog::find_project(&state.db, pid)
            .await?
            .ok_or_else(|| AppError::not_found("project"))?;
    }
    let everyone = all_personas(state).await?;
    if let Some(unknown) = req
        .personas
        .iter()
        .find(|k| !everyone.iter().any(|p| &p.key == *k))
    {
        return Err(AppError::unprocessable("personas", format!("no persona `{unknown}`")).into());
    }
    let topics = personas::topics(&question);
    let asked = personas::route(&everyone, &req.personas, &topics);
    if asked.is_empty() {
        return Err(AppError::unprocessable("personas", "no enabled persona to ask").into());
    }
    let llm = llm_engine(state);
    let now = Utc::now();
    let row = repo::insert(
        &state.db,
        NewDeliberation {
            question: &question,
            project_id: req.project_id,
            facts: &req.facts,
            options: &options,
            engine: llm.as_ref().map_or(Offline.name(), |l| l.name()),
            asked_by: &caller.username,
        },
        now,
    )
    .await?;
    let id = row.id;
    let situation = sources::situation(
        &state.db,
        &question,
        req.project_id,
        &req.facts,
        &topics,
        now,
    )
    .await?;
    let assessment = evidence::read(&situation);
    let evidence_list = assessment.evidence;
    let (frame, signals) = judgement::frame(&question, &req.options, &assessment.signals);
    let ctx = Context {
        question: &question,
        options: &options,
        evidence: &evidence_list,
        signals: &signals,
        frame: &frame,
    };
    let last = match llm {
        Some(llm) => {
            // A request may be retried; the persona's deadline covers that.
            let deadline = Duration::from_millis(state.settings.llm_timeout_ms * 4 + 2000);
            let last = rounds(state, id, &llm, &asked, &ctx, req.second_round, deadline).await?;
            tracing::info!(
                deliberation.id = id,
                tokens = llm.spent(),
                "deliberation used the model"
            );
            last
        }
        None => {
            rounds(
                state,
                id,
                &Offline,
                &asked,
                &ctx,
                req.second_round,
                OFFLINE_DEADLINE,
            )
            .await?
        }
    };
    let votes: Vec<Vote<'_>> = last
        .iter()
        .filter_map(|t| {
            let p = asked.iter().find(|p| p.key == t.persona)?;
            Some(Vote {
                turn: t,
                relevance: personas::relevance(p, &topics),
                track: consensus::track(p.decided, p.correct),
            })
        })
        .collect();
    let mut result: Consensus = consensus::combine(&votes, &options);
    // What would change the call is asked of the offline rules, whichever engine voted: each
    // variant is compared with what those rules answer on the evidence as it is.
    let decide = |variant: &[evidence::Signal]| {
        offline::council(&asked, &topics, &options, variant, &frame).option
    };
    let baseline = decide(&signals);
    let would_change =
        judgement::what_if::would_change(&frame, &signals, baseline.as_deref(), decide);
    let params = judgement::calibration::current(&state.db).await?;
    judgement::conclude(
        &mut result,
        &frame,
        assessment.unused,
        would_change,
        &params,
    );
    // The answer, what is remembered of it and its audit entry are one transaction.
    let txn = crate::server::db::begin(&state.db).await?;
    let done = repo::finish(&txn, row, &evidence_list, &result, Utc::now()).await?;
    remember(&txn, &done, &last, &result).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "council.deliberate",
        &format!("deliberation:{id}"),
    )
    .await?;
    state
        .bus
        .publish(Event::CouncilDone {
            deliberation_id: id,
            consensus: result.clone(),
        })
        .await;
    notifications::notify(
        state,
        NewNotification {
            level: "info",
            kind: "council_decided",
            title: format!(
                "The council answered “{}”: {}",
                short_question(&done.question),
                result.option.as_deref().unwrap_or("no consensus")
            ),
            body: format!(
                "{}\nConfidence {:.0} %. {}",
                done.question,
                result.confidence * 100.0,
                result.explanation
            ),
            project_id: done.project_id,
            service_id: None,
        },
    )
    .await;
    let turns = turns_of(state, id).await?;
    Ok(info(done, turns)?)
}

/// A question cut to fit a notification's title.
fn short_question(q: &str) -> String {
    let q = q.trim();
    if q.chars().count() <= 120 {
        return q.to_owned();
    }
    let mut s: String = q.chars().take(119).collect();
    s.push('…');
    s
}

/// Stores the deliberation and each final turn as memories, and links the decision into the
/// knowledge graph (in the caller's transaction).
async fn remember(
    db: &impl ConnectionTrait,
    d: &Deliberation,
    turns: &[Turn],
    c: &Consensus,
) -> ServerResult<()> {
    let now = Utc::now();
    let chosen = c.option.clone().unwrap_or_else(|| "no consensus".into());
    let mut content = format!(
        "{} — the council chose {chosen} with confidence {:.2} (agreement {:.2}). {}",
        d.question, c.confidence, c.agreement, c.explanation
    );
    for t in turns.iter().filter(|t| !t.abstained) {
        content.push_str(&format!(
            " {}: {}.",
            t.persona,
            t.option.as_deref().unwrap_or("-")
        ));
    }
    memory::remember(
        db,
        NewMemory {
            kind: "deliberation",
            deliberation_id: Some(d.id),
            project_id: d.project_id,
            persona: None,
            title: d.question.clone(),
            content,
            importance: 0.5,
        },
        now,
    )
    .await?;
    for t in turns.iter().filter(|t| !t.abstained) {
        memory::remember(
            db,
            NewMemory {
                kind: "turn",
                deliberation_id: Some(d.id),
                project_id: d.project_id,
                persona: Some(t.persona.clone()),
                title: format!("{} on: {}", t.persona, d.question),
                content: t.rationale.clone(),
                importance: 0.3,
            },
            now,
        )
        .await?;
    }
    let decision = graph::node(db, "decision", &d.id.to_string(), &d.question, now).await?;
    if let Some(pid) = d.project_id {
        if let Some(p) = crate::server::catalog::find_project(db, pid).await? {
            let project = graph::node(db, "project", &pid.to_string(), &p.name, now).await?;
            graph::assert_edge(db, project.id, decision.id, "decided", 1.0, "council", now).await?;
        }
    }
    Ok(())
}

/// One deliberation with its turns.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeliberationInfo> {
    caller.authorize(Operation::ReadCouncil)?;
    let m = repo::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("deliberation"))?;
    let turns = turns_of(state, id).await?;
    Ok(info(m, turns)?)
}

/// Deliberations, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: DeliberationsQuery,
) -> ServerResult<Vec<DeliberationSummary>> {
    caller.authorize(Operation::ReadCouncil)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 100").into());
    }
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(bad("search", "at most 200 characters").into());
    }
    let rows = repo::page(
        &state.db,
        repo::Page {
            project_id: q.project_id,
            before: q.before,
            search,
            limit: u64::from(limit),
        },
    )
    .await?;
    // One row that cannot be read fails the page, naming it: a summary without its consensus
    // would pass for a deliberation that reached none.
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let c = repo::consensus(&m)?;
        out.push(DeliberationSummary {
            id: m.id,
            question: m.question,
            project_id: m.project_id,
            option: c.as_ref().and_then(|c| c.option.clone()),
            confidence: c.map(|c| c.confidence),
            status: m.status,
            outcome: m.outcome,
            created_at: m.created_at,
        });
    }
    Ok(out)
}

/// Records which option turned out right; it feeds the personas' track records.
pub async fn record_outcome(
    state: &AppState,
    caller: &Caller,
    req: OutcomeRequest,
) -> ServerResult<DeliberationInfo> {
    caller.authorize(Operation::Deliberate)?;
    let did = req.id;
    settle(state, caller.into(), req).await?;
    get(state, caller, did).await
}

/// Records an outcome Optimus itself observed (a deployment the council was asked about
/// stayed healthy, or was rolled back): the same as [`record_outcome`], by `actor`.
pub async fn record_observed_outcome(
    state: &AppState,
    actor: audit::Actor,
    req: OutcomeRequest,
) -> ServerResult<()> {
    settle(state, actor, req).await
}

async fn settle(state: &AppState, actor: audit::Actor, req: OutcomeRequest) -> ServerResult<()> {
    let m = repo::find(&state.db, req.id)
        .await?
        .ok_or_else(|| AppError::not_found("deliberation"))?;
    let options = repo::options(&m)?;
    let outcome = option_id(&req.outcome);
    if !options.iter().any(|o| o.id == outcome) {
        return Err(AppError::unprocessable(
            "outcome",
            format!(
                "must be one of the deliberation's options: {}",
                options
                    .iter()
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into());
    }
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(bad("note", "at most 2000 characters").into());
    }
    let now = Utc::now();
    let question = m.question.clone();
    let (did, project_id) = (m.id, m.project_id);
    let txn = crate::server::db::begin(&state.db).await?;
    repo::set_outcome(&txn, m, &outcome, req.note.clone(), now).await?;
    // The decision matters more now that its outcome is known.
    memories::set_deliberation_importance(&txn, did, 0.8).await?;
    memory::remember(
        &txn,
        NewMemory {
            kind: "outcome",
            deliberation_id: Some(did),
            project_id,
            persona: None,
            title: format!("Outcome of: {question}"),
            content: format!(
                "{question} — it turned out that {outcome} was right. {}",
                req.note.clone().unwrap_or_default()
            ),
            importance: 0.8,
        },
        now,
    )
    .await?;
    audit::commit(
        txn,
        &state.bus,
        actor,
        "council.outcome",
        &format!("deliberation:{did}"),
    )
    .await?;
    // The outcome is recorded whatever happens here: a refit that fails is retried by the next.
    if let Err(e) = judgement::calibration::refit(&state.db, now).await {
        tracing::warn!(error = %e, "the council's calibration could not be refitted");
    }
    Ok(())
}
