//! The catalog's facts about the project: stacks, lifecycle, presence, dependents, git state.

use crate::models::catalog::GitState;
use crate::server::catalog::{self, Project};
use crate::server::council::evidence::{GitFacts, ProjectFacts, Situation};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Adds the project's catalog and git facts.
pub async fn gather(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let dependents = catalog::dependents_of(db, p.id).await?.len();
    s.project = Some(ProjectFacts {
        name: p.name.clone(),
        stacks: p.stacks.split_whitespace().map(str::to_owned).collect(),
        lifecycle: p.lifecycle.clone(),
        missing: p.status == "missing",
        dependents: u32::try_from(dependents).unwrap_or(u32::MAX),
    });
    if let Some(g) = p
        .git
        .as_deref()
        .and_then(|g| serde_json::from_str::<GitState>(g).ok())
    {
        s.git = Some(GitFacts {
            dirty: g.dirty,
            ahead: g.ahead,
            behind: g.behind,
            days_since_commit: p.last_commit_at.map(|t| (now - t).num_days()),
        });
    }
    Ok(())
}
