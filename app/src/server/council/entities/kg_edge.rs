//! `kg_edges` table: typed, weighted edges valid from a time until closed (`valid_to`).

use sea_orm::entity::prelude::*;

/// An edge.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kg_edges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub src: i64,
    pub dst: i64,
    /// `uses`, `depends_on`, `part_of`, `decided`, `influenced`, `supersedes`, …
    pub kind: String,
    pub weight: f64,
    pub valid_from: ChronoDateTimeUtc,
    /// When it stopped being true; none while it holds.
    pub valid_to: Option<ChronoDateTimeUtc>,
    /// What fed it: `catalog`, `runtime`, `council`.
    pub source: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
