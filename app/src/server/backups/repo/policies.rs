//! Backup policies.

use crate::server::backups::entities::policy;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

pub async fn insert(
    db: &impl ConnectionTrait,
    new: policy::ActiveModel,
) -> Result<policy::Model, DbErr> {
    new.insert(db).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    changed: policy::ActiveModel,
) -> Result<policy::Model, DbErr> {
    changed.update(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find_by_id(id).one(db).await
}

pub async fn by_name(
    db: &impl ConnectionTrait,
    project_id: i64,
    name: &str,
) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find()
        .filter(policy::Column::ProjectId.eq(project_id))
        .filter(policy::Column::Name.eq(name))
        .one(db)
        .await
}

/// The policy whose repository is `repository` (a folder, or a remote's `sftp://…`).
pub async fn by_repository(
    db: &impl ConnectionTrait,
    repository: &str,
) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find()
        .filter(policy::Column::Repository.eq(repository))
        .one(db)
        .await
}

/// A project's policies (every project's when `None`), by project then name.
pub async fn list(
    db: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<policy::Model>, DbErr> {
    let mut q = policy::Entity::find();
    if let Some(p) = project_id {
        q = q.filter(policy::Column::ProjectId.eq(p));
    }
    q.order_by_asc(policy::Column::ProjectId)
        .order_by_asc(policy::Column::Name)
        .all(db)
        .await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    policy::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// Policies with a schedule, not paused.
pub async fn scheduled(db: &impl ConnectionTrait) -> Result<Vec<policy::Model>, DbErr> {
    policy::Entity::find()
        .filter(policy::Column::Schedule.is_not_null())
        .filter(policy::Column::Paused.eq(false))
        .order_by_asc(policy::Column::Id)
        .all(db)
        .await
}

/// Records that `key` (a staleness) was notified for policy `id`; false when it already was
/// (by this or another instance).
pub async fn mark_stale(db: &impl ConnectionTrait, id: i64, key: &str) -> Result<bool, DbErr> {
    let q = policy::Entity::update_many()
        .col_expr(policy::Column::StaleNotified, Expr::value(key))
        .filter(policy::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(policy::Column::StaleNotified.is_null())
                .add(policy::Column::StaleNotified.ne(key)),
        );
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Moves a policy's schedule window to `to` if it still starts at `from` (another instance
/// may have moved it meanwhile; then this look's jobs were duplicates and were refused).
pub async fn advance(
    db: &impl ConnectionTrait,
    id: i64,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = policy::Entity::update_many()
        .col_expr(policy::Column::ScheduleCheckedAt, Expr::value(to))
        .filter(policy::Column::Id.eq(id));
    q = match from {
        Some(f) => q.filter(policy::Column::ScheduleCheckedAt.eq(f)),
        None => q.filter(policy::Column::ScheduleCheckedAt.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}
