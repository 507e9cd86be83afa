//! `backup_policies` table: what of a project is backed up, when, what is kept, and into which
//! restic repository (its password sealed with the master key).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    /// JSON list of paths relative to the project's folder.
    pub paths: String,
    /// JSON list of exclude globs (gitignore syntax).
    pub excludes: String,
    /// JSON [`crate::models::backups::BackupSchedule`], when scheduled.
    pub schedule: Option<String>,
    /// Fire times up to here were looked at (the schedule's window starts here).
    pub schedule_checked_at: Option<ChronoDateTimeUtc>,
    /// JSON [`crate::models::backups::KeepRule`].
    pub keep: String,
    /// The restic repository's folder, or for a remote one its `sftp://user@host:port/path`.
    pub repository: String,
    /// The repository's password, sealed with the master key (context: the repository's
    /// folder).
    pub password: String,
    /// The remote server holding the repository (JSON
    /// [`crate::models::backups::BackupRemote`], credentials included), sealed with the master
    /// key (context: `repository`); `None` for a local repository.
    pub remote: Option<String>,
    /// JSON list of [`crate::server::backups::databases::Stored`]: the databases dumped, their
    /// connection URLs sealed.
    pub databases: String,
    pub paused: bool,
    /// The staleness last notified: the newest good backup's time (RFC 3339) when it was found
    /// too old, or `never`.
    pub stale_notified: Option<String>,
    pub created_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
