//! Deployments: queued, then claimed one at a time per project (the oldest unfinished one of a
//! project is the only one that can be claimed, so the database, not timing, keeps a project's
//! deployments in order), driven under a lease whose fence grows with every claim.

use crate::models::deployments::DeploymentStatus;
use crate::server::deployments::entities::deployment;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

const OPEN: [&str; 2] = ["queued", "running"];

pub async fn insert(
    db: &impl ConnectionTrait,
    new: deployment::ActiveModel,
) -> Result<deployment::Model, DbErr> {
    new.insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<deployment::Model>, DbErr> {
    deployment::Entity::find_by_id(id).one(db).await
}

/// A project's deployments, newest first (at most `limit`).
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::ProjectId.eq(project_id))
        .order_by_desc(deployment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every project's latest deployments, newest first (the global view).
pub async fn recent(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .order_by_desc(deployment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The deployment serving a project now: its latest to succeed.
pub async fn current(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::ProjectId.eq(project_id))
        .filter(deployment::Column::Status.eq(DeploymentStatus::Succeeded.as_str()))
        .order_by_desc(deployment::Column::FinishedAt)
        .order_by_desc(deployment::Column::Id)
        .one(db)
        .await
}

/// Queued deployments, oldest first.
pub async fn queued(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::Status.eq(DeploymentStatus::Queued.as_str()))
        .order_by_asc(deployment::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Whether a project has a deployment queued or running.
pub async fn open_of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::ProjectId.eq(project_id))
        .filter(deployment::Column::Status.is_in(OPEN))
        .order_by_asc(deployment::Column::Id)
        .one(db)
        .await
}

/// Takes queued deployment `d` for `owner` when it is its project's oldest unfinished one;
/// the new fence when taken.
pub async fn claim(
    db: &impl ConnectionTrait,
    d: &deployment::Model,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let oldest_open = Query::select()
        .expr(Expr::col(deployment::Column::Id).min())
        .from(deployment::Entity)
        .and_where(deployment::Column::ProjectId.eq(d.project_id))
        .and_where(deployment::Column::Status.is_in(OPEN))
        .to_owned();
    let taken = deployment::Entity::update_many()
        .col_expr(
            deployment::Column::Status,
            Expr::value(DeploymentStatus::Running.as_str()),
        )
        .col_expr(deployment::Column::Owner, Expr::value(owner))
        .col_expr(deployment::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(
            deployment::Column::Fence,
            Expr::col(deployment::Column::Fence).add(1),
        )
        .col_expr(deployment::Column::StartedAt, Expr::value(now))
        .filter(deployment::Column::Id.eq(d.id))
        .filter(deployment::Column::Status.eq(DeploymentStatus::Queued.as_str()))
        .filter(deployment::Column::Id.in_subquery(oldest_open))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    Ok(find(db, d.id).await?.map(|m| m.fence))
}

/// Extends the lease of a deployment this instance holds with `fence`; false when it no
/// longer holds it.
pub async fn renew(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    fence: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let renewed = deployment::Entity::update_many()
        .col_expr(deployment::Column::LeaseUntil, Expr::value(lease_until))
        .filter(deployment::Column::Id.eq(id))
        .filter(deployment::Column::Owner.eq(owner))
        .filter(deployment::Column::Fence.eq(fence))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// What a driver writes as a deployment moves on.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub status: Option<DeploymentStatus>,
    pub reason: Option<String>,
    pub steps: Option<String>,
    pub slots: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub watch_until: Option<Option<DateTime<Utc>>>,
    pub council: Option<String>,
}

/// Writes `p` to deployment `id` if this instance still holds it with `fence`.
pub async fn save(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    fence: i64,
    p: Progress,
) -> Result<bool, DbErr> {
    let mut q = deployment::Entity::update_many()
        .filter(deployment::Column::Id.eq(id))
        .filter(deployment::Column::Owner.eq(owner))
        .filter(deployment::Column::Fence.eq(fence));
    if let Some(s) = p.status {
        q = q.col_expr(deployment::Column::Status, Expr::value(s.as_str()));
    }
    if let Some(r) = p.reason {
        q = q.col_expr(deployment::Column::Reason, Expr::value(r));
    }
    if let Some(s) = p.steps {
        q = q.col_expr(deployment::Column::Steps, Expr::value(s));
    }
    if let Some(s) = p.slots {
        q = q.col_expr(deployment::Column::Slots, Expr::value(s));
    }
    if let Some(f) = p.finished_at {
        q = q.col_expr(deployment::Column::FinishedAt, Expr::value(f));
    }
    if let Some(w) = p.watch_until {
        q = q.col_expr(deployment::Column::WatchUntil, Expr::value(w));
    }
    if let Some(c) = p.council {
        q = q.col_expr(deployment::Column::Council, Expr::value(c));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Running deployments whose lease ran out before `now`.
pub async fn lapsed(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<deployment::Model>, DbErr> {
    deployment::Entity::find()
        .filter(deployment::Column::Status.eq(DeploymentStatus::Running.as_str()))
        .filter(deployment::Column::LeaseUntil.lt(now))
        .all(db)
        .await
}

/// Ends a lapsed deployment as failed with `reason`, once: the fence decides between
/// instances noticing it at once.
pub async fn fail_lapsed(
    db: &impl ConnectionTrait,
    d: &deployment::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = deployment::Entity::update_many()
        .col_expr(
            deployment::Column::Status,
            Expr::value(DeploymentStatus::Failed.as_str()),
        )
        .col_expr(deployment::Column::Reason, Expr::value(reason))
        .col_expr(deployment::Column::FinishedAt, Expr::value(now))
        .col_expr(
            deployment::Column::Fence,
            Expr::col(deployment::Column::Fence).add(1),
        )
        .filter(deployment::Column::Id.eq(d.id))
        .filter(deployment::Column::Fence.eq(d.fence))
        .filter(deployment::Column::Status.eq(DeploymentStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A new deployment row, queued.
pub fn queued_row(
    project_id: i64,
    release: (i64, i64),
    kind: &str,
    strategy: &str,
    triggered_by: Option<String>,
    rollback_of: Option<i64>,
    now: DateTime<Utc>,
) -> deployment::ActiveModel {
    deployment::ActiveModel {
        project_id: Set(project_id),
        release_id: Set(release.0),
        release_number: Set(release.1),
        kind: Set(kind.to_owned()),
        strategy: Set(strategy.to_owned()),
        status: Set(DeploymentStatus::Queued.as_str().to_owned()),
        reason: Set(None),
        rollback_of: Set(rollback_of),
        previous_release_id: Set(None),
        triggered_by: Set(triggered_by),
        council: Set(None),
        steps: Set("[]".into()),
        slots: Set("[]".into()),
        owner: Set(None),
        lease_until: Set(None),
        fence: Set(0),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        watch_until: Set(None),
        ..Default::default()
    }
}

/// Sets the release a deployment replaces (read when it starts).
pub async fn set_previous(
    db: &impl ConnectionTrait,
    id: i64,
    previous_release_id: Option<i64>,
) -> Result<(), DbErr> {
    deployment::Entity::update_many()
        .col_expr(
            deployment::Column::PreviousReleaseId,
            Expr::value(previous_release_id),
        )
        .filter(deployment::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
