//! Memories: search, edit, pin and forget.

use super::deliberations::bad;
use crate::error::AppError;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::council::memory;
use crate::server::council::repo::memories::{self as repo, Memory, MemoryEdit};
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::Utc;

fn memory_info(m: Memory, score: Option<f64>) -> crate::models::council::MemoryInfo {
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
            if s.chars().count() > 500 {
                return Err(bad("search", "at most 500 characters").into());
            }
            let found =
                memory::recall(&state.db, s, q.project_id, true, limit as usize, Utc::now())
                    .await?;
            Ok(found
                .into_iter()
                .map(|x| memory_info(x.memory, Some(x.score)))
                .collect())
        }
        None => Ok(repo::newest(&state.db, q.project_id, u64::from(limit))
            .await?
            .into_iter()
            .map(|m| memory_info(m, None))
            .collect()),
    }
}

async fn memory_of(state: &AppState, id: i64) -> ServerResult<Memory> {
    Ok(repo::find(&state.db, id)
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
        .is_some_and(|t| t.trim().is_empty() || t.chars().count() > 300)
    {
        return Err(bad("title", "must have 1 to 300 characters").into());
    }
    if req
        .content
        .as_ref()
        .is_some_and(|c| c.trim().is_empty() || c.chars().count() > 20_000)
    {
        return Err(bad("content", "must have 1 to 20000 characters").into());
    }
    if req.importance.is_some_and(|i| !(0.0..=1.0).contains(&i)) {
        return Err(bad("importance", "must be between 0 and 1").into());
    }
    let m = memory_of(state, req.id).await?;
    let edit = MemoryEdit {
        title: req.title.map(|t| t.trim().to_owned()),
        content: req.content,
        importance: req.importance,
        pinned: req.pinned,
    };
    let now = Utc::now();
    let txn = crate::server::db::begin(&state.db).await?;
    let m = repo::update(&txn, m, edit, now).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "council.memory_update",
        &format!("memory:{}", m.id),
    )
    .await?;
    Ok(memory_info(m, None))
}

/// Forgets a memory; the audit log keeps that it was forgotten (not what it said).
pub async fn forget_memory(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageMemories)?;
    let m = memory_of(state, id).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::delete(&txn, m.id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "council.memory_forget",
        &format!("memory:{id} ({})", m.kind),
    )
    .await?;
    Ok(())
}
