//! The Council of Minds service: deliberate, read and list deliberations, record outcomes,
//! personas with their track records, memories, and the knowledge graph.

use super::audit;
use crate::error::AppError;
use crate::models::council::{
    option_id, Consensus, DeliberateRequest, DeliberationInfo, DeliberationSummary,
    DeliberationsQuery, Evidence, OptionInfo, OutcomeRequest, PersonaInfo, SavePersonaRequest,
    Turn, DEFAULT_OPTIONS,
};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::auth::Caller;
use crate::server::council::consensus::{self, Vote};
use crate::server::council::llm::Llm;
use crate::server::council::memory::{self, NewMemory};
use crate::server::council::{evidence, gather, graph, personas, Context, Engine, Offline};
use crate::server::entities::{
    council_deliberation, council_memory, council_persona, council_turn,
};
use crate::server::error::ServerResult;
use crate::server::repos;
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one persona may take with the offline engine before it abstains.
const OFFLINE_DEADLINE: Duration = Duration::from_secs(30);

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

/// Adds the built-in personas that are missing (never overwrites an edited one).
pub async fn seed_personas(state: &AppState) -> ServerResult<()> {
    let now = Utc::now();
    let rows = personas::BUILTIN
        .iter()
        .map(|b| council_persona::ActiveModel {
            key: Set(b.key.to_owned()),
            name: Set(b.name.to_owned()),
            role: Set(b.role.to_owned()),
            domains: Set(serde_json::to_string(b.domains).unwrap_or_else(|_| "[]".into())),
            stance: Set(b.stance.to_owned()),
            technical: Set(b.technical),
            model: Set(None),
            builtin: Set(true),
            enabled: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
    council_persona::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(council_persona::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await?;
    Ok(())
}

/// Each persona's (decided, correct, Brier sum) over deliberations with a recorded outcome.
async fn track_records(state: &AppState) -> ServerResult<BTreeMap<String, (u32, u32, f64)>> {
    let decided = council_deliberation::Entity::find()
        .filter(council_deliberation::Column::Outcome.is_not_null())
        .order_by_desc(council_deliberation::Column::Id)
        .limit(2000)
        .all(&state.db)
        .await?;
    let mut out: BTreeMap<String, (u32, u32, f64)> = BTreeMap::new();
    if decided.is_empty() {
        return Ok(out);
    }
    let outcomes: BTreeMap<i64, String> = decided
        .iter()
        .filter_map(|d| d.outcome.clone().map(|o| (d.id, o)))
        .collect();
    let turns = council_turn::Entity::find()
        .filter(
            council_turn::Column::DeliberationId
                .is_in(outcomes.keys().copied().collect::<Vec<_>>()),
        )
        .order_by_asc(council_turn::Column::Round)
        .all(&state.db)
        .await?;
    // The last round's turn counts.
    let mut last: BTreeMap<(i64, String), &council_turn::Model> = BTreeMap::new();
    for t in &turns {
        last.insert((t.deliberation_id, t.persona.clone()), t);
    }
    for ((did, persona), t) in last {
        let (Some(outcome), Some(choice)) = (outcomes.get(&did), t.choice.as_ref()) else {
            continue;
        };
        let hit = choice == outcome;
        let e = out.entry(persona).or_default();
        e.0 += 1;
        e.1 += u32::from(hit);
        e.2 += (t.confidence - if hit { 1.0 } else { 0.0 }).powi(2);
    }
    Ok(out)
}

fn persona_info(m: council_persona::Model, record: Option<&(u32, u32, f64)>) -> PersonaInfo {
    let (decided, correct, brier) = record.copied().unwrap_or((0, 0, 0.0));
    PersonaInfo {
        key: m.key,
        name: m.name,
        role: m.role,
        domains: serde_json::from_str(&m.domains).unwrap_or_default(),
        stance: m.stance,
        technical: m.technical,
        model: m.model,
        builtin: m.builtin,
        enabled: m.enabled,
        decided,
        correct,
        brier: (decided > 0).then(|| ((brier / f64::from(decided)) * 1000.0).round() / 1000.0),
    }
}

async fn all_personas(state: &AppState) -> ServerResult<Vec<PersonaInfo>> {
    seed_personas(state).await?;
    let records = track_records(state).await?;
    let rows = council_persona::Entity::find()
        .order_by_asc(council_persona::Column::Id)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let r = records.get(&m.key).copied();
            persona_info(m, r.as_ref())
        })
        .collect())
}

