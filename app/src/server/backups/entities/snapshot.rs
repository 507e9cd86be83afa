//! `backup_snapshots` table: every backup a policy made, good (a restic snapshot exists) or
//! failed (none does, and why), with its counts and how far it was verified.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub policy_id: i64,
    pub project_id: i64,
    pub job_id: Option<i64>,
    /// The restic snapshot's id (hex), when one was written.
    pub snapshot: Option<String>,
    /// The project's folder when it was made: its paths inside the snapshot start here.
    pub root: String,
    /// `good` or `failed`.
    pub status: String,
    pub reason: Option<String>,
    pub started_at: ChronoDateTimeUtc,
    pub finished_at: ChronoDateTimeUtc,
    pub files: i64,
    pub dirs: i64,
    pub bytes: i64,
    pub added_bytes: i64,
    /// The deepest check passed: `structure`, `subset` or `full`.
    pub verified: Option<String>,
    pub verified_at: Option<ChronoDateTimeUtc>,
    pub verify_error: Option<String>,
    /// JSON list of [`crate::models::backups::DumpInfo`]: the database dumps it holds, each in
    /// its own restic snapshot.
    pub dumps: String,
    /// When retention removed it from the repository.
    pub forgotten_at: Option<ChronoDateTimeUtc>,
    /// `backup` (the policy's own) or `safety` (taken before an in-place restore).
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
