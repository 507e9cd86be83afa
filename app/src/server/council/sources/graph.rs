//! The project's knowledge-graph neighbours: projects related through shared technology or
//! dependencies.

use crate::server::catalog::Project;
use crate::server::council::evidence::Situation;
use crate::server::council::graph;
use crate::server::error::ServerResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// Syncs the project's part of the graph from the catalog, then adds up to five related
/// projects.
pub async fn gather(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> ServerResult<()> {
    let me = graph::sync_project(db, p, now).await?;
    for (other, why) in graph::related_projects(db, me.id, 5).await? {
        s.graph
            .push(format!("Related project {}: {why}", other.label));
    }
    Ok(())
}
