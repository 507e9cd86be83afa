//! `pipeline_artifacts` table: a file a run kept (a step's artifact glob matched it).

use sea_orm::entity::prelude::*;

/// A kept file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_artifacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    /// The step that made it.
    pub step: String,
    /// Its path relative to the step's folder, `/`-separated.
    pub path: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 of its content.
    pub sha256: String,
    /// Where Optimus keeps the copy (under its data folder).
    pub stored: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
