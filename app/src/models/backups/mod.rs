//! Backups: per-project policies, the jobs that back up, verify and restore, and the snapshots
//! they made (stored in the restic repository format, readable by plain `restic`).

use serde::{Deserialize, Serialize};

mod jobs;
mod snapshots;
pub use jobs::*;
pub use snapshots::*;

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
    /// Keep the repository on a remote server instead of under Optimus's data dir (it cannot
    /// be changed afterwards).
    #[serde(default)]
    pub remote: Option<BackupRemote>,
}

/// A repository on a remote server, reached over SFTP (Optimus runs Debian's `rclone` for
/// it). Its credentials are sealed with the master key and never shown again.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BackupRemote {
    /// `sftp` (the only kind so far).
    #[cfg_attr(feature = "ssr", schema(max_length = 16))]
    pub kind: String,
    #[cfg_attr(feature = "ssr", schema(max_length = 253))]
    pub host: String,
    /// Default 22.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub port: Option<u16>,
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub user: String,
    /// The user's password; give this or `private_key`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
    pub password: Option<String>,
    /// An unencrypted private key in PEM (OpenSSH) form; give this or `password`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 16000))]
    pub private_key: Option<String>,
    /// The server's public host key (`ssh-ed25519 AAAA…`, as in its `.pub` file); when given,
    /// a server presenting another key is refused. Without it any host key is accepted.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 16000))]
    pub host_key: Option<String>,
    /// The repository's folder on the server (relative to the user's home, or absolute). It
    /// must not hold a repository yet: Optimus makes its own, with its own password.
    #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
    pub path: String,
}

impl std::fmt::Debug for BackupRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupRemote")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
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
