//! The deployments' view: how the project's newest deployments ended (nothing when it was never
//! deployed).

use crate::models::deployments::DeploymentStatus;
use crate::server::council::evidence::{DeploymentFacts, Situation};
use crate::server::deployments::history;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Adds how the project's newest deployments ended.
pub async fn gather(
    db: &impl ConnectionTrait,
    project_id: i64,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let outcomes = history::recent_outcomes(db, project_id, 10).await?;
    // A rollback entry is the way back, not a release: the deployments of new releases count.
    let releases: Vec<&history::Outcome> = outcomes.iter().filter(|o| !o.rollback).collect();
    let Some(newest) = releases.first() else {
        return Ok(());
    };
    let bad = |o: &history::Outcome| {
        matches!(
            o.status,
            DeploymentStatus::Failed | DeploymentStatus::RolledBack
        )
    };
    s.deployments = Some(DeploymentFacts {
        newest: (
            newest.release,
            newest.status.as_str().to_owned(),
            newest.reason.clone(),
        ),
        newest_age_hours: newest
            .finished_at
            .map(|t| (now - t).num_seconds().max(0) as f64 / 3600.0),
        bad_of_last: (
            u32::try_from(releases.iter().take(5).filter(|o| bad(o)).count()).unwrap_or(0),
            u32::try_from(releases.len().min(5)).unwrap_or(0),
        ),
        good_streak: u32::try_from(
            releases
                .iter()
                .take_while(|o| o.status == DeploymentStatus::Succeeded)
                .count(),
        )
        .unwrap_or(0),
    });
    Ok(())
}
