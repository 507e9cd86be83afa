//! `council_memories` table: what the council remembers (full-text indexed by the database).

use sea_orm::entity::prelude::*;

/// A memory.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "council_memories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `deliberation`, `turn`, `consensus`, `outcome` or `note`.
    pub kind: String,
    pub deliberation_id: Option<i64>,
    pub project_id: Option<i64>,
    pub persona: Option<String>,
    pub title: String,
    pub content: String,
    /// 0–1.
    pub importance: f64,
    pub pinned: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