/// Every persona with its track record.
pub async fn list_personas(state: &AppState, caller: &Caller) -> ServerResult<Vec<PersonaInfo>> {
    caller.authorize(Operation::ReadCouncil)?;
    all_personas(state).await
}

/// Changes a persona, or adds one under a new key (admins).
pub async fn save_persona(
    state: &AppState,
    caller: &Caller,
    req: SavePersonaRequest,
) -> ServerResult<Vec<PersonaInfo>> {
    caller.authorize(Operation::EditPersonas)?;
    let key_ok = (2..=32).contains(&req.key.len())
        && req
            .key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        return Err(bad("key", "must be 2 to 32 of a-z 0-9 _").into());
    }
    if req.name.trim().is_empty() || req.name.len() > 64 {
        return Err(bad("name", "must have 1 to 64 characters").into());
    }
    if req.role.trim().is_empty() || req.role.len() > 300 {
        return Err(bad("role", "must have 1 to 300 characters").into());
    }
    if req.domains.is_empty()
        || req.domains.len() > 12
        || req.domains.iter().any(|d| {
            d.is_empty() || d.len() > 32 || !d.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
    {
        return Err(bad("domains", "1 to 12 lower-case words (a-z, _)").into());
    }
    const STANCES: [&str; 5] = ["cautious", "pragmatic", "bold", "evidence", "long_term"];
    if !STANCES.contains(&req.stance.as_str()) {
        return Err(bad("stance", format!("must be one of {}", STANCES.join(", "))).into());
    }
    if req
        .model
        .as_ref()
        .is_some_and(|m| m.is_empty() || m.len() > 128)
    {
        return Err(bad("model", "must have 1 to 128 characters").into());
    }
    seed_personas(state).await?;
    let now = Utc::now();
    let existing = council_persona::Entity::find()
        .filter(council_persona::Column::Key.eq(&req.key))
        .one(&state.db)
        .await?;
    let domains = serde_json::to_string(&req.domains).unwrap_or_else(|_| "[]".into());
    match existing {
        Some(m) => {
            let mut a: council_persona::ActiveModel = m.into();
            a.name = Set(req.name.trim().to_owned());
            a.role = Set(req.role.trim().to_owned());
            a.domains = Set(domains);
            a.stance = Set(req.stance.clone());
            a.model = Set(req.model.clone());
            a.enabled = Set(req.enabled);
            a.updated_at = Set(now);
            a.update(&state.db).await?;
        }
        None => {
            council_persona::ActiveModel {
                key: Set(req.key.clone()),
                name: Set(req.name.trim().to_owned()),
                role: Set(req.role.trim().to_owned()),
                domains: Set(domains),
                stance: Set(req.stance.clone()),
                technical: Set(false),
                model: Set(req.model.clone()),
                builtin: Set(false),
                enabled: Set(req.enabled),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&state.db)
            .await?;
        }
    }
    audit::record(
        state,
        caller.into(),
        "council.persona",
        &format!("persona:{}", req.key),
        "ok",
    )
    .await?;
    all_personas(state).await
}

/// The options of a request: the asker's (2–8, distinct) or the default set.
fn options_of(req: &DeliberateRequest) -> Result<Vec<OptionInfo>, AppError> {
    if req.options.is_empty() {
        return Ok(DEFAULT_OPTIONS
            .iter()
            .map(|(id, label)| OptionInfo {
                id: (*id).into(),
                label: (*label).into(),
            })
            .collect());
    }
    if !(2..=8).contains(&req.options.len()) {
        return Err(bad(
            "options",
            "give 2 to 8 options, or none for the default set",
        ));
    }
    let mut out: Vec<OptionInfo> = Vec::new();
    for label in &req.options {
        let id = option_id(label);
        if id.is_empty() || label.len() > 80 {
            return Err(bad(
                "options",
                format!("`{label}` must have 1 to 80 characters with a letter or digit"),
            ));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(bad("options", format!("`{label}` is given twice")));
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
            Value::String(s) if s.len() > 500 => {
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

fn info(m: council_deliberation::Model, turns: Vec<Turn>) -> DeliberationInfo {
    DeliberationInfo {
        id: m.id,
        question: m.question,
        project_id: m.project_id,
        facts: serde_json::from_str(&m.facts).unwrap_or_default(),
        options: serde_json::from_str(&m.options).unwrap_or_default(),
        status: m.status,
        engine: m.engine,
        evidence: serde_json::from_str(&m.evidence).unwrap_or_default(),
        turns,
        consensus: m
            .consensus
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
        asked_by: m.asked_by,
        created_at: m.created_at,
        finished_at: m.finished_at,
        outcome: m.outcome,
        outcome_note: m.outcome_note,
    }
}

async fn turns_of(state: &AppState, id: i64) -> ServerResult<Vec<Turn>> {
    Ok(council_turn::Entity::find()
        .filter(council_turn::Column::DeliberationId.eq(id))
        .order_by_asc(council_turn::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|t| serde_json::from_str(&t.body).ok())
        .collect())
}

async fn save_turn(state: &AppState, deliberation_id: i64, t: &Turn) -> ServerResult<()> {
    council_turn::ActiveModel {
        deliberation_id: Set(deliberation_id),
        persona: Set(t.persona.clone()),
        round: Set(i16::from(t.round)),
        choice: Set(t.option.clone()),
        confidence: Set(t.confidence),
        body: Set(serde_json::to_string(t).unwrap_or_else(|_| "{}".into())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    state
        .bus
        .publish(Event::CouncilTurn {
            deliberation_id,
            turn: t.clone(),
        })
        .await;
    Ok(())
}

/// Keeps only the evidence a persona may cite: ids that exist.
fn cited_only(mut t: Turn, evidence: &[Evidence]) -> Turn {
    t.evidence.retain(|id| evidence.iter().any(|e| &e.id == id));
    t
}

/// Runs one round for every persona concurrently; a persona that fails or runs past the
/// deadline abstains.
async fn round<E: Engine>(
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
    for t in &first {
        save_turn(state, id, t).await?;
    }
    if !second_round {
        return Ok(first);
    }
    let second = round(engine, asked, ctx, Some(&first), deadline).await;
    for t in &second {
        save_turn(state, id, t).await?;
    }
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
        repos::projects::find(&state.db, pid)
            .await?
            .ok_or_else(|| AppError::not_found("project"))?;
    }
    let everyone = all_personas(state).await?;
    if let Some(unknown) = req
        .personas
        .iter()
        .find(|k| !everyone.iter().any(|p| &p.key == *k))
    {
        return Err(bad("personas", format!("no persona `{unknown}`")).into());
    }
    let topics = personas::topics(&question);
    let asked = personas::route(&everyone, &req.personas, &topics);
    if asked.is_empty() {
        return Err(bad("personas", "no enabled persona to ask").into());
    }
    let llm = llm_engine(state);
    let now = Utc::now();
    let row = council_deliberation::ActiveModel {
        question: Set(question.clone()),
        project_id: Set(req.project_id),
        facts: Set(serde_json::to_string(&req.facts).unwrap_or_else(|_| "{}".into())),
        options: Set(serde_json::to_string(&options).unwrap_or_else(|_| "[]".into())),
        status: Set("running".into()),
        engine: Set(llm.as_ref().map_or(Offline.name(), |l| l.name()).into()),
        evidence: Set("[]".into()),
        consensus: Set(None),
        asked_by: Set(Some(caller.username.clone())),
        created_at: Set(now),
        finished_at: Set(None),
        outcome: Set(None),
        outcome_note: Set(None),
        outcome_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let id = row.id;
    let situation = gather::situation(
        &state.db,
        &question,
        req.project_id,
        &req.facts,
        &topics,
        now,
    )
    .await?;
    let (evidence_list, signals) = evidence::assess(&situation);
    let ctx = Context {
        question: &question,
        options: &options,
        evidence: &evidence_list,
        signals: &signals,
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
    let result: Consensus = consensus::combine(&votes, &options);
    let mut done: council_deliberation::ActiveModel = row.into();
    done.evidence = Set(serde_json::to_string(&evidence_list).unwrap_or_else(|_| "[]".into()));
    done.consensus = Set(Some(
        serde_json::to_string(&result).unwrap_or_else(|_| "{}".into()),
    ));
    done.status = Set("done".into());
    done.finished_at = Set(Some(Utc::now()));
    let done = done.update(&state.db).await?;
    state
        .bus
        .publish(Event::CouncilDone {
            deliberation_id: id,
            consensus: result.clone(),
        })
        .await;
    remember(state, &done, &last, &result).await?;
    audit::record(
        state,
        caller.into(),
        "council.deliberate",
        &format!("deliberation:{id}"),
        "ok",
    )
    .await?;
    let turns = turns_of(state, id).await?;
    Ok(info(done, turns))
}

/// Stores the deliberation and each final turn as memories, and links the decision into the
/// knowledge graph.
async fn remember(
    state: &AppState,
    d: &council_deliberation::Model,
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
        &state.db,
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
            &state.db,
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
    let decision = graph::node(&state.db, "decision", &d.id.to_string(), &d.question, now).await?;
    if let Some(pid) = d.project_id {
        if let Some(p) = repos::projects::find(&state.db, pid).await? {
            let project = graph::node(&state.db, "project", &pid.to_string(), &p.name, now).await?;
            graph::assert_edge(
                &state.db,
                project.id,
                decision.id,
                "decided",
                1.0,
                "council",
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// One deliberation with its turns.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeliberationInfo> {
    caller.authorize(Operation::ReadCouncil)?;
    let m = council_deliberation::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("deliberation"))?;
    let turns = turns_of(state, id).await?;
    Ok(info(m, turns))
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
    let mut find = council_deliberation::Entity::find();
    if let Some(p) = q.project_id {
        find = find.filter(council_deliberation::Column::ProjectId.eq(p));
    }
    if let Some(b) = q.before {
        find = find.filter(council_deliberation::Column::Id.lt(b));
    }
    if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if s.len() > 200 {
            return Err(bad("search", "at most 200 characters").into());
        }
        find = find.filter(council_deliberation::Column::Question.contains(s));
    }
    let rows = find
        .order_by_desc(council_deliberation::Column::Id)
        .limit(u64::from(limit))
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let c: Option<Consensus> = m
                .consensus
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok());
            DeliberationSummary {
                id: m.id,
                question: m.question,
                project_id: m.project_id,
                option: c.as_ref().and_then(|c| c.option.clone()),
                confidence: c.map(|c| c.confidence),
                status: m.status,
                outcome: m.outcome,
                created_at: m.created_at,
            }
        })
        .collect())
}

/// Records which option turned out right; it feeds the personas' track records.
pub async fn record_outcome(
    state: &AppState,
    caller: &Caller,
    req: OutcomeRequest,
) -> ServerResult<DeliberationInfo> {
    caller.authorize(Operation::Deliberate)?;
    let m = council_deliberation::Entity::find_by_id(req.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("deliberation"))?;
    let options: Vec<OptionInfo> = serde_json::from_str(&m.options).unwrap_or_default();
    let outcome = option_id(&req.outcome);
    if !options.iter().any(|o| o.id == outcome) {
        return Err(bad(
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
    if req.note.as_ref().is_some_and(|n| n.len() > 2000) {
        return Err(bad("note", "at most 2000 characters").into());
    }
    let now = Utc::now();
    let question = m.question.clone();
    let (did, project_id) = (m.id, m.project_id);
    let mut a: council_deliberation::ActiveModel = m.into();
    a.outcome = Set(Some(outcome.clone()));
    a.outcome_note = Set(req.note.clone());
    a.outcome_at = Set(Some(now));
    a.update(&state.db).await?;
    // The decision matters more now that its outcome is known.
    council_memory::Entity::update_many()
        .col_expr(
            council_memory::Column::Importance,
            sea_orm::sea_query::Expr::value(0.8),
        )
        .filter(council_memory::Column::DeliberationId.eq(did))
        .filter(council_memory::Column::Kind.eq("deliberation"))
        .exec(&state.db)
        .await?;
    memory::remember(
        &state.db,
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
    audit::record(
        state,
        caller.into(),
        "council.outcome",
        &format!("deliberation:{did}"),
        "ok",
    )
    .await?;
    get(state, caller, did).await
}

/// A knowledge-graph neighbourhood around a project (its catalog facts synced first) or a
/// decision, as known now or at a given time.
pub async fn graph_view(
    state: &AppState,
    caller: &Caller,
    req: crate::models::council::GraphRequest,
) -> ServerResult<crate::models::council::GraphView> {
    use crate::models::council::{GraphEdge, GraphNode, GraphView};
    caller.authorize(Operation::ReadCouncil)?;
    let depth = req.depth.unwrap_or(2);
    if !(1..=3).contains(&depth) {
        return Err(bad("depth", "must be 1, 2 or 3").into());
    }
    let now = Utc::now();
    let start = match (req.project_id, req.deliberation_id) {
        (Some(pid), None) => {
            let p = repos::projects::find(&state.db, pid)
                .await?
                .ok_or_else(|| AppError::not_found("project"))?;
            graph::sync_project(&state.db, &p, now).await?
        }
        (None, Some(did)) => {
            let d = council_deliberation::Entity::find_by_id(did)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::not_found("deliberation"))?;
            graph::node(&state.db, "decision", &did.to_string(), &d.question, now).await?
        }
        _ => {
            return Err(bad(
                "project_id",
                "name a project_id or a deliberation_id (one of them)",
            )
            .into())
        }
    };
    let n = graph::neighbours(&state.db, start.id, depth, req.at).await?;
    Ok(GraphView {
        nodes: n
            .nodes
            .into_iter()
            .map(|(m, d)| GraphNode {
                id: m.id,
                kind: m.kind,
                key: m.key,
                label: m.label,
                distance: d,
            })
            .collect(),
        edges: n
            .edges
            .into_iter()
            .map(|e| GraphEdge {
                src: e.src,
                dst: e.dst,
                kind: e.kind,
                weight: e.weight,
                valid_from: e.valid_from,
                valid_to: e.valid_to,
            })
            .collect(),
    })
}

fn memory_info(m: council_memory::Model, score: Option<f64>) -> crate::models::council::MemoryInfo {
    crate::models::council::MemoryInfo {
        id: m.id,
        kind: m.kind,
        deliberation_id: m.deliberation_id,
        project_id: m.project_id,
        persona: m.persona,
        title: m.title,
        content: m.content,
        importance: m.importance,
        pinned: m.pinned,
        created_at: m.created_at,
        score: score.map(|s| (s * 1000.0).round() / 1000.0),
    }
}

/// Memories: ranked by recall when searched, else newest first.
pub async fn memories(
    state: &AppState,
    caller: &Caller,
    q: crate::models::council::MemoriesQuery,
) -> ServerResult<Vec<crate::models::council::MemoryInfo>> {
    caller.authorize(Operation::ReadCouncil)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 100").into());
    }
    match q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            if s.len() > 500 {
                return Err(bad("search", "at most 500 characters").into());
            }
            let found =
                memory::recall(&state.db, s, q.project_id, limit as usize, Utc::now()).await?;
            Ok(found
                .into_iter()
                .filter(|x| q.project_id.is_none() || x.memory.project_id == q.project_id)
                .map(|x| memory_info(x.memory, Some(x.score)))
                .collect())
        }
        None => {
            let mut find = council_memory::Entity::find();
            if let Some(p) = q.project_id {
                find = find.filter(council_memory::Column::ProjectId.eq(p));
            }
            Ok(find
                .order_by_desc(council_memory::Column::Id)
                .limit(u64::from(limit))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|m| memory_info(m, None))
                .collect())
        }
    }
}

async fn memory_of(state: &AppState, id: i64) -> ServerResult<council_memory::Model> {
    Ok(council_memory::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("memory"))?)
}

/// Edits, pins or unpins a memory.
pub async fn update_memory(
    state: &AppState,
    caller: &Caller,
    req: crate::models::council::UpdateMemoryRequest,
) -> ServerResult<crate::models::council::MemoryInfo> {
    caller.authorize(Operation::ManageMemories)?;
    if req
        .title
        .as_ref()
        .is_some_and(|t| t.trim().is_empty() || t.len() > 300)
    {
        return Err(bad("title", "must have 1 to 300 characters").into());
    }
    if req
        .content
        .as_ref()
        .is_some_and(|c| c.trim().is_empty() || c.len() > 20_000)
    {
        return Err(bad("content", "must have 1 to 20000 characters").into());
    }
    if req.importance.is_some_and(|i| !(0.0..=1.0).contains(&i)) {
        return Err(bad("importance", "must be between 0 and 1").into());
    }
    let m = memory_of(state, req.id).await?;
    let mut a: council_memory::ActiveModel = m.into();
    if let Some(t) = req.title {
        a.title = Set(t.trim().to_owned());
    }
    if let Some(c) = req.content {
        a.content = Set(c);
    }
    if let Some(i) = req.importance {
        a.importance = Set(i);
    }
    if let Some(p) = req.pinned {
        a.pinned = Set(p);
    }
    a.updated_at = Set(Utc::now());
    let m = a.update(&state.db).await?;
    audit::record(
        state,
        caller.into(),
        "council.memory_update",
        &format!("memory:{}", m.id),
        "ok",
    )
    .await?;
    Ok(memory_info(m, None))
}

/// Forgets a memory; the audit log keeps that it was forgotten (not what it said).
pub async fn forget_memory(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageMemories)?;
    let m = memory_of(state, id).await?;
    council_memory::Entity::delete_by_id(m.id)
        .exec(&state.db)
        .await?;
    audit::record(
        state,
        caller.into(),
        "council.memory_forget",
        &format!("memory:{id} ({})", m.kind),
        "ok",
    )
    .await?;
    Ok(())
}

/// Brings the knowledge graph in line with the catalog for these projects (uses, depends_on).
/// A failure is logged: the graph catches up on the next sync.
pub async fn sync_projects(state: &AppState, ids: &[i64]) {
    let now = Utc::now();
    for id in ids {
        let result = async {
            if let Some(p) = repos::projects::find(&state.db, *id).await? {
                graph::sync_project(&state.db, &p, now).await?;
            }
            Ok::<(), sea_orm::DbErr>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(project.id = id, error = %e, "could not update the knowledge graph");
        }
    }
}

/// Links a runtime incident (a failed run, a crash loop) into the knowledge graph: the service
/// is `part_of` its project, the incident `affected` the service. Logged, never fatal.
pub async fn record_incident(
    state: &AppState,
    project: (i64, &str),
    service: (i64, &str),
    key: &str,
    label: &str,
) {
    let now = Utc::now();
    let result = async {
        let p = graph::node(&state.db, "project", &project.0.to_string(), project.1, now).await?;
        let s = graph::node(&state.db, "service", &service.0.to_string(), service.1, now).await?;
        graph::assert_edge(&state.db, s.id, p.id, "part_of", 1.0, "runtime", now).await?;
        let i = graph::node(&state.db, "incident", key, label, now).await?;
        graph::assert_edge(&state.db, i.id, s.id, "affected", 1.0, "runtime", now).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(service.id = service.0, error = %e, "could not record the incident in the knowledge graph");
    }
}

/// The shortest path between two projects in the knowledge graph (as known now), as nodes.
pub async fn graph_path(
    state: &AppState,
    caller: &Caller,
    req: crate::models::council::PathRequest,
) -> ServerResult<Vec<crate::models::council::GraphNode>> {
    caller.authorize(Operation::ReadCouncil)?;
    let now = Utc::now();
    let mut ends = Vec::new();
    for (field, id) in [
        ("from_project_id", req.from_project_id),
        ("to_project_id", req.to_project_id),
    ] {
        let p = repos::projects::find(&state.db, id)
            .await?
            .ok_or_else(|| bad(field, format!("no project {id}")))?;
        ends.push(graph::sync_project(&state.db, &p, now).await?);
    }
    let Some(path) = graph::shortest_path(&state.db, ends[0].id, ends[1].id, 6).await? else {
        return Ok(Vec::new());
    };
    let nodes = crate::server::entities::kg_node::Entity::find()
        .filter(crate::server::entities::kg_node::Column::Id.is_in(path.clone()))
        .all(&state.db)
        .await?;
    Ok(path
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            nodes
                .iter()
                .find(|n| n.id == *id)
                .map(|n| crate::models::council::GraphNode {
                    id: n.id,
                    kind: n.kind.clone(),
                    key: n.key.clone(),
                    label: n.label.clone(),
                    distance: u32::try_from(i).unwrap_or(u32::MAX),
                })
        })
        .collect())
}
