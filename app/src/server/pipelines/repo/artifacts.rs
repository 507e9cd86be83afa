//! The files runs kept.

use crate::server::pipelines::entities::pipeline_artifact;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// Records a kept file; a later one at the same path of the run (a retry) replaces it.
pub async fn upsert(db: &impl ConnectionTrait, row: pipeline_artifact::Model) -> Result<(), DbErr> {
    let active = pipeline_artifact::ActiveModel {
        run_id: Set(row.run_id),
        step: Set(row.step),
        path: Set(row.path),
        size: Set(row.size),
        sha256: Set(row.sha256),
        stored: Set(row.stored),
        created_at: Set(row.created_at),
        ..Default::default()
    };
    pipeline_artifact::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([
                pipeline_artifact::Column::RunId,
                pipeline_artifact::Column::Path,
            ])
            .update_columns([
                pipeline_artifact::Column::Step,
                pipeline_artifact::Column::Size,
                pipeline_artifact::Column::Sha256,
                pipeline_artifact::Column::Stored,
                pipeline_artifact::Column::CreatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A run's files, by path.
pub async fn of_run(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Vec<pipeline_artifact::Model>, DbErr> {
    pipeline_artifact::Entity::find()
        .filter(pipeline_artifact::Column::RunId.eq(run_id))
        .order_by_asc(pipeline_artifact::Column::Path)
        .all(db)
        .await
}

/// One file of a run.
pub async fn find(
    db: &impl ConnectionTrait,
    run_id: i64,
    path: &str,
) -> Result<Option<pipeline_artifact::Model>, DbErr> {
    pipeline_artifact::Entity::find()
        .filter(pipeline_artifact::Column::RunId.eq(run_id))
        .filter(pipeline_artifact::Column::Path.eq(path))
        .one(db)
        .await
}
