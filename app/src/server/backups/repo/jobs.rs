//! Backup jobs: queued, then claimed one at a time per policy (the oldest unfinished job of a
//! policy is the only one that can be claimed, so a backup and a restore of one repository never
//! overlap, whichever instances take them), driven under a lease whose fence grows with every
//! claim.

use crate::models::backups::JobStatus;
use crate::server::backups::entities::job;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

const OPEN: [&str; 2] = ["queued", "running"];

/// A new queued job.
pub fn queued_row(
    policy: (i64, i64),
    kind: &str,
    params: String,
    triggered_by: Option<String>,
    trigger_key: String,
    now: DateTime<Utc>,
) -> job::ActiveModel {
    job::ActiveModel {
        policy_id: Set(policy.0),
        project_id: Set(policy.1),
        kind: Set(kind.to_owned()),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        params: Set(params),
        progress: Set(None),
        result: Set(None),
        reason: Set(None),
        triggered_by: Set(triggered_by),
        trigger_key: Set(trigger_key),
        owner: Set(None),
        lease_until: Set(None),
        fence: Set(0),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
}

pub async fn insert(db: &impl ConnectionTrait, new: job::ActiveModel) -> Result<job::Model, DbErr> {
    new.insert(db).await
}

/// Inserts a job unless its policy already has one with its trigger key (then `None`): one
/// job per schedule fire time, whichever instance inserts it first.
pub async fn insert_once(
    db: &impl ConnectionTrait,
    new: job::ActiveModel,
) -> Result<Option<job::Model>, DbErr> {
    match new.insert(db).await {
        Ok(j) => Ok(Some(j)),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<job::Model>, DbErr> {
    job::Entity::find_by_id(id).one(db).await
}

/// A policy's jobs, newest first.
pub async fn of_policy(
    db: &impl ConnectionTrait,
    policy_id: i64,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::PolicyId.eq(policy_id))
        .order_by_desc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Queued jobs that are their policy's oldest unfinished one (the only ones that can start),
/// oldest first: a policy with many jobs waiting does not hide other policies' jobs.
pub async fn queued(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<job::Model>, DbErr> {
    let heads = Query::select()
        .expr(Expr::col(job::Column::Id).min())
        .from(job::Entity)
        .and_where(job::Column::Status.is_in(OPEN))
        .group_by_col(job::Column::PolicyId)
        .to_owned();
    job::Entity::find()
        .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
        .filter(job::Column::Id.in_subquery(heads))
        .order_by_asc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Takes queued job `j` for `owner` when it is its policy's oldest unfinished one; the new
/// fence when taken.
pub async fn claim(
    db: &impl ConnectionTrait,
    j: &job::Model,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let oldest_open = Query::select()
        .expr(Expr::col(job::Column::Id).min())
        .from(job::Entity)
        .and_where(job::Column::PolicyId.eq(j.policy_id))
        .and_where(job::Column::Status.is_in(OPEN))
        .to_owned();
    let taken = job::Entity::update_many()
        .col_expr(
            job::Column::Status,
            Expr::value(JobStatus::Running.as_str()),
        )
        .col_expr(job::Column::Owner, Expr::value(owner))
        .col_expr(job::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(job::Column::Fence, Expr::col(job::Column::Fence).add(1))
        .col_expr(job::Column::StartedAt, Expr::value(now))
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
        .filter(job::Column::Id.in_subquery(oldest_open))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    Ok(find(db, j.id).await?.map(|m| m.fence))
}

/// Extends the lease of a job this instance holds with `fence`; false when it no longer does.
pub async fn renew(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    fence: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let renewed = job::Entity::update_many()
        .col_expr(job::Column::LeaseUntil, Expr::value(lease_until))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Owner.eq(owner))
        .filter(job::Column::Fence.eq(fence))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Writes a running job's progress if this instance still holds it with `fence`.
pub async fn progress(
    db: &impl ConnectionTrait,
    id: i64,
    fence: i64,
    progress: String,
) -> Result<bool, DbErr> {
    let done = job::Entity::update_many()
        .col_expr(job::Column::Progress, Expr::value(progress))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Fence.eq(fence))
        .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Ends a job this instance holds with `fence`: its status, result or reason.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    fence: i64,
    status: JobStatus,
    result: Option<String>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(status.as_str()))
        .col_expr(job::Column::Result, Expr::value(result))
        .col_expr(job::Column::Reason, Expr::value(reason))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::Fence.eq(fence))
        .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Running jobs whose lease ran out before `now`.
pub async fn lapsed(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
        .filter(job::Column::LeaseUntil.lt(now))
        .all(db)
        .await
}

/// Ends a lapsed job as failed with `reason`, once: the fence decides between instances
/// noticing it at once.
pub async fn fail_lapsed(
    db: &impl ConnectionTrait,
    j: &job::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(JobStatus::Failed.as_str()))
        .col_expr(job::Column::Reason, Expr::value(reason))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .col_expr(job::Column::Fence, Expr::col(job::Column::Fence).add(1))
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::Fence.eq(j.fence))
        .filter(job::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Whether a policy has a backup waiting to start.
pub async fn backup_waiting(db: &impl ConnectionTrait, policy_id: i64) -> Result<bool, DbErr> {
    Ok(job::Entity::find()
        .filter(job::Column::PolicyId.eq(policy_id))
        .filter(job::Column::Kind.eq("backup"))
        .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// A policy's oldest unfinished job, if any.
pub async fn open_of_policy(
    db: &impl ConnectionTrait,
    policy_id: i64,
) -> Result<Option<job::Model>, DbErr> {
    job::Entity::find()
        .filter(job::Column::PolicyId.eq(policy_id))
        .filter(job::Column::Status.is_in(OPEN))
        .order_by_asc(job::Column::Id)
        .one(db)
        .await
}
