//! Per-project service counts for the project cards: how many services a project defines, how
//! many run and how many are crash-looping. The catalog never asks the runtime; the page does.

use crate::error::AppError;
use crate::models::runtime::{ProjectRuntimeSummary, RuntimeSummaryQuery, ServiceState};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::runtime::repo;
use crate::server::AppState;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::BTreeMap;

/// The most projects one request may name.
const MAX_PROJECTS: usize = 1000;

/// How many services are left in `crash_loop` (for the `optimus_services_crash_looping` gauge;
/// no caller: the metrics endpoint is for operators).
pub async fn crash_looping(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    repo::services::count_in_state(db, ServiceState::CrashLoop).await
}

/// The service counts of the projects in `q.project_ids` (every project when absent), by
/// project id. Projects without services are left out.
pub async fn project_summaries(
    state: &AppState,
    caller: &Caller,
    q: RuntimeSummaryQuery,
) -> ServerResult<Vec<ProjectRuntimeSummary>> {
    caller.authorize(Operation::ReadRuntime)?;
    if q.project_ids
        .as_ref()
        .is_some_and(|ids| ids.len() > MAX_PROJECTS)
    {
        return Err(AppError::validation(
            "project_ids",
            format!("name at most {MAX_PROJECTS} projects (or none for all)"),
        )
        .into());
    }
    // Only the projects asked about are read (the page names the cards it shows).
    let services = match q.project_ids {
        Some(ids) => repo::services::of_projects(&state.db, ids).await?,
        None => repo::services::all(&state.db).await?,
    };
    Ok(summarize(
        services
            .iter()
            .map(|m| (m.project_id, repo::services::state(m))),
    ))
}

/// Counts (project, state) pairs per project, in project order.
fn summarize(states: impl IntoIterator<Item = (i64, ServiceState)>) -> Vec<ProjectRuntimeSummary> {
    let mut by_project: BTreeMap<i64, ProjectRuntimeSummary> = BTreeMap::new();
    for (project_id, st) in states {
        let s = by_project
            .entry(project_id)
            .or_insert_with(|| ProjectRuntimeSummary {
                project_id,
                ..Default::default()
            });
        s.total += 1;
        if st.is_live() {
            s.running += 1;
        }
        if st == ServiceState::CrashLoop {
            s.crash_looping += 1;
        }
    }
    by_project.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_live_and_crash_looping_services_per_project() {
        let got = summarize([
            (2, ServiceState::Ready),
            (1, ServiceState::Stopped),
            (2, ServiceState::CrashLoop),
            (2, ServiceState::Starting),
            (1, ServiceState::Backoff),
        ]);
        assert_eq!(
            got,
            vec![
                ProjectRuntimeSummary {
                    project_id: 1,
                    total: 2,
                    running: 0,
                    crash_looping: 0
                },
                ProjectRuntimeSummary {
                    project_id: 2,
                    total: 3,
                    running: 2,
                    crash_looping: 1
                },
            ]
        );
    }

    #[test]
    fn a_catalog_without_services_has_no_summaries() {
        assert!(summarize([]).is_empty());
    }
}
