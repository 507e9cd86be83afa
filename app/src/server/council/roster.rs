//! The stored personas: seeded once, edited by admins, with their track records.

use super::deliberations::bad;
use crate::models::council::{PersonaInfo, SavePersonaRequest};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::council::personas;
use crate::server::council::repo::deliberations::{self, TurnRow};
use crate::server::council::repo::personas::{self as repo, Persona, PersonaFields};
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use crate::server::stored::Undecodable;
use chrono::Utc;
use std::collections::BTreeMap;

/// Adds the built-in personas that are missing (never overwrites an edited one).
pub async fn seed_personas(state: &AppState) -> ServerResult<()> {
    repo::seed(&state.db, &personas::BUILTIN, Utc::now()).await?;
    Ok(())
}

/// Each persona's (decided, correct, Brier sum) over deliberations with a recorded outcome.
async fn track_records(state: &AppState) -> ServerResult<BTreeMap<String, (u32, u32, f64)>> {
    let decided = deliberations::decided(&state.db, 2000).await?;
    let mut out: BTreeMap<String, (u32, u32, f64)> = BTreeMap::new();
    if decided.is_empty() {
        return Ok(out);
    }
    let outcomes: BTreeMap<i64, String> = decided
        .iter()
        .filter_map(|d| d.outcome.clone().map(|o| (d.id, o)))
        .collect();
    let turns = deliberations::turns_of_all(&state.db, outcomes.keys().copied().collect()).await?;
    // The last round's turn counts.
    let mut last: BTreeMap<(i64, String), &TurnRow> = BTreeMap::new();
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

fn persona_info(m: Persona, record: Option<&(u32, u32, f64)>) -> Result<PersonaInfo, Undecodable> {
    let (decided, correct, brier) = record.copied().unwrap_or((0, 0, 0.0));
    Ok(PersonaInfo {
        domains: repo::domains(&m)?,
        key: m.key,
        name: m.name,
        role: m.role,
        stance: m.stance,
        technical: m.technical,
        model: m.model,
        builtin: m.builtin,
        enabled: m.enabled,
        decided,
        correct,
        brier: (decided > 0).then(|| ((brier / f64::from(decided)) * 1000.0).round() / 1000.0),
    })
}

pub(super) async fn all_personas(state: &AppState) -> ServerResult<Vec<PersonaInfo>> {
    seed_personas(state).await?;
    let records = track_records(state).await?;
    let rows = repo::all(&state.db).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let r = records.get(&m.key).copied();
            persona_info(m, r.as_ref())
        })
        .collect::<Result<_, _>>()?)
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
    if req.name.trim().is_empty() || req.name.chars().count() > 64 {
        return Err(bad("name", "must have 1 to 64 characters").into());
    }
    if req.role.trim().is_empty() || req.role.chars().count() > 300 {
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
        .is_some_and(|m| m.is_empty() || m.chars().count() > 128)
    {
        return Err(bad("model", "must have 1 to 128 characters").into());
    }
    seed_personas(state).await?;
    let now = Utc::now();
    let existing = repo::by_key(&state.db, &req.key).await?;
    let fields = PersonaFields {
        name: req.name.trim(),
        role: req.role.trim(),
        domains: &req.domains,
        stance: &req.stance,
        model: req.model.clone(),
        enabled: req.enabled,
    };
    let txn = crate::server::db::begin(&state.db).await?;
    match existing {
        Some(m) => repo::update(&txn, m, fields, now).await?,
        None => repo::insert(&txn, &req.key, fields, now).await?,
    };
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "council.persona",
        &format!("persona:{}", req.key),
    )
    .await?;
    all_personas(state).await
}
