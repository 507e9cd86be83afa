//! Backup jobs: what they are asked (back up, verify, restore), how far they got and what they
//! did.

use serde::{Deserialize, Serialize};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Back up, then apply retention.
    Backup,
    /// Check the repository (structure, a subset of the data, or all of it).
    Verify,
    /// Restore a snapshot (or part of it) to a new path.
    Restore,
    /// Restore a database dump into a new database (PostgreSQL) or file (SQLite).
    RestoreDatabase,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::Backup,
        JobKind::Verify,
        JobKind::Restore,
        JobKind::RestoreDatabase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backup => "backup",
            JobKind::Verify => "verify",
            JobKind::Restore => "restore",
            JobKind::RestoreDatabase => "restore_database",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for the policy's job before it.
    Queued,
    Running,
    Succeeded,
    /// It did not do what was asked (`reason` says why); a backup that failed left no good
    /// snapshot.
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 4] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

/// How deep a verification reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerifyLevel {
    /// Every index, pack header and tree, no file data (done after every backup).
    #[default]
    Structure,
    /// Also reads a share of the data packs (`subset`, default 10%).
    Subset,
    /// Also reads every data pack.
    Full,
}

impl VerifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyLevel::Structure => "structure",
            VerifyLevel::Subset => "subset",
            VerifyLevel::Full => "full",
        }
    }
}

/// What a job was asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobParams {
    /// Verify: how deep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<VerifyLevel>,
    /// Verify at `subset`: the share of data packs read, in percent (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset_percent: Option<u32>,
    /// Restore: the snapshot (its id in Optimus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Restore: where to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_path: Option<String>,
    /// Restore: only this file or folder of the snapshot (relative to the project's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Restore: list what would be written, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Database restore: the dump (the policy's name for the database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Database restore (PostgreSQL): the new database's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_database: Option<String>,
    /// Restore: over the project's folder (`target_path` is then that folder, or `path` in it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_place: bool,
    /// Restore in place: stop the project's running services for it, start them after.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_services: bool,
}

/// How long a job spent in one of its phases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PhaseTime {
    /// `opening`, `dumping databases`, `backing up`, `checking`, `retention`, `restoring`…
    pub phase: String,
    pub seconds: f64,
}

/// How far a running job is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobProgress {
    /// What it is doing: `scanning`, `backing up`, `retention`, `verifying`, `restoring`…
    pub phase: String,
    pub files_done: u64,
    pub files_total: Option<u64>,
    pub bytes_done: u64,
    pub bytes_total: Option<u64>,
}

/// What a job did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobResult {
    /// Backup: the snapshot made (its id in Optimus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<i64>,
    /// Backup: files, folders and bytes in it; bytes new to the repository.
    #[serde(default)]
    pub files: u64,
    #[serde(default)]
    pub dirs: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub added_bytes: u64,
    /// Backup: snapshots retention removed.
    #[serde(default)]
    pub forgotten: u64,
    /// Backup: files and folders that could not be read (permissions, I/O errors), so are not
    /// in the snapshot; the snapshot holds everything else.
    #[serde(default)]
    pub unreadable: u64,
    /// Backup: the first of those, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable_paths: Vec<String>,
    /// Restore: files written (or, in a dry run, that would be).
    #[serde(default)]
    pub restored_files: u64,
    #[serde(default)]
    pub restored_bytes: u64,
    /// Restore: files already identical at the target.
    #[serde(default)]
    pub unchanged_files: u64,
    /// Restore: the paths written or (dry run) that would be, the first 1,000.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Restore: every restored file read back and found equal to the snapshot.
    #[serde(default)]
    pub verified: bool,
    /// Restore in place: files and folders at the target the snapshot does not hold (left as
    /// they are; a folder counts once).
    #[serde(default)]
    pub extra_files: u64,
    /// Restore in place: the safety snapshot taken of the target first (its id in Optimus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_snapshot_id: Option<i64>,
    /// Restore in place: the services stopped for it (and started again after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped_services: Vec<String>,
    /// Database restore: the database made (PostgreSQL) and its tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default)]
    pub tables: u64,
    /// Verify: the level passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<VerifyLevel>,
    /// Seconds it took.
    #[serde(default)]
    pub seconds: f64,
    /// Where those seconds went, phase by phase (the time before the first phase, claiming
    /// the job and reading the database, is not in any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseTime>,
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobInfo {
    pub id: i64,
    pub policy_id: i64,
    pub project_id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    pub params: JobParams,
    pub progress: Option<JobProgress>,
    pub result: Option<JobResult>,
    pub reason: Option<String>,
    /// Who asked (absent: its schedule).
    pub triggered_by: Option<String>,
    /// The schedule's fire time it was queued for (RFC 3339), when its schedule queued it.
    pub scheduled_for: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// Names a job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobRequest {
    pub id: i64,
}

/// Verifies a policy's repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    pub policy_id: i64,
    #[serde(default)]
    pub level: VerifyLevel,
    /// At `subset`: the share of data packs read, in percent (default 10).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub subset_percent: Option<u32>,
}

/// Restores a snapshot, or one file or folder of it: to a new path (`target_path`), or in place
/// over the project's folder (`in_place`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreRequest {
    pub snapshot_id: i64,
    /// An absolute path that does not exist yet or is an empty folder. Required unless
    /// `in_place`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub target_path: Option<String>,
    /// Only this file or folder (relative to the project's folder, as listed by
    /// `backups/files`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub path: Option<String>,
    /// List what would be written; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Restore over the project's folder (or `path` in it): files that differ from the
    /// snapshot are rewritten, missing ones recreated, files the snapshot does not hold are
    /// left as they are. A safety snapshot of what is there is taken first. Refused (409) while
    /// the project's services run, unless `stop_services`.
    #[serde(default)]
    pub in_place: bool,
    /// In place: stop the project's running services for the restore and start them again
    /// after it.
    #[serde(default)]
    pub stop_services: bool,
}

/// Restores a database dump of a backup: PostgreSQL into a new database on the server it was
/// dumped from, SQLite into a new file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RestoreDatabaseRequest {
    pub snapshot_id: i64,
    /// The dump (the policy's name for the database).
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub database: String,
    /// PostgreSQL: the new database's name (it must not exist: Optimus creates it).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 63))]
    pub target_database: Option<String>,
    /// SQLite: an absolute path for the new file (it must not exist).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub target_path: Option<String>,
}
