//! Snapshots and what they hold, the repository as plain `restic` opens it, and Optimus's
//! backups of itself.

use super::DumpInfo;
use serde::{Deserialize, Serialize};

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
    /// `restic -r <path>`: a folder, or for a remote repository `rclone::sftp:<path>`.
    pub path: String,
    /// The repository password (`RESTIC_PASSWORD`).
    pub password: String,
    /// The environment `restic` (and the `rclone` it runs) needs besides: the remote server's
    /// address and credentials (`RCLONE_SFTP_*`). Empty for a local repository.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
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
