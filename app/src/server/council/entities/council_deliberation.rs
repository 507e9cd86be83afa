//! `council_deliberations` table: a question, its evidence and consensus (JSON), its outcome.

use sea_orm::entity::prelude::*;

/// A deliberation.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "council_deliberations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub question: String,
    pub project_id: Option<i64>,
    /// JSON object of stated facts.
    pub facts: String,
    /// JSON list of `OptionInfo`.
    pub options: String,
    pub status: String,
    pub engine: String,
    /// JSON list of `Evidence`.
    pub evidence: String,
    /// JSON `Consensus`, once done.
    pub consensus: Option<String>,
    pub asked_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub finished_at: Option<ChronoDateTimeUtc>,
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
    pub outcome_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
