//! Backup jobs as callers see them: back up now, verify, restore to a new path, read a job.
//! Jobs are queued here and carried out by the worker ([`super::worker`]) on whichever
//! instance claims them, one at a time per policy.

use super::entities::{job, policy};
use super::{policies, repo};
use crate::error::AppError;
use crate::models::backups::{
    DatabaseKind, DumpInfo, JobInfo, JobKind, JobParams, JobStatus, RestoreDatabaseRequest,
    RestoreRequest, VerifyLevel, VerifyRequest,
};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::AppState;
use crate::server::{catalog, runtime};
use chrono::Utc;
use std::path::{Component, Path};

/// Jobs listed per policy.
const LISTED: u64 = 100;

/// Queues a backup of policy `policy_id` now.
pub async fn run(state: &AppState, caller: &Caller, policy_id: i64) -> ServerResult<JobInfo> {
    caller.authorize(Operation::RunBackups)?;
    let p = policies::policy_of(state, policy_id).await?;
    queue(state, caller, &p, JobKind::Backup, JobParams::default()).await
}

/// Queues a verification of a policy's repository.
pub async fn verify(
    state: &AppState,
    caller: &Caller,
    req: VerifyRequest,
) -> ServerResult<JobInfo> {
    caller.authorize(Operation::RunBackups)?;
    let p = policies::policy_of(state, req.policy_id).await?;
    if req.subset_percent.is_some() && req.level != VerifyLevel::Subset {
        return Err(AppError::unprocessable(
            "subset_percent",
            "only a `subset` verification reads a share of the data",
        )
        .into());
    }
    let params = JobParams {
        level: Some(req.level),
        subset_percent: req.subset_percent,
        ..Default::default()
    };
    queue(state, caller, &p, JobKind::Verify, params).await
}

/// Queues a restore of a good snapshot (or one file or folder of it): to a new path, or in place
/// over the project's folder (refused while its services run unless the caller, who may control
/// services, asks for them to be stopped).
pub async fn restore(
    state: &AppState,
    caller: &Caller,
    req: RestoreRequest,
) -> ServerResult<JobInfo> {
    caller.authorize(Operation::RestoreBackups)?;
    let s = restorable(state, req.snapshot_id).await?;
    if only_dumps(&s) {
        return Err(AppError::unprocessable(
            "snapshot_id",
            format!(
                "backup {} holds only database dumps: restore them with backups/restore_database",
                s.id
            ),
        )
        .into());
    }
    let path = req.path.as_deref().map(check_inner_path).transpose()?;
    if req.stop_services && !req.in_place {
        return Err(AppError::unprocessable(
            "stop_services",
            "only an in-place restore stops the project's services",
        )
        .into());
    }
    let target = match (req.in_place, req.target_path.as_deref()) {
        (true, Some(_)) => {
            return Err(AppError::unprocessable(
                "target_path",
                "an in-place restore writes to the project's folder: give target_path or in_place, not both",
            )
            .into())
        }
        (false, None) => {
            return Err(AppError::unprocessable(
                "target_path",
                "is required (or set in_place to restore over the project's folder)",
            )
            .into())
        }
        (false, Some(raw)) => check_target(state, raw)?,
        (true, None) => in_place_target(state, caller, &s, path.as_deref(), &req).await?,
    };
    let p = policies::policy_of(state, s.policy_id).await?;
    let params = JobParams {
        snapshot_id: Some(s.id),
        target_path: Some(target),
        path,
        dry_run: req.dry_run,
        in_place: req.in_place,
        stop_services: req.stop_services,
        ..Default::default()
    };
    queue(state, caller, &p, JobKind::Restore, params).await
}

/// Where an in-place restore writes: the project's folder as it is now (or `inner` in it). 409
/// while the project's services run, unless `stop_services` (which needs the right to control
/// services); a dry run writes nothing and may run beside them.
async fn in_place_target(
    state: &AppState,
    caller: &Caller,
    s: &super::entities::snapshot::Model,
    inner: Option<&str>,
    req: &RestoreRequest,
) -> ServerResult<String> {
    let Some(project) = catalog::find_project(&state.db, s.project_id).await? else {
        return Err(AppError::unprocessable(
            "in_place",
            "the snapshot's project was removed: restore to a new path",
        )
        .into());
    };
    let root = std::path::PathBuf::from(&project.path);
    if !root.is_dir() {
        return Err(AppError::unprocessable(
            "in_place",
            format!(
                "the project's folder {} is missing: restore to a new path",
                root.display()
            ),
        )
        .into());
    }
    if req.stop_services {
        caller.authorize(Operation::ControlServices)?;
    } else if !req.dry_run {
        let running = runtime::pause::running(state, project.id).await?;
        if !running.is_empty() {
            return Err(AppError::conflict(format!(
                "the project's services are running ({}): stop them, or ask for stop_services",
                running.join(", ")
            ))
            .into());
        }
    }
    let target = match inner {
        Some(i) => root.join(i),
        None => root,
    };
    Ok(target.display().to_string())
}

