//! A project's services held still while another feature works on its folder (an in-place
//! restore): which of them run, stopping those (dependents first), and starting again exactly
//! those that were stopped (dependencies first). Callers authorize; these do not.

use super::control::{ordered, start_all, stop_all};
use super::repo;
use crate::server::error::ServerResult;
use crate::server::AppState;

/// A service that was running and was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub id: i64,
    pub name: String,
}

/// The names of a project's own services (not deployed instances) that run now, on any
/// instance.
pub async fn running(state: &AppState, project_id: i64) -> ServerResult<Vec<String>> {
    Ok(repo::services::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .filter(|m| repo::services::state(m).is_active())
        .map(|m| m.name)
        .collect())
}

/// Stops a project's running services, dependents first; those it stopped.
pub async fn pause(state: &AppState, project_id: i64) -> ServerResult<Vec<Paused>> {
    let active: Vec<_> = ordered(repo::services::of_project(&state.db, project_id).await?)
        .into_iter()
        .filter(|m| repo::services::state(m).is_active())
        .collect();
    stop_all(state, &active).await?;
    Ok(active
        .into_iter()
        .map(|m| Paused {
            id: m.id,
            name: m.name,
        })
        .collect())
}

/// Starts again the services of `project_id` that [`pause`] stopped (those still there),
/// dependencies first.
pub async fn resume(state: &AppState, project_id: i64, paused: &[Paused]) -> ServerResult<()> {
    if paused.is_empty() {
        return Ok(());
    }
    let wanted: Vec<_> = repo::services::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .filter(|m| paused.iter().any(|p| p.id == m.id))
        .collect();
    start_all(state, &ordered(wanted)).await
}
