//! `self_backups` table: Optimus's backups of its own database, one row per run.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_backups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `schedule:<fire time>` or `manual:<uuid>`: unique, so a fire time runs once.
    pub trigger_key: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The instance running it.
    pub owner: Option<String>,
    pub triggered_by: Option<String>,
    pub started_at: ChronoDateTimeUtc,
    pub finished_at: Option<ChronoDateTimeUtc>,
    /// The restic snapshot's id, once written.
    pub snapshot: Option<String>,
    pub bytes: i64,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
