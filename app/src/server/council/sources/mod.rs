//! The read-only tools: one module per source of evidence, each reading through its owner's
//! public functions (the catalog, the runtime, pipelines, deployments, backups, GitHub, the
//! audit log) or the council's own memory and graph, gathered into a [`Situation`]. A new source
//! is one more module here and one more line in [`situation`].

pub mod activity;
pub mod backups;
pub mod deployments;
pub mod github;
pub mod graph;
pub mod memories;
pub mod pipelines;
pub mod project;
pub mod runtime;

use super::evidence::Situation;
use crate::server::catalog;
use crate::server::error::ServerResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::collections::BTreeMap;

/// Everything about project `project_id` (and the question) the tools can read.
pub async fn situation(
    db: &impl ConnectionTrait,
    question: &str,
    project_id: Option<i64>,
    facts: &BTreeMap<String, Value>,
    topics: &[&str],
    now: DateTime<Utc>,
) -> ServerResult<Situation> {
    let mut s = Situation {
        facts: facts.clone(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        today: Some(now.date_naive()),
        ..Default::default()
    };
    if let Some(pid) = project_id {
        if let Some(p) = catalog::find_project(db, pid).await? {
            project::gather(db, &p, now, &mut s).await?;
            runtime::gather(db, p.id, now, &mut s).await?;
            pipelines::gather(db, p.id, &mut s).await?;
            backups::gather(db, p.id, now, &mut s).await?;
            deployments::gather(db, p.id, now, &mut s).await?;
            github::gather(db, &p, now, &mut s).await?;
            activity::gather(db, &p, now, &mut s).await?;
            graph::gather(db, &p, now, &mut s).await?;
        }
    }
    memories::gather(db, question, project_id, &mut s, now).await?;
    Ok(s)
}
