//! The backups policies made, good or failed.

use crate::server::backups::entities::snapshot;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

pub const GOOD: &str = "good";
pub const FAILED: &str = "failed";
/// A policy's own backup (by schedule or on demand).
pub const BACKUP: &str = "backup";
/// The files an in-place restore was about to overwrite, backed up first.
pub const SAFETY: &str = "safety";

pub async fn insert(
    db: &impl ConnectionTrait,
    new: snapshot::ActiveModel,
) -> Result<snapshot::Model, DbErr> {
    new.insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find_by_id(id).one(db).await
}

/// A policy's snapshots still in its repository (failed ones too unless `good_only`), newest
/// first, at most `limit`.
pub async fn of_policy(
    db: &impl ConnectionTrait,
    policy_id: i64,
    good_only: bool,
    limit: u64,
) -> Result<Vec<snapshot::Model>, DbErr> {
    let mut q = snapshot::Entity::find()
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .filter(snapshot::Column::ForgottenAt.is_null());
    if good_only {
        q = q.filter(snapshot::Column::Status.eq(GOOD));
    }
    q.order_by_desc(snapshot::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A policy's newest backup, good or failed (safety snapshots are not counted).
pub async fn latest(
    db: &impl ConnectionTrait,
    policy_id: i64,
) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find()
        .filter(snapshot::Column::Kind.eq(BACKUP))
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .order_by_desc(snapshot::Column::Id)
        .one(db)
        .await
}

/// A policy's newest good snapshot.
pub async fn latest_good(
    db: &impl ConnectionTrait,
    policy_id: i64,
) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find()
        .filter(snapshot::Column::Kind.eq(BACKUP))
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .filter(snapshot::Column::Status.eq(GOOD))
        .filter(snapshot::Column::ForgottenAt.is_null())
        .order_by_desc(snapshot::Column::Id)
        .one(db)
        .await
}

/// A project's newest backup, good or failed, over all its policies.
pub async fn latest_of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find()
        .filter(snapshot::Column::Kind.eq(BACKUP))
        .filter(snapshot::Column::ProjectId.eq(project_id))
        .order_by_desc(snapshot::Column::StartedAt)
        .one(db)
        .await
}

/// A project's newest good snapshot still kept, over all its policies.
pub async fn latest_good_of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find()
        .filter(snapshot::Column::Kind.eq(BACKUP))
        .filter(snapshot::Column::ProjectId.eq(project_id))
        .filter(snapshot::Column::Status.eq(GOOD))
        .filter(snapshot::Column::ForgottenAt.is_null())
        .order_by_desc(snapshot::Column::StartedAt)
        .one(db)
        .await
}

/// How many good snapshots a policy keeps.
pub async fn count_good(db: &impl ConnectionTrait, policy_id: i64) -> Result<i64, DbErr> {
    let n = snapshot::Entity::find()
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .filter(snapshot::Column::Status.eq(GOOD))
        .filter(snapshot::Column::ForgottenAt.is_null())
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Marks the snapshots with these restic ids as removed by retention.
pub async fn forgotten(
    db: &impl ConnectionTrait,
    policy_id: i64,
    restic_ids: &[String],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if restic_ids.is_empty() {
        return Ok(0);
    }
    let done = snapshot::Entity::update_many()
        .col_expr(snapshot::Column::ForgottenAt, Expr::value(now))
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .filter(snapshot::Column::Snapshot.is_in(restic_ids.iter().cloned()))
        .filter(snapshot::Column::ForgottenAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Records how deep the snapshots with these restic ids were verified (or why they failed).
pub async fn verified(
    db: &impl ConnectionTrait,
    policy_id: i64,
    restic_ids: Option<&[String]>,
    level: Option<&str>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut q = snapshot::Entity::update_many()
        .col_expr(
            snapshot::Column::Verified,
            Expr::value(level.map(str::to_owned)),
        )
        .col_expr(snapshot::Column::VerifiedAt, Expr::value(now))
        .col_expr(
            snapshot::Column::VerifyError,
            Expr::value(error.map(str::to_owned)),
        )
        .filter(snapshot::Column::PolicyId.eq(policy_id))
        .filter(snapshot::Column::Status.eq(GOOD))
        .filter(snapshot::Column::ForgottenAt.is_null());
    if let Some(ids) = restic_ids {
        q = q.filter(snapshot::Column::Snapshot.is_in(ids.iter().cloned()));
    }
    q.exec(db).await.map(|_| ())
}
