//! Dependencies between projects.

use crate::server::catalog::entities::project_dependency;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};

/// Every edge (project, depends on), for cycle checks. Small: one row per declared dependency.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<(i64, i64)>, DbErr> {
    project_dependency::Entity::find()
        .select_only()
        .column(project_dependency::Column::ProjectId)
        .column(project_dependency::Column::DependsOnId)
        .into_tuple()
        .all(db)
        .await
}

/// What `id` depends on.
pub async fn of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>, DbErr> {
    project_dependency::Entity::find()
        .select_only()
        .column(project_dependency::Column::DependsOnId)
        .filter(project_dependency::Column::ProjectId.eq(id))
        .into_tuple()
        .all(db)
        .await
}

/// What depends on `id`.
pub async fn dependents(db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>, DbErr> {
    project_dependency::Entity::find()
        .select_only()
        .column(project_dependency::Column::ProjectId)
        .filter(project_dependency::Column::DependsOnId.eq(id))
        .into_tuple()
        .all(db)
        .await
}

/// Replaces what `id` depends on.
pub async fn replace(db: &impl ConnectionTrait, id: i64, depends_on: &[i64]) -> Result<(), DbErr> {
    project_dependency::Entity::delete_many()
        .filter(project_dependency::Column::ProjectId.eq(id))
        .exec(db)
        .await?;
    if depends_on.is_empty() {
        return Ok(());
    }
    let rows = depends_on.iter().map(|d| project_dependency::ActiveModel {
        project_id: Set(id),
        depends_on_id: Set(*d),
    });
    project_dependency::Entity::insert_many(rows)
        .exec(db)
        .await
        .map(|_| ())
}
