//! `pipelines` table: a project's pipeline definitions, as JSON
//! ([`crate::models::pipelines::PipelineDefinition`]).

use sea_orm::entity::prelude::*;

/// A pipeline.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipelines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    /// `descriptor` (from `optimus.toml`, kept in step with it) or `user` (made or edited in
    /// Optimus: the file no longer changes it).
    pub origin: String,
    pub definition: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
