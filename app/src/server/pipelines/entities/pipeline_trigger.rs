//! `pipeline_triggers` table: what one trigger of a pipeline remembers between ticks.

use sea_orm::entity::prelude::*;

/// A trigger's state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_triggers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pipeline_id: i64,
    /// `schedule`, `git` or `webhook`.
    pub kind: String,
    /// A schedule's position in the definition (0 for the others).
    pub idx: i32,
    /// What the trigger was when this row was made (`<cron>|<zone>`, the branch): a change
    /// starts it afresh.
    pub spec: String,
    pub paused: bool,
    /// A schedule's fire times up to here were looked at.
    pub checked_at: ChronoDateTimeUtc,
    /// The latest fire time that started a run.
    pub last_fire_at: Option<ChronoDateTimeUtc>,
    /// The head commit a git trigger last saw.
    pub last_commit: Option<String>,
    /// A webhook's signing secret, sealed.
    pub secret: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
