//! The catalog's facts about the project: stacks, lifecycle, presence, dependents, git state.

use crate::server::catalog::{self, Project};
use crate::server::council::evidence::{GitFacts, ProjectFacts, Situation};
use crate::server::error::ServerResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// Adds the project's catalog and git facts; stored facts that cannot be read are a named error.
pub async fn gather(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> ServerResult<()> {
    let info = catalog::project_info(p)?;
    let dependents = catalog::dependents_of(db, p.id).await?.len();
    s.project = Some(ProjectFacts {
        name: p.name.clone(),
        stacks: info.stacks.iter().map(|s| s.as_str().to_owned()).collect(),
        lifecycle: p.lifecycle.clone(),
        missing: p.status == "missing",
        dependents: u32::try_from(dependents).unwrap_or(u32::MAX),
    });
    if let Some(g) = info.git {
        s.git = Some(GitFacts {
            dirty: g.dirty,
            ahead: g.ahead,
            behind: g.behind,
            days_since_commit: p.last_commit_at.map(|t| (now - t).num_days()),
        });
    }
    Ok(())
}
