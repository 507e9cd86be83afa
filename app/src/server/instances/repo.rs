//! The instances table's queries.

use super::entities::instance;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

/// Records an instance as it starts.
pub async fn insert(db: &impl ConnectionTrait, row: instance::Model) -> Result<(), DbErr> {
    instance::ActiveModel {
        id: Set(row.id),
        host: Set(row.host),
        boot_id: Set(row.boot_id),
        pid: Set(row.pid),
        pid_start: Set(row.pid_start),
        started_at: Set(row.started_at),
        seen_at: Set(row.seen_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// An instance by id.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<instance::Model>, DbErr> {
    instance::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Notes that the instance is alive now.
pub async fn seen(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    instance::Entity::update_many()
        .col_expr(instance::Column::SeenAt, Expr::value(now))
        .filter(instance::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Forgets an instance.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    instance::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// Forgets instances not seen since `before` (long gone: nothing can still be theirs).
pub async fn delete_unseen(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    instance::Entity::delete_many()
        .filter(instance::Column::SeenAt.lt(before))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
