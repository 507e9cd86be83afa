//! `kg_nodes` table: knowledge-graph nodes, unique by (kind, key).

use sea_orm::entity::prelude::*;

/// A node.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kg_nodes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `project`, `technology`, `service`, `persona`, `decision`, `incident`, …
    pub kind: String,
    /// Identity within the kind (a project id, a technology name, …).
    pub key: String,
    pub label: String,
    /// JSON object.
    pub props: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
