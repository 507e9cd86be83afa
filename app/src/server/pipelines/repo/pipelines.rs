//! Pipeline definitions.

use crate::models::pipelines::PipelineDefinition;
use crate::server::pipelines::entities::pipeline;
use crate::server::stored::{self, Undecodable};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

/// The stored definition, or an error naming the row.
pub fn definition(m: &pipeline::Model) -> Result<PipelineDefinition, Undecodable> {
    stored::decode("pipelines", m.id, "definition", &m.definition)
}

fn encode(def: &PipelineDefinition) -> String {
    serde_json::to_string(def).unwrap_or_else(|_| "{}".into())
}

/// One pipeline.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<pipeline::Model>, DbErr> {
    pipeline::Entity::find_by_id(id).one(db).await
}

/// A project's pipelines, by name.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<pipeline::Model>, DbErr> {
    pipeline::Entity::find()
        .filter(pipeline::Column::ProjectId.eq(project_id))
        .order_by_asc(pipeline::Column::Name)
        .all(db)
        .await
}

/// A new row for `def`.
fn row(
    project_id: i64,
    origin: &str,
    def: &PipelineDefinition,
    now: DateTime<Utc>,
) -> pipeline::ActiveModel {
    pipeline::ActiveModel {
        project_id: Set(project_id),
        name: Set(def.name.clone()),
        origin: Set(origin.to_owned()),
        definition: Set(encode(def)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Adds a pipeline.
pub async fn insert(
    db: &impl ConnectionTrait,
    project_id: i64,
    origin: &str,
    def: &PipelineDefinition,
    now: DateTime<Utc>,
) -> Result<pipeline::Model, DbErr> {
    row(project_id, origin, def, now).insert(db).await
}

/// Adds a pipeline declared in `optimus.toml`, unless the project already has one of that name
/// (another instance may have added it a moment ago).
pub async fn insert_declared(
    db: &impl ConnectionTrait,
    project_id: i64,
    def: &PipelineDefinition,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let declared = crate::server::pipelines::defining::DESCRIPTOR;
    pipeline::Entity::insert(row(project_id, declared, def, now))
        .on_conflict(
            OnConflict::columns([pipeline::Column::ProjectId, pipeline::Column::Name])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Replaces a definition with `origin` (`user` after an edit in Optimus).
pub async fn update_definition(
    db: &impl ConnectionTrait,
    id: i64,
    origin: &str,
    def: &PipelineDefinition,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    pipeline::Entity::update_many()
        .col_expr(pipeline::Column::Name, Expr::value(def.name.clone()))
        .col_expr(pipeline::Column::Definition, Expr::value(encode(def)))
        .col_expr(pipeline::Column::Origin, Expr::value(origin))
        .col_expr(pipeline::Column::UpdatedAt, Expr::value(now))
        .filter(pipeline::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes a pipeline.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    pipeline::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}
