//! The audit log (append-only).

use crate::models::audit::AuditEntry;
use crate::server::audit::entities::audit_event;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// What to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// The acting user, if known.
    pub actor_id: Option<i64>,
    /// The acting username, if known.
    pub actor: Option<String>,
    /// The action, e.g. `users.create`.
    pub action: String,
    /// Its target, e.g. `user:alice`.
    pub target: String,
    /// `ok`, `denied`, `failed`.
    pub outcome: String,
    /// The client's address.
    pub client_addr: Option<String>,
}

impl From<audit_event::Model> for AuditEntry {
    fn from(m: audit_event::Model) -> Self {
        AuditEntry {
            id: m.id,
            at: m.at,
            actor: m.actor,
            action: m.action,
            target: m.target,
            outcome: m.outcome,
            client_addr: m.client_addr,
        }
    }
}

/// Appends an entry.
pub async fn insert(
    db: &impl ConnectionTrait,
    e: NewAuditEvent,
) -> Result<audit_event::Model, DbErr> {
    audit_event::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(e.actor_id),
        actor: Set(e.actor),
        action: Set(e.action),
        target: Set(e.target),
        outcome: Set(e.outcome),
        client_addr: Set(e.client_addr),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Entries newest first, with id below `before`, optionally of one action.
pub async fn page(
    db: &impl ConnectionTrait,
    action: Option<&str>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut q = audit_event::Entity::find().order_by_desc(audit_event::Column::Id);
    if let Some(action) = action {
        q = q.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(before) = before {
        q = q.filter(audit_event::Column::Id.lt(before));
    }
    q.limit(limit).all(db).await
}

/// How many entries whose target mentions `needle` were recorded since `since`.
pub async fn count_mentioning(
    db: &impl ConnectionTrait,
    needle: &str,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Target.contains(needle))
        .filter(audit_event::Column::At.gte(since))
        .count(db)
        .await
}
