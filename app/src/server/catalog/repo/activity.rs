//! The per-project activity timeline.

use crate::models::catalog::ActivityEntry;
use crate::server::catalog::entities::project_activity;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

impl From<project_activity::Model> for ActivityEntry {
    fn from(m: project_activity::Model) -> Self {
        ActivityEntry {
            id: m.id,
            at: m.at,
            kind: m.kind,
            summary: m.summary,
            actor: m.actor,
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// The project.
    pub project_id: i64,
    /// `discovered`, `updated`, `missing`, `returned`, `edited`, …
    pub kind: String,
    /// What happened, for people.
    pub summary: String,
    /// Who did it (none for scans).
    pub actor: Option<String>,
}

/// Appends entries in one statement.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    entries: Vec<NewActivity>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    for chunk in entries.chunks(500) {
        let models = chunk.iter().map(|e| project_activity::ActiveModel {
            project_id: Set(e.project_id),
            at: Set(now),
            kind: Set(e.kind.clone()),
            summary: Set(e.summary.chars().take(512).collect()),
            actor: Set(e.actor.clone()),
            ..Default::default()
        });
        project_activity::Entity::insert_many(models)
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A project's entries, newest first, below `before`.
pub async fn page(
    db: &impl ConnectionTrait,
    project_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<project_activity::Model>, DbErr> {
    let mut q = project_activity::Entity::find()
        .filter(project_activity::Column::ProjectId.eq(project_id))
        .order_by_desc(project_activity::Column::Id);
    if let Some(before) = before {
        q = q.filter(project_activity::Column::Id.lt(before));
    }
    q.limit(limit).all(db).await
}

/// How many entries a project has had since `since`.
pub async fn count_since(
    db: &impl ConnectionTrait,
    project_id: i64,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    project_activity::Entity::find()
        .filter(project_activity::Column::ProjectId.eq(project_id))
        .filter(project_activity::Column::At.gte(since))
        .count(db)
        .await
}