/// Queues a restore of one database dump of a good backup: PostgreSQL into a new database on
/// the server it was dumped from, SQLite into a new file.
pub async fn restore_database(
    state: &AppState,
    caller: &Caller,
    req: RestoreDatabaseRequest,
) -> ServerResult<JobInfo> {
    caller.authorize(Operation::RestoreBackups)?;
    let s = restorable(state, req.snapshot_id).await?;
    let dumps: Vec<DumpInfo> = serde_json::from_str(&s.dumps).unwrap_or_default();
    let Some(dump) = dumps.iter().find(|d| d.name == req.database) else {
        let held = dumps.iter().map(|d| d.name.as_str()).collect::<Vec<_>>();
        return Err(AppError::unprocessable(
            "database",
            if held.is_empty() {
                format!("backup {} holds no database dumps", s.id)
            } else {
                format!(
                    "backup {} holds no dump of `{}` (it holds: {})",
                    s.id,
                    req.database,
                    held.join(", ")
                )
            },
        )
        .into());
    };
    let p = policies::policy_of(state, s.policy_id).await?;
    let mut params = JobParams {
        snapshot_id: Some(s.id),
        database: Some(dump.name.clone()),
        ..Default::default()
    };
    match dump.kind {
        DatabaseKind::Postgres => {
            if req.target_path.is_some() {
                return Err(AppError::unprocessable(
                    "target_path",
                    "a PostgreSQL dump is restored into a new database: give `target_database`",
                )
                .into());
            }
            let target = req.target_database.as_deref().map(str::trim).unwrap_or("");
            if !super::databases::valid_database_name(target) {
                return Err(AppError::unprocessable(
                    "target_database",
                    "must be a new database's name: 1 to 63 lower-case letters, digits or `_`, not starting with a digit",
                )
                .into());
            }
            if !super::databases::stored(&p.databases)
                .iter()
                .any(|d| d.name == dump.name)
            {
                return Err(AppError::unprocessable(
                    "database",
                    format!(
                        "the policy no longer names `{}`, so its server is unknown",
                        dump.name
                    ),
                )
                .into());
            }
            params.target_database = Some(target.to_owned());
        }
        DatabaseKind::Sqlite => {
            if req.target_database.is_some() {
                return Err(AppError::unprocessable(
                    "target_database",
                    "an SQLite dump is restored to a new file: give `target_path`",
                )
                .into());
            }
            let Some(raw) = req.target_path.as_deref() else {
                return Err(AppError::unprocessable(
                    "target_path",
                    "an SQLite dump is restored to a new file: give its absolute path",
                )
                .into());
            };
            let target = check_target(state, raw)?;
            if Path::new(&target).exists() {
                return Err(AppError::unprocessable(
                    "target_path",
                    format!("{target} exists (a database is restored to a new file)"),
                )
                .into());
            }
            params.target_path = Some(target);
        }
    }
    queue(state, caller, &p, JobKind::RestoreDatabase, params).await
}

/// A restore's target: absolute, no `..`, new (absent, or an empty folder; taken atomically when
/// the job starts), inside the workspace roots when they are set, and never inside Optimus's
/// data dir.
pub(super) fn check_target(state: &AppState, raw: &str) -> ServerResult<String> {
    let t = Path::new(raw.trim());
    if !t.is_absolute() || t.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(AppError::unprocessable(
            "target_path",
            "must be an absolute path without `..`",
        )
        .into());
    }
    if let Err(why) = target_is_new(t) {
        return Err(AppError::unprocessable("target_path", why).into());
    }
    // Where it would really be: its nearest existing folder, with links resolved.
    let existing = t
        .ancestors()
        .find_map(|a| a.canonicalize().ok())
        .unwrap_or_else(|| t.to_path_buf());
    let roots = &state.settings.workspace_roots;
    if !roots.is_empty() && !roots.iter().any(|r| existing.starts_with(r)) {
        return Err(AppError::unprocessable(
            "target_path",
            "is outside the folders Optimus may use (workspace_roots)",
        )
        .into());
    }
    let data = state
        .settings
        .data_dir
        .canonicalize()
        .unwrap_or_else(|_| state.settings.data_dir.clone());
    if existing.starts_with(&data) {
        return Err(
            AppError::unprocessable("target_path", "is inside Optimus's data folder").into(),
        );
    }
    Ok(t.display().to_string())
}

/// Whether a restore may write to `t`: it does not exist, or is an empty folder. A restore
/// never overwrites what is there.
pub(super) fn target_is_new(t: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(t) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => match std::fs::read_dir(t).map(|mut d| d.next().is_none()) {
            Ok(true) => Ok(()),
            _ => Err(format!(
                "{} is a folder that is not empty (restores go to a new path)",
                t.display()
            )),
        },
        Ok(_) => Err(format!(
            "{} exists (restores go to a new path)",
            t.display()
        )),
    }
}

/// A file or folder inside a snapshot, relative to the project's folder.
pub(super) fn check_inner_path(raw: &str) -> ServerResult<String> {
    let p = Path::new(raw.trim());
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(AppError::unprocessable(
            "path",
            "must be relative to the project's folder, without `..`",
        )
        .into());
    }
    Ok(p.display().to_string())
}

