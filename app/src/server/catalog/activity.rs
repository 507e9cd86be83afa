//! A project's activity timeline.

use crate::error::AppError;
use crate::models::catalog::{ActivityEntry, ActivityQuery};
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::catalog::repo::activity::NewActivity;
use crate::server::error::ServerResult;
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Appends one entry to a project's timeline, inside the caller's transaction when given one.
/// Summaries are cut to 500 characters.
pub async fn record(
    db: &impl ConnectionTrait,
    project_id: i64,
    kind: &str,
    summary: &str,
    actor: Option<&str>,
) -> Result<(), DbErr> {
    let entry = NewActivity {
        project_id,
        kind: kind.to_owned(),
        summary: summary.chars().take(500).collect(),
        actor: actor.map(str::to_owned),
    };
    repo::activity::insert_many(db, vec![entry], Utc::now()).await
}

/// How many timeline entries a project has had since `since`.
pub async fn count_since(
    db: &impl ConnectionTrait,
    project_id: i64,
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    repo::activity::count_since(db, project_id, since).await
}

/// Appends one entry to a project's timeline on behalf of `caller`.
pub(super) async fn note(
    db: &impl ConnectionTrait,
    project_id: i64,
    kind: &str,
    summary: String,
    caller: Option<&Caller>,
) -> ServerResult<()> {
    let actor = caller.map(|c| c.username.as_str());
    Ok(record(db, project_id, kind, &summary, actor).await?)
}

/// A page of a project's activity, newest first.
pub async fn project_activity(
    state: &AppState,
    caller: &Caller,
    query: ActivityQuery,
) -> ServerResult<Page<ActivityEntry>> {
    caller.authorize(Operation::ReadCatalog)?;
    let limit = page_limit(&PageRequest {
        cursor: None,
        limit: query.limit,
    })?;
    let before = parse_cursor(query.cursor.as_deref())?;
    repo::projects::find(&state.db, query.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let rows = repo::activity::page(&state.db, query.id, before, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, ActivityEntry::from))
}
