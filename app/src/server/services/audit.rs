//! Recording and reading the audit log.

use super::{into_page, page_limit, parse_cursor};
use crate::error::AppError;
use crate::models::audit::{AuditEntry, AuditQuery};
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::auth::Caller;
use crate::server::error::ServerResult;
use crate::server::repos::audit::{self as repo, NewAuditEvent};
use crate::server::state::AppState;

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

/// Appends an entry and publishes it. A failure to audit is an error of the operation.
pub async fn record(
    state: &AppState,
    actor: Actor,
    action: &str,
    target: &str,
    outcome: &str,
) -> ServerResult<()> {
    repo::insert(
        &state.db,
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
    state
        .bus
        .publish(Event::AuditRecorded {
            action: action.to_owned(),
            target: target.to_owned(),
            actor: actor.name,
        })
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
