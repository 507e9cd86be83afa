//! Memories, and their full-text search (PostgreSQL `tsvector`, SQLite FTS5).

use crate::server::council::entities::council_memory;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

/// A stored memory.
pub type Memory = council_memory::Model;

/// A memory to store, as it is stored.
#[derive(Debug, Clone)]
pub struct NewMemory {
    /// `deliberation`, `turn`, `outcome` or `note`.
    pub kind: &'static str,
    /// Its deliberation.
    pub deliberation_id: Option<i64>,
    /// Its project.
    pub project_id: Option<i64>,
    /// Its persona.
    pub persona: Option<String>,
    /// One line.
    pub title: String,
    /// The text searched.
    pub content: String,
    /// 0–1.
    pub importance: f64,
}

/// Stores a memory, unpinned.
pub async fn insert(
    db: &impl ConnectionTrait,
    m: NewMemory,
    now: DateTime<Utc>,
) -> Result<Memory, DbErr> {
    council_memory::ActiveModel {
        kind: Set(m.kind.to_owned()),
        deliberation_id: Set(m.deliberation_id),
        project_id: Set(m.project_id),
        persona: Set(m.persona),
        title: Set(m.title),
        content: Set(m.content),
        importance: Set(m.importance),
        pinned: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// A memory by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Memory>, DbErr> {
    council_memory::Entity::find_by_id(id).one(db).await
}

/// The memories of these ids (in no particular order).
pub async fn by_ids(db: &impl ConnectionTrait, ids: Vec<i64>) -> Result<Vec<Memory>, DbErr> {
    council_memory::Entity::find()
        .filter(council_memory::Column::Id.is_in(ids))
        .all(db)
        .await
}

/// The newest `limit` memories, of one project or all.
pub async fn newest(
    db: &impl ConnectionTrait,
    project_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Memory>, DbErr> {
    let mut find = council_memory::Entity::find();
    if let Some(p) = project_id {
        find = find.filter(council_memory::Column::ProjectId.eq(p));
    }
    find.order_by_desc(council_memory::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// What an edit changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MemoryEdit {
    /// The new title.
    pub title: Option<String>,
    /// The new content.
    pub content: Option<String>,
    /// The new importance.
    pub importance: Option<f64>,
    /// Pinned or not.
    pub pinned: Option<bool>,
}

/// Applies an edit to a memory.
pub async fn update(
    db: &impl ConnectionTrait,
    m: Memory,
    edit: MemoryEdit,
    now: DateTime<Utc>,
) -> Result<Memory, DbErr> {
    let mut a: council_memory::ActiveModel = m.into();
    if let Some(t) = edit.title {
        a.title = Set(t);
    }
    if let Some(c) = edit.content {
        a.content = Set(c);
    }
    if let Some(i) = edit.importance {
        a.importance = Set(i);
    }
    if let Some(p) = edit.pinned {
        a.pinned = Set(p);
    }
    a.updated_at = Set(now);
    a.update(db).await
}

/// Removes a memory.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    council_memory::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}

/// Sets the importance of a deliberation's own memory (kind `deliberation`).
pub async fn set_deliberation_importance(
    db: &impl ConnectionTrait,
    deliberation_id: i64,
    importance: f64,
) -> Result<(), DbErr> {
    council_memory::Entity::update_many()
        .col_expr(council_memory::Column::Importance, Expr::value(importance))
        .filter(council_memory::Column::DeliberationId.eq(deliberation_id))
        .filter(council_memory::Column::Kind.eq("deliberation"))
        .exec(db)
        .await
        .map(|_| ())
}

/// Full-text matches for `terms`: (memory id, relevance where higher is better), at most `cap`.
pub async fn search(
    db: &impl ConnectionTrait,
    terms: &[String],
    cap: u64,
) -> Result<Vec<(i64, f64)>, DbErr> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => {
            // OR of the terms, each stemmed by the English configuration.
            let q = terms.join(" | ");
            Statement::from_sql_and_values(
                backend,
                "SELECT id, ts_rank(search, q)::float8 AS rank \
                 FROM council_memories, to_tsquery('english', $1) q \
                 WHERE search @@ q ORDER BY rank DESC LIMIT $2",
                [q.into(), i64::try_from(cap).unwrap_or(i64::MAX).into()],
            )
        }
        _ => {
            let q = terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" OR ");
            // bm25 is lower for better matches; negate it.
            Statement::from_sql_and_values(
                backend,
                "SELECT rowid AS id, -bm25(council_memories_fts) AS rank \
                 FROM council_memories_fts WHERE council_memories_fts MATCH ? \
                 ORDER BY rank DESC LIMIT ?",
                [q.into(), i64::try_from(cap).unwrap_or(i64::MAX).into()],
            )
        }
    };
    let rows = db.query_all(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        let rank: f64 = r.try_get("", "rank")?;
        out.push((id, rank));
    }
    Ok(out)
}