/// Queues a job a caller asked for, under a key of its own.
async fn queue(
    state: &AppState,
    caller: &Caller,
    p: &policy::Model,
    kind: JobKind,
    params: JobParams,
) -> ServerResult<JobInfo> {
    let key = format!("request:{}", uuid::Uuid::new_v4());
    let row = row(Some(caller), p, kind, &params, key);
    let j = repo::jobs::insert(&state.db, row).await?;
    announce(state, Some(caller), p, &j).await?;
    Ok(info(j))
}

/// Queues policy `p`'s backup for schedule fire time `key`, unless an instance already did;
/// whether this call queued it.
pub(super) async fn queue_scheduled(
    state: &AppState,
    p: &policy::Model,
    key: String,
) -> ServerResult<bool> {
    let row = row(None, p, JobKind::Backup, &JobParams::default(), key);
    let Some(j) = repo::jobs::insert_once(&state.db, row).await? else {
        return Ok(false);
    };
    announce(state, None, p, &j).await?;
    Ok(true)
}

fn row(
    caller: Option<&Caller>,
    p: &policy::Model,
    kind: JobKind,
    params: &JobParams,
    key: String,
) -> job::ActiveModel {
    repo::jobs::queued_row(
        (p.id, p.project_id),
        kind.as_str(),
        serde_json::to_string(params).unwrap_or_else(|_| "{}".into()),
        caller.map(|c| c.username.clone()),
        key,
        Utc::now(),
    )
}

/// Audits a queued job, tells subscribers and wakes the worker.
async fn announce(
    state: &AppState,
    caller: Option<&Caller>,
    p: &policy::Model,
    j: &job::Model,
) -> ServerResult<()> {
    let actor = match caller {
        Some(c) => c.into(),
        None => audit::Actor::default(),
    };
    audit::record(
        state,
        actor,
        &format!("backups.{}", j.kind),
        &format!("project:{}:policy:{}:job:{}", p.project_id, p.id, j.id),
        "ok",
    )
    .await?;
    publish(state, j).await;
    super::worker::wake(state);
    Ok(())
}

/// Tells subscribers a job changed.
pub(super) async fn publish(state: &AppState, j: &job::Model) {
    state
        .bus
        .publish(Event::BackupJobChanged {
            job_id: j.id,
            policy_id: j.policy_id,
            project_id: j.project_id,
            kind: JobKind::parse(&j.kind).unwrap_or(JobKind::Backup),
            status: JobStatus::parse(&j.status).unwrap_or(JobStatus::Queued),
        })
        .await;
}

/// One job.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<JobInfo> {
    caller.authorize(Operation::ReadBackups)?;
    let j = repo::jobs::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("backup job {id}")))?;
    Ok(info(j))
}

/// A policy's jobs, newest first.
pub async fn list(state: &AppState, caller: &Caller, policy_id: i64) -> ServerResult<Vec<JobInfo>> {
    caller.authorize(Operation::ReadBackups)?;
    policies::policy_of(state, policy_id).await?;
    Ok(repo::jobs::of_policy(&state.db, policy_id, LISTED)
        .await?
        .into_iter()
        .map(info)
        .collect())
}

pub(super) fn info(j: job::Model) -> JobInfo {
    JobInfo {
        id: j.id,
        policy_id: j.policy_id,
        project_id: j.project_id,
        kind: JobKind::parse(&j.kind).unwrap_or(JobKind::Backup),
        status: JobStatus::parse(&j.status).unwrap_or(JobStatus::Failed),
        params: serde_json::from_str(&j.params).unwrap_or_default(),
        progress: j
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
        result: j
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        reason: j.reason,
        triggered_by: j.triggered_by,
        scheduled_for: j.trigger_key.strip_prefix("schedule:").map(str::to_owned),
        created_at: j.created_at.to_rfc3339(),
        started_at: j.started_at.map(|t| t.to_rfc3339()),
        finished_at: j.finished_at.map(|t| t.to_rfc3339()),
    }
}

/// Backup `id`, when it is good and still in its repository (else a 422 on `snapshot_id`).
async fn restorable(state: &AppState, id: i64) -> ServerResult<super::entities::snapshot::Model> {
    let s = repo::snapshots::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("snapshot {id}")))?;
    if s.status != repo::snapshots::GOOD || s.snapshot.is_none() {
        return Err(AppError::unprocessable(
            "snapshot_id",
            format!("backup {} failed: it has nothing to restore", s.id),
        )
        .into());
    }
    if s.forgotten_at.is_some() {
        return Err(AppError::unprocessable(
            "snapshot_id",
            format!("snapshot {} was removed by retention", s.id),
        )
        .into());
    }
    Ok(s)
}

/// Whether a backup holds database dumps and no files (its policy backs up no paths).
pub(super) fn only_dumps(s: &super::entities::snapshot::Model) -> bool {
    let dumps: Vec<DumpInfo> = serde_json::from_str(&s.dumps).unwrap_or_default();
    s.snapshot
        .as_ref()
        .is_some_and(|id| dumps.iter().any(|d| &d.restic_id == id))
}
