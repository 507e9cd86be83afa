//! `backup_jobs` table: one backup, verification or restore, queued, then claimed and leased by
//! one instance (one job at a time per policy), with its live progress and result.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub policy_id: i64,
    pub project_id: i64,
    /// A [`crate::models::backups::JobKind`] wire name.
    pub kind: String,
    /// A [`crate::models::backups::JobStatus`] wire name.
    pub status: String,
    /// JSON: what was asked ([`crate::models::backups::JobParams`]).
    pub params: String,
    /// JSON [`crate::models::backups::JobProgress`], while it runs and after.
    pub progress: Option<String>,
    /// JSON [`crate::models::backups::JobResult`], once it ended well.
    pub result: Option<String>,
    pub reason: Option<String>,
    pub triggered_by: Option<String>,
    /// Unique per policy: one job per schedule fire time (or per request).
    pub trigger_key: String,
    pub owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub fence: i64,
    pub created_at: ChronoDateTimeUtc,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub finished_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
