//! Backups: per-project policies, the jobs that back up, verify and restore, and the snapshots
//! they made (stored in the restic repository format, readable by plain `restic`).

use serde::{Deserialize, Serialize};

/// Which snapshots retention keeps, with `restic forget`'s meaning: the newest `last`, then the
/// newest snapshot of each of the latest `hourly` hours, `daily` days, `weekly` ISO weeks,
/// `monthly` months and `yearly` years. A snapshot any rule keeps is kept. All unset or 0:
/// everything is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeepRule {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub last: u32,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub hourly: u32,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub daily: u32,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub weekly: u32,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub monthly: u32,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 100000))]
    pub yearly: u32,
}

impl Default for KeepRule {
    /// The last 3, one a day for a week, one a week for a month, one a month for a year.
    fn default() -> Self {
        KeepRule {
            last: 3,
            hourly: 0,
            daily: 7,
            weekly: 4,
            monthly: 12,
            yearly: 0,
        }
    }
}

impl KeepRule {
    /// Whether it keeps everything (no rule set).
    pub fn keeps_all(&self) -> bool {
        [
            self.last,
            self.hourly,
            self.daily,
            self.weekly,
            self.monthly,
            self.yearly,
        ]
        .iter()
        .all(|n| *n == 0)
    }
}

/// When a policy backs up on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupSchedule {
    /// Cron expression with 5 or 6 fields (seconds first when 6): `0 30 2 * * *`.
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub cron: String,
    /// IANA time zone the expression is read in (default `UTC`).
    #[serde(default = "utc")]
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub timezone: String,
}

fn utc() -> String {
    "UTC".into()
}

/// The kind of a database a policy dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    /// Dumped with `pg_dump` (plain SQL, streamed into the repository), restored with `psql`
    /// into a new database.
    Postgres,
    /// Copied consistently while in use (`VACUUM INTO`), restored to a new file.
    Sqlite,
}

impl DatabaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Postgres => "postgres",
            DatabaseKind::Sqlite => "sqlite",
        }
    }
}

/// A database a policy dumps with each backup (each dump is its own restic snapshot, tagged
/// `database:<name>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupDatabase {
    /// Unique in the policy: letters, digits, `-`, `_`, `.`.
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub name: String,
    pub kind: DatabaseKind,
    /// PostgreSQL: its connection URL, `postgres://user:password@host:port/database`. Kept
    /// sealed; shown without its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub url: Option<String>,
    /// SQLite: the database file, relative to the project's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub path: Option<String>,
}

/// A database dump a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DumpInfo {
    /// The policy's name for the database.
    pub name: String,
    pub kind: DatabaseKind,
    /// The restic snapshot holding it (one file, `file`).
    pub restic_id: String,
    pub file: String,
    pub bytes: u64,
    pub duration_ms: u64,
}

/// A backup policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyInfo {
    pub id: i64,
    pub project_id: i64,
    /// The project's name.
    pub project: String,
    pub name: String,
    /// Paths backed up, relative to the project's folder (`.` is all of it).
    pub paths: Vec<String>,
    /// Excluded (gitignore syntax), besides what the project's `.gitignore` files exclude.
    pub excludes: Vec<String>,
    pub schedule: Option<BackupSchedule>,
    /// The schedule's next fire times (RFC 3339; none when unscheduled or paused).
    pub next: Vec<String>,
    pub keep: KeepRule,
    /// Databases dumped with each backup (URLs without their passwords).
    pub databases: Vec<BackupDatabase>,
    /// The restic repository's folder.
    pub repository: String,
    pub paused: bool,
    /// The newest good snapshot's time (RFC 3339).
    pub last_good_at: Option<String>,
    /// The newest backup's status, when there is one: `good` or `failed`.
    pub last_status: Option<String>,
    /// Why the newest backup failed, when it did.
    pub last_reason: Option<String>,
    /// Why its backups need attention, when they do: its newest good backup is older than
    /// twice its schedule's interval (or a week, unscheduled), or there is none yet.
    pub alert: Option<String>,
    /// Good snapshots kept.
    pub snapshots: i64,
    pub created_by: Option<String>,
    pub created_at: String,
}

