//! A project's finished deployments as other features read them (the council's evidence):
//! which release, deploy or rollback, how it ended and why.

use super::repo;
use crate::models::deployments::DeploymentStatus;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// One finished deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The release it put in service (or went back to).
    pub release: i64,
    /// Whether it was a rollback rather than a deployment of a new release.
    pub rollback: bool,
    /// How it ended: succeeded, failed or rolled back.
    pub status: DeploymentStatus,
    /// Why it failed or was rolled back.
    pub reason: Option<String>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The newest `limit` finished deployments of a project, newest first.
pub async fn recent_outcomes(
    db: &impl ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> Result<Vec<Outcome>, DbErr> {
    // Queued and running ones are skipped: a few more rows cover them.
    Ok(repo::deployments::of_project(db, project_id, limit + 5)
        .await?
        .into_iter()
        .filter_map(|d| {
            let status = DeploymentStatus::parse(&d.status).filter(|s| s.is_final())?;
            Some(Outcome {
                release: d.release_number,
                rollback: d.kind == "rollback",
                status,
                reason: d.reason,
                finished_at: d.finished_at,
            })
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect())
}
