//! Optimus's runs of its own backup.

use crate::server::backups::entities::self_backup;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

/// Starts a run for `key`; `None` when another instance already has (the key is unique).
pub async fn start(
    db: &impl ConnectionTrait,
    key: &str,
    owner: &str,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<self_backup::Model>, DbErr> {
    let row = self_backup::ActiveModel {
        trigger_key: Set(key.to_owned()),
        status: Set(RUNNING.into()),
        owner: Set(Some(owner.to_owned())),
        triggered_by: Set(by.map(str::to_owned)),
        started_at: Set(now),
        bytes: Set(0),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(m) => Ok(Some(m)),
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

/// Records how a run ended (only while it is still running: a run already failed as lapsed
/// stays failed).
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    outcome: Result<(String, i64), String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (status, snapshot, bytes, reason) = match outcome {
        Ok((snap, bytes)) => (SUCCEEDED, Some(snap), bytes, None),
        Err(why) => (FAILED, None, 0, Some(why)),
    };
    self_backup::Entity::update_many()
        .col_expr(self_backup::Column::Status, Expr::value(status))
        .col_expr(self_backup::Column::Snapshot, Expr::value(snapshot))
        .col_expr(self_backup::Column::Bytes, Expr::value(bytes))
        .col_expr(self_backup::Column::Reason, Expr::value(reason))
        .col_expr(self_backup::Column::FinishedAt, Expr::value(now))
        .filter(self_backup::Column::Id.eq(id))
        .filter(self_backup::Column::Status.eq(RUNNING))
        .exec(db)
        .await
        .map(|_| ())
}

/// Fails runs still running that started before `before` (their instance stopped).
pub async fn fail_lapsed(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let done = self_backup::Entity::update_many()
        .col_expr(self_backup::Column::Status, Expr::value(FAILED))
        .col_expr(
            self_backup::Column::Reason,
            Expr::value("interrupted: the Optimus instance running it stopped before it finished"),
        )
        .col_expr(self_backup::Column::FinishedAt, Expr::value(now))
        .filter(self_backup::Column::Status.eq(RUNNING))
        .filter(self_backup::Column::StartedAt.lt(before))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<self_backup::Model>, DbErr> {
    self_backup::Entity::find_by_id(id).one(db).await
}

/// The newest runs first.
pub async fn list(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<self_backup::Model>, DbErr> {
    self_backup::Entity::find()
        .order_by_desc(self_backup::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Whether a run is under way (on any instance).
pub async fn running(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(self_backup::Entity::find()
        .filter(self_backup::Column::Status.eq(RUNNING))
        .one(db)
        .await?
        .is_some())
}
