//! What pipelines' triggers remember between ticks, shared by every instance. Changes are
//! compare-and-set: two instances ticking together never move a trigger backwards.

use crate::server::pipelines::entities::{pipeline, pipeline_trigger};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// A schedule.
pub const SCHEDULE: &str = "schedule";
/// A followed git branch.
pub const GIT: &str = "git";
/// A signed webhook.
pub const WEBHOOK: &str = "webhook";

/// Pipelines whose definition has triggers besides manual.
pub async fn triggered(db: &impl ConnectionTrait) -> Result<Vec<pipeline::Model>, DbErr> {
    pipeline::Entity::find()
        .filter(pipeline::Column::Definition.contains("\"triggers\""))
        .order_by_asc(pipeline::Column::Id)
        .all(db)
        .await
}

/// One trigger's row.
pub async fn find(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
    kind: &str,
    idx: i32,
) -> Result<Option<pipeline_trigger::Model>, DbErr> {
    pipeline_trigger::Entity::find()
        .filter(pipeline_trigger::Column::PipelineId.eq(pipeline_id))
        .filter(pipeline_trigger::Column::Kind.eq(kind))
        .filter(pipeline_trigger::Column::Idx.eq(idx))
        .one(db)
        .await
}

/// The triggers' rows of some pipelines.
pub async fn of_pipelines(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<pipeline_trigger::Model>, DbErr> {
    pipeline_trigger::Entity::find()
        .filter(pipeline_trigger::Column::PipelineId.is_in(ids))
        .order_by_asc(pipeline_trigger::Column::PipelineId)
        .order_by_asc(pipeline_trigger::Column::Idx)
        .all(db)
        .await
}

/// The trigger's row as `spec` says it is: made when missing (looked at from `now` on), started
/// afresh when the definition changed it (a changed schedule does not owe the old one's runs).
pub async fn ensure(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
    kind: &str,
    idx: i32,
    spec: &str,
    now: DateTime<Utc>,
) -> Result<pipeline_trigger::Model, DbErr> {
    if let Some(row) = find(db, pipeline_id, kind, idx).await? {
        if row.spec == spec {
            return Ok(row);
        }
        pipeline_trigger::Entity::update_many()
            .col_expr(pipeline_trigger::Column::Spec, Expr::value(spec))
            .col_expr(pipeline_trigger::Column::CheckedAt, Expr::value(now))
            .col_expr(
                pipeline_trigger::Column::LastCommit,
                Expr::value(Option::<String>::None),
            )
            .filter(pipeline_trigger::Column::Id.eq(row.id))
            .filter(pipeline_trigger::Column::Spec.eq(row.spec.as_str()))
            .exec(db)
            .await?;
    } else {
        let row = pipeline_trigger::ActiveModel {
            pipeline_id: Set(pipeline_id),
            kind: Set(kind.to_owned()),
            idx: Set(idx),
            spec: Set(spec.to_owned()),
            paused: Set(false),
            checked_at: Set(now),
            last_fire_at: Set(None),
            last_commit: Set(None),
            secret: Set(None),
            created_at: Set(now),
            ..Default::default()
        };
        pipeline_trigger::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    pipeline_trigger::Column::PipelineId,
                    pipeline_trigger::Column::Kind,
                    pipeline_trigger::Column::Idx,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    find(db, pipeline_id, kind, idx)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("trigger of pipeline {pipeline_id}")))
}

/// Moves a schedule's window forward from `from` to `to` (and its last fire time), unless
/// another instance moved it meanwhile.
pub async fn advance(
    db: &impl ConnectionTrait,
    id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    fired: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let mut q = pipeline_trigger::Entity::update_many()
        .col_expr(pipeline_trigger::Column::CheckedAt, Expr::value(to))
        .filter(pipeline_trigger::Column::Id.eq(id))
        .filter(pipeline_trigger::Column::CheckedAt.eq(from));
    if let Some(at) = fired {
        q = q.col_expr(pipeline_trigger::Column::LastFireAt, Expr::value(at));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Pauses or resumes a trigger. Either way its window starts now: time spent paused is not
/// owed as missed runs.
pub async fn set_paused(
    db: &impl ConnectionTrait,
    id: i64,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pipeline_trigger::Entity::update_many()
        .col_expr(pipeline_trigger::Column::Paused, Expr::value(paused))
        .col_expr(pipeline_trigger::Column::CheckedAt, Expr::value(now))
        .filter(pipeline_trigger::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records the head a git trigger saw, unless another instance recorded a different one since
/// `seen`.
pub async fn saw_commit(
    db: &impl ConnectionTrait,
    id: i64,
    seen: Option<&str>,
    head: &str,
) -> Result<bool, DbErr> {
    let mut q = pipeline_trigger::Entity::update_many()
        .col_expr(pipeline_trigger::Column::LastCommit, Expr::value(head))
        .filter(pipeline_trigger::Column::Id.eq(id));
    q = match seen {
        Some(s) => q.filter(pipeline_trigger::Column::LastCommit.eq(s)),
        None => q.filter(pipeline_trigger::Column::LastCommit.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Sets a webhook's sealed secret, unless one was set meanwhile (`None` replaces any).
pub async fn set_secret(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: &str,
    only_if_unset: bool,
) -> Result<bool, DbErr> {
    let mut q = pipeline_trigger::Entity::update_many()
        .col_expr(pipeline_trigger::Column::Secret, Expr::value(sealed))
        .filter(pipeline_trigger::Column::Id.eq(id));
    if only_if_unset {
        q = q.filter(pipeline_trigger::Column::Secret.is_null());
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}
