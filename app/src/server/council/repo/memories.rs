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

/// How many characters of a memory's content recall reads to weigh it.
pub const WEIGHED_CHARS: u32 = 4000;

/// The memories recall weighs for `terms` (their content cut to [`WEIGHED_CHARS`]): the newest
/// `cap` that contain every term, the newest `cap` that contain any, and the newest `cap`
/// pinned ones (matching or not: the caller weighs them). Each part is read newest first and
/// stops at `cap`, so the work is bounded however common the terms are. With `project_id`,
/// only that project's memories.
pub async fn candidates(
    db: &impl ConnectionTrait,
    terms: &[String],
    project_id: Option<i64>,
    cap: u64,
) -> Result<Vec<Memory>, DbErr> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let cap = i64::try_from(cap).unwrap_or(i64::MAX);
    let mut values: Vec<sea_orm::Value> = Vec::new();
    // A placeholder for the next value.
    let mut bind = |v: sea_orm::Value| {
        values.push(v);
        if pg {
            format!("${}", values.len())
        } else {
            "?".to_owned()
        }
    };
    let mut part = |query: String| {
        let (from, q, order) = if pg {
            // Each term is stemmed by the English configuration.
            (
                "SELECT m.id FROM council_memories m",
                format!("m.search @@ to_tsquery('english', {})", bind(query.into())),
                "m.id",
            )
        } else if project_id.is_some() {
            (
                "SELECT f.rowid AS id FROM council_memories_fts f \
                 JOIN council_memories m ON m.id = f.rowid",
                format!("council_memories_fts MATCH {}", bind(query.into())),
                "f.rowid",
            )
        } else {
            (
                "SELECT f.rowid AS id FROM council_memories_fts f",
                format!("council_memories_fts MATCH {}", bind(query.into())),
                "f.rowid",
            )
        };
        let project = project_id
            .map(|p| format!(" AND m.project_id = {}", bind(p.into())))
            .unwrap_or_default();
        format!(
            "SELECT id FROM ({from} WHERE {q}{project} ORDER BY {order} DESC LIMIT {}) AS c",
            bind(cap.into())
        )
    };
    let (all, any) = if pg {
        (terms.join(" & "), terms.join(" | "))
    } else {
        let quoted: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
        (quoted.join(" AND "), quoted.join(" OR "))
    };
    let all = part(all);
    let any = part(any);
    let project = project_id
        .map(|p| format!(" AND project_id = {}", bind(p.into())))
        .unwrap_or_default();
    let pinned = format!(
        "SELECT id FROM (SELECT id FROM council_memories WHERE pinned = {}{project} \
         ORDER BY id DESC LIMIT {}) AS p",
        if pg { "TRUE" } else { "1" },
        bind(cap.into())
    );
    let cut = if pg {
        "left(content, "
    } else {
        "substr(content, 1, "
    };
    let sql = format!(
        "SELECT id, kind, deliberation_id, project_id, persona, title, \
         {cut}{WEIGHED_CHARS}) AS content, importance, pinned, created_at, updated_at \
         FROM council_memories WHERE id IN ({all} UNION {any} UNION {pinned})"
    );
    council_memory::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await
}

/// The highest memory id: how many memories there are, counting forgotten ones.
pub async fn highest_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(council_memory::Entity::find()
        .select_only()
        .column_as(council_memory::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}
