//! What a finished run hands to other features: a release is made from a succeeded run's
//! artifacts (the deployments feature), with the commit and branch it ran for.

use super::executor::run_folder;
use super::repo;
use crate::error::AppError;
use crate::models::pipelines::RunState;
use crate::server::error::ServerResult;
use crate::server::AppState;
use std::path::PathBuf;

/// A succeeded run's kept files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutputs {
    pub project_id: i64,
    pub commit: Option<String>,
    pub branch: Option<String>,
    /// Each artifact: its path (relative, `/`-separated) and Optimus's copy of it.
    pub files: Vec<(String, PathBuf)>,
}

/// The artifacts of run `run_id`, which must have succeeded (422 otherwise, naming
/// `pipeline_run_id`) and kept at least one file.
pub async fn outputs(state: &AppState, run_id: i64) -> ServerResult<RunOutputs> {
    let run = repo::runs::find(&state.db, run_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("pipeline run {run_id}")))?;
    if RunState::parse(&run.state) != Some(RunState::Succeeded) {
        return Err(AppError::unprocessable(
            "pipeline_run_id",
            format!("run {run_id} is {}, not succeeded", run.state),
        )
        .into());
    }
    let folder = run_folder(state, run_id);
    let files: Vec<(String, PathBuf)> = repo::artifacts::of_run(&state.db, run_id)
        .await?
        .into_iter()
        .map(|a| (a.path, PathBuf::from(a.stored)))
        .filter(|(_, stored)| stored.starts_with(&folder))
        .collect();
    if files.is_empty() {
        return Err(AppError::unprocessable(
            "pipeline_run_id",
            format!("run {run_id} kept no artifacts to release"),
        )
        .into());
    }
    Ok(RunOutputs {
        project_id: run.project_id,
        commit: run.commit,
        branch: run.branch,
        files,
    })
}
