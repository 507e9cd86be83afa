//! Recording and reading the audit log.

pub mod entities;
pub mod repo;

use crate::error::AppError;
use crate::models::audit::{AuditEntry, AuditQuery};
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::bus::EventBus;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use repo::NewAuditEvent;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

/// Who did something, for an audit entry.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// User id.
    pub id: Option<i64>,
    /// Username.
    pub name: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
}

impl From<&Caller> for Actor {
    fn from(c: &Caller) -> Self {
        Self {
            id: Some(c.user_id),
            name: Some(c.username.clone()),
            client_addr: c.client_addr.clone(),
        }
    }
}

/// An audit entry written inside a transaction, to publish once that transaction commits.
#[must_use = "publish the entry once its transaction has committed"]
#[derive(Debug)]
pub struct Pending {
    action: String,
    target: String,
    actor: Option<String>,
}

impl Pending {
    /// Announces the committed entry on the event bus.
    pub async fn publish(self, bus: &EventBus) {
        bus.publish(Event::AuditRecorded {
            action: self.action,
            target: self.target,
            actor: self.actor,
        })
        .await;
    }
}

/// Writes an audit entry in `db`: the operation's own transaction, so the entry and the change
/// it records commit or roll back together. Publish the returned entry after the commit.
pub async fn write(
    db: &impl ConnectionTrait,
    actor: Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> ServerResult<Pending> {
    repo::insert(
        db,
        NewAuditEvent {
            actor_id: actor.id,
            actor: actor.name.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
            client_addr: actor.client_addr,
        },
    )
    .await?;
    Ok(Pending {
        action: action.to_owned(),
        target: target.to_owned(),
        actor: actor.name,
    })
}

/// Writes the entry (outcome `ok`) in `txn`, commits the transaction, then publishes the entry:
/// the way a change and its audit entry land together, or not at all.
pub async fn commit(
    txn: DatabaseTransaction,
    bus: &EventBus,
    actor: Actor,
    action: &str,
    target: &str,
) -> ServerResult<()> {
    let entry = write(&txn, actor, action, target, "ok").await?;
    txn.commit().await?;
    entry.publish(bus).await;
    Ok(())
}

/// Records an entry that goes with no other change (a refused sign-in, a started scan whose
/// claim already committed) and publishes it. A failure to audit is an error of the operation.
pub async fn record(
    state: &AppState,
    actor: Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> ServerResult<()> {
    write(&state.db, actor, action, target, outcome)
        .await?
        .publish(&state.bus)
        .await;
    Ok(())
}

/// A page of the audit log, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    query: AuditQuery,
) -> ServerResult<Page<AuditEntry>> {
    caller.authorize(Operation::ReadAudit)?;
    let page = PageRequest {
        cursor: query.cursor.clone(),
        limit: query.limit,
    };
    let limit = page_limit(&page)?;
    let before = parse_cursor(query.cursor.as_deref())?;
    let action = query
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if let Some(a) = action {
        if a.len() > 64
            || !a
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        {
            return Err(AppError::validation("action", "must look like `users.create`").into());
        }
    }
    let rows = repo::page(&state.db, action, before, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, AuditEntry::from))
}

/// How many audited actions whose target mentions `needle` (a project's path) happened since
/// `since`.
pub async fn count_mentioning(
    db: &impl ConnectionTrait,
    needle: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sea_orm::DbErr> {
    repo::count_mentioning(db, needle, since).await
}