/// Creates a backup policy for a project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatePolicyRequest {
    pub project_id: i64,
    /// Default `default`; unique in the project.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub name: Option<String>,
    /// Relative to the project's folder, inside it (default: `["."]`, the whole folder; `[]`
    /// backs up only the `databases`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 100))]
    pub paths: Option<Vec<String>>,
    /// Databases dumped with each backup.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub databases: Option<Vec<BackupDatabase>>,
    /// Gitignore-style globs left out (the project's own `.gitignore` files apply too).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 100))]
    pub excludes: Option<Vec<String>>,
    #[serde(default)]
    pub schedule: Option<BackupSchedule>,
    /// Retention (default: last 3, daily 7, weekly 4, monthly 12).
    #[serde(default)]
    pub keep: Option<KeepRule>,
}

/// Changes a policy: what is given replaces what was there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdatePolicyRequest {
    pub policy_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 100))]
    pub paths: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 100))]
    pub excludes: Option<Vec<String>>,
    /// Replaces the databases dumped (PostgreSQL URLs must be given again: they are never
    /// shown whole).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub databases: Option<Vec<BackupDatabase>>,
    /// A schedule, or `null`… which cannot be told from absent: use `unschedule`.
    #[serde(default)]
    pub schedule: Option<BackupSchedule>,
    /// Removes the schedule.
    #[serde(default)]
    pub unschedule: bool,
    #[serde(default)]
    pub keep: Option<KeepRule>,
    #[serde(default)]
    pub paused: Option<bool>,
}

/// Names a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyRequest {
    pub policy_id: i64,
}

/// Asks for a project's policies (every project's when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PoliciesRequest {
    #[serde(default)]
    pub project_id: Option<i64>,
}

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

/// A backup a policy made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SnapshotInfo {
    pub id: i64,
    pub policy_id: i64,
    /// When it started (RFC 3339).
    pub time: String,
    pub finished_at: String,
    /// `good` (restorable) or `failed` (no snapshot was kept; `reason` says why).
    pub status: String,
    pub reason: Option<String>,
    /// The restic snapshot's id (what `restic snapshots` shows, in full).
    pub restic_id: Option<String>,
    pub files: i64,
    pub dirs: i64,
    pub bytes: i64,
    /// Bytes new to the repository (after deduplication, before compression).
    pub added_bytes: i64,
    pub duration_ms: i64,
    /// The deepest check it passed (`structure`, `subset`, `full`), or null.
    pub verified: Option<String>,
    pub verified_at: Option<String>,
    pub verify_error: Option<String>,
    /// The database dumps it holds.
    pub dumps: Vec<DumpInfo>,
    /// `backup` (the policy's own) or `safety` (the files an in-place restore was about to
    /// overwrite, taken just before it).
    pub kind: String,
}

/// Asks for a policy's snapshots, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SnapshotsRequest {
    pub policy_id: i64,
    /// Only good snapshots (default: failed backups too).
    #[serde(default)]
    pub good_only: bool,
}

/// Lists a folder of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FilesRequest {
    pub snapshot_id: i64,
    /// A folder relative to the project's folder (default: the top).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 4096))]
    pub path: Option<String>,
}

/// One entry of a snapshot's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SnapshotEntry {
    /// Relative to the project's folder.
    pub path: String,
    pub name: String,
    /// `file`, `dir`, `symlink` or `other`.
    pub kind: String,
    pub size: u64,
    /// Unix permission bits.
    pub mode: Option<u32>,
    pub modified: Option<String>,
}

/// Where a policy's repository is and how to open it with plain `restic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepositoryInfo {
    /// `restic -r <path>`.
    pub path: String,
    /// The repository password (`RESTIC_PASSWORD`).
    pub password: String,
}

/// One of Optimus's backups of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SelfBackupRun {
    pub id: i64,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The fire time it ran for, when its schedule started it (RFC 3339).
    pub scheduled_for: Option<String>,
    pub triggered_by: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The restic snapshot holding the dump.
    pub restic_id: Option<String>,
    /// The dump's size.
    pub bytes: i64,
    pub reason: Option<String>,
}

/// Optimus's backups of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SelfBackupsInfo {
    /// The restic repository (its password derives from the master key; see the operations
    /// guide).
    pub repository: String,
    /// `self_backup_cron`, when set.
    pub schedule: Option<String>,
    /// Its next fire time (RFC 3339).
    pub next: Option<String>,
    /// The newest runs first (at most 50).
    pub runs: Vec<SelfBackupRun>,
}

/// Asks about Optimus's own backups, or for one now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SelfBackupRequest {}
