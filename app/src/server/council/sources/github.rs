//! GitHub's view: the CI of the local HEAD and of the default branch, open pull requests and
//! how far HEAD is behind, as last fetched for the project page (no request is made here).

use crate::server::catalog::Project;
use crate::server::council::evidence::{GitHubFacts, Situation};
use crate::server::github;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Adds what GitHub last said about the project (CI of a commit that is no longer HEAD left
/// out).
pub async fn gather(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let head = github::local_head(&p.path).await;
    let Some(g) = github::last_known(db, p.id, head.as_ref()).await? else {
        return Ok(());
    };
    let short = |c: &str| c.chars().take(10).collect::<String>();
    s.github = Some(GitHubFacts {
        repository: g.repository.unwrap_or_default(),
        head_ci: g.head_ci.map(|c| (short(&c.reference), c.state, c.failing)),
        default_ci: g
            .default_branch_ci
            .map(|c| (c.reference, c.state, c.failing)),
        open_pulls: g.open_pulls,
        behind_by: g.behind_by,
        ahead_by: g.ahead_by,
        age_minutes: g
            .fetched_at
            .map(|t| (now - t).num_minutes().max(0))
            .unwrap_or_default(),
    });
    Ok(())
}
