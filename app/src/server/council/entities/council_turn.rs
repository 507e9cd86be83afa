//! `council_turns` table: one persona's position in one round (the whole `Turn` as JSON).

use sea_orm::entity::prelude::*;

/// A turn.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "council_turns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub deliberation_id: i64,
    pub persona: String,
    pub round: i16,
    /// The chosen option; none when it abstained.
    pub choice: Option<String>,
    pub confidence: f64,
    /// JSON `Turn`.
    pub body: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
