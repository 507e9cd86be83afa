//! A policy's snapshots as callers see them, and the files inside one.

use super::restic;
use super::{policies, repo};
use crate::error::AppError;
use crate::models::backups::{FilesRequest, SnapshotEntry, SnapshotInfo, SnapshotsRequest};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::AppState;

/// Snapshots listed per policy.
const LISTED: u64 = 500;

/// A policy's snapshots still kept, newest first (failed backups too unless `good_only`).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: SnapshotsRequest,
) -> ServerResult<Vec<SnapshotInfo>> {
    caller.authorize(Operation::ReadBackups)?;
    policies::policy_of(state, req.policy_id).await?;
    Ok(
        repo::snapshots::of_policy(&state.db, req.policy_id, req.good_only, LISTED)
            .await?
            .into_iter()
            .map(|s| SnapshotInfo {
                id: s.id,
                policy_id: s.policy_id,
                time: s.started_at.to_rfc3339(),
                finished_at: s.finished_at.to_rfc3339(),
                duration_ms: (s.finished_at - s.started_at).num_milliseconds(),
                status: s.status,
                reason: s.reason,
                restic_id: s.snapshot,
                files: s.files,
                dirs: s.dirs,
                bytes: s.bytes,
                added_bytes: s.added_bytes,
                verified: s.verified,
                verified_at: s.verified_at.map(|t| t.to_rfc3339()),
                verify_error: s.verify_error,
                dumps: serde_json::from_str(&s.dumps).unwrap_or_default(),
                kind: s.kind,
            })
            .collect(),
    )
}

/// What a project's backups say about it, for other features (the council's evidence): `None`
/// when it has no backup policy.
pub async fn state_of_project(
    db: &impl sea_orm::ConnectionTrait,
    project_id: i64,
) -> Result<Option<ProjectBackups>, sea_orm::DbErr> {
    let policies = repo::policies::list(db, Some(project_id)).await?;
    if policies.is_empty() {
        return Ok(None);
    }
    let good = repo::snapshots::latest_good_of_project(db, project_id).await?;
    let latest = repo::snapshots::latest_of_project(db, project_id).await?;
    Ok(Some(ProjectBackups {
        policies: policies.len(),
        last_good_at: good.map(|g| g.started_at),
        last_failed: latest
            .filter(|l| l.status == repo::snapshots::FAILED)
            .map(|l| l.reason.unwrap_or_default()),
    }))
}

/// A project's backups in brief.
#[derive(Debug, Clone)]
pub struct ProjectBackups {
    pub policies: usize,
    /// When its newest good snapshot was taken.
    pub last_good_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why its newest backup failed, when it did.
    pub last_failed: Option<String>,
}

/// The entries of one folder of a good snapshot.
pub async fn files(
    state: &AppState,
    caller: &Caller,
    req: FilesRequest,
) -> ServerResult<Vec<SnapshotEntry>> {
    caller.authorize(Operation::ReadBackups)?;
    let s = repo::snapshots::find(&state.db, req.snapshot_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("snapshot {}", req.snapshot_id)))?;
    if super::jobs::only_dumps(&s) {
        return Err(AppError::unprocessable(
            "snapshot_id",
            format!(
                "backup {} holds only database dumps (see its `dumps`)",
                s.id
            ),
        )
        .into());
    }
    let Some(restic_id) = s.snapshot.clone().filter(|_| s.forgotten_at.is_none()) else {
        return Err(AppError::unprocessable(
            "snapshot_id",
            format!(
                "backup {} has no files to show (it failed or was removed)",
                s.id
            ),
        )
        .into());
    };
    let inner = req
        .path
        .as_deref()
        .map(super::jobs::check_inner_path)
        .transpose()?;
    let p = policies::policy_of(state, s.policy_id).await?;
    let r = policies::repo(state, &p)?;
    let root = s.root.clone();
    let listed =
        tokio::task::spawn_blocking(move || restic::list(&r, &restic_id, &root, inner.as_deref()))
            .await
            .map_err(|_| AppError::Internal)?;
    listed.map_err(|e| {
        if e.ends_with("is not in the snapshot") {
            AppError::unprocessable("path", e).into()
        } else if e.starts_with("there is no repository") {
            AppError::conflict(e).into()
        } else {
            tracing::error!(snapshot.id = s.id, error = %e, "could not list a snapshot's files");
            AppError::Internal.into()
        }
    })
}
