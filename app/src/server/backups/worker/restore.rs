//! Restores as the worker carries them out: files to a new path or in place over the
//! project's folder (its services held still and a safety snapshot taken first), and database
//! dumps into a new database or file. Each is read back against the snapshot.

use super::{count, Running};
use crate::models::backups::{DatabaseKind, DumpInfo, JobParams, JobResult};
use crate::server::backups::entities::{policy, snapshot};
use crate::server::backups::restic::{self, Repo, RestoreTo};
use crate::server::backups::{databases, jobs, policies, repo};
use crate::server::catalog;
use crate::server::runtime::pause::{self, Paused};
use chrono::Utc;
use sea_orm::Set;
use std::path::PathBuf;

/// Restores a snapshot (or part of it): to a new path, or in place. What was written is read
/// back and compared with the snapshot.
pub(super) async fn restore(
    run: &Running,
    p: &policy::Model,
    r: Repo,
    params: &JobParams,
) -> Result<JobResult, String> {
    let s = snapshot_of(run, params).await?;
    let restic_id = s
        .snapshot
        .clone()
        .ok_or("the backup failed: nothing to restore")?;
    let target = PathBuf::from(
        params
            .target_path
            .clone()
            .ok_or("no target path was given")?,
    );
    let into = if params.in_place {
        RestoreTo::InPlace
    } else {
        // Checked again now: something may have appeared there since the job was queued.
        jobs::target_is_new(&target)?;
        RestoreTo::New
    };
    if into == RestoreTo::InPlace && !params.dry_run {
        let over = Over {
            run,
            p,
            r,
            s: &s,
            restic_id,
            target,
            params,
        };
        return in_place(over).await;
    }
    let inner = params.path.clone();
    let dry_run = params.dry_run;
    let (root, counters) = (s.root.clone(), run.counters.clone());
    let done = run
        .blocking(move || {
            let part = restic::Part {
                id: &restic_id,
                root: &root,
                inner: inner.as_deref(),
            };
            restic::restore(&r, part, &target, into, dry_run, counters)
        })
        .await?;
    Ok(result_of(done))
}

/// The snapshot a restore names.
async fn snapshot_of(run: &Running, params: &JobParams) -> Result<snapshot::Model, String> {
    let sid = params.snapshot_id.ok_or("no snapshot was named")?;
    repo::snapshots::find(&run.state.db, sid)
        .await
        .map_err(|e| format!("the database: {e}"))?
        .ok_or_else(|| format!("snapshot {sid} is gone"))
}

fn result_of(done: restic::Restored) -> JobResult {
    JobResult {
        restored_files: done.files,
        restored_bytes: done.bytes,
        unchanged_files: done.unchanged,
        changes: done.changes,
        extra_files: done.extra,
        verified: done.verified,
        ..Default::default()
    }
}

/// An in-place restore: the project's services stopped when asked (and refused if they run
/// otherwise), a safety snapshot of the target taken and checked, the snapshot written over
/// the target and read back, and the services stopped for it started again whatever happened.
async fn in_place(over: Over<'_>) -> Result<JobResult, String> {
    let (run, s, params) = (over.run, over.s, over.params);
    let state = &run.state;
    let paused: Vec<Paused> = if params.stop_services {
        pause::pause(state, s.project_id)
            .await
            .map_err(|e| format!("the project's services could not be stopped: {e}"))?
    } else {
        // Checked again now: a service may have started since the job was queued.
        let running = pause::running(state, s.project_id)
            .await
            .map_err(|e| format!("the project's services could not be read: {e}"))?;
        if !running.is_empty() {
            return Err(format!(
                "the project's services are running ({}): nothing was restored",
                running.join(", ")
            ));
        }
        Vec::new()
    };
    let restored = over_target(over).await;
    let resumed = pause::resume(state, s.project_id, &paused).await;
    let mut done = restored?;
    done.stopped_services = paused.into_iter().map(|s| s.name).collect();
    if let Err(e) = resumed {
        return Err(format!(
            "the files were restored and verified, but the services stopped for it could not be started again ({}): {e}",
            done.stopped_services.join(", ")
        ));
    }
    Ok(done)
}

/// What an in-place restore writes, from where, over what.
struct Over<'a> {
    run: &'a Running,
    p: &'a policy::Model,
    r: Repo,
    s: &'a snapshot::Model,
    restic_id: String,
    target: PathBuf,
    params: &'a JobParams,
}

/// The safety snapshot, then the restore over the target.
async fn over_target(over: Over<'_>) -> Result<JobResult, String> {
    let Over {
        run,
        p,
        r,
        s,
        restic_id,
        target,
        params,
    } = over;
    let state = &run.state;
    let root = match catalog::find_project(&state.db, s.project_id).await {
        Ok(Some(project)) => project.path,
        Ok(None) => return Err("its project was removed".into()),
        Err(e) => return Err(format!("the database: {e}")),
    };
    let safety = if std::fs::symlink_metadata(&target).is_ok() {
        Some(safety_snapshot(run, p, &r, s, &root, &target).await?)
    } else {
        None
    };
    let inner = params.path.clone();
    let (snap_root, counters) = (s.root.clone(), run.counters.clone());
    let done = run
        .blocking(move || {
            let part = restic::Part {
                id: &restic_id,
                root: &snap_root,
                inner: inner.as_deref(),
            };
            restic::restore(&r, part, &target, RestoreTo::InPlace, false, counters)
        })
        .await;
    let done = done.map_err(|why| match safety {
        Some(id) => format!("{why} (what was there before is in safety snapshot {id})"),
        None => why,
    })?;
    Ok(JobResult {
        safety_snapshot_id: safety,
        ..result_of(done)
    })
}

/// Backs up what an in-place restore is about to overwrite and records it as a `safety`
/// snapshot of the policy; its id.
async fn safety_snapshot(
    run: &Running,
    p: &policy::Model,
    r: &Repo,
    s: &snapshot::Model,
    root: &str,
    target: &std::path::Path,
) -> Result<i64, String> {
    let state = &run.state;
    let started = Utc::now();
    // The policy's last backup is the parent: files unchanged since are not read again.
    let parent = repo::snapshots::latest_good(&state.db, p.id)
        .await
        .ok()
        .flatten()
        .filter(|l| !jobs::only_dumps(l))
        .and_then(|l| l.snapshot)
        .or_else(|| s.snapshot.clone());
    let (r, t, counters) = (r.clone(), target.to_path_buf(), run.counters.clone());
    let excludes = policies::excludes(p);
    let label = format!("optimus-policy-{}", p.id);
    let made = run
        .blocking(move || restic::safety(&r, &t, &excludes, &label, parent.as_deref(), counters))
        .await?;
    // What could not be read could not be put back either: nothing is overwritten then.
    if made.unread.count > 0 {
        return Err(format!(
            "the safety snapshot could not read {} files or folders ({}): nothing was restored",
            made.unread.count,
            made.unread.first.join("; ")
        ));
    }
    run.counters.go_on()?;
    let row = snapshot::ActiveModel {
        policy_id: Set(p.id),
        project_id: Set(p.project_id),
        job_id: Set(Some(run.job.id)),
        snapshot: Set(Some(made.id.clone())),
        root: Set(root.to_owned()),
        status: Set(repo::snapshots::GOOD.into()),
        started_at: Set(started),
        finished_at: Set(Utc::now()),
        files: Set(count(made.files)),
        dirs: Set(count(made.dirs)),
        bytes: Set(count(made.bytes)),
        added_bytes: Set(count(made.added_bytes)),
        dumps: Set("[]".into()),
        kind: Set(repo::snapshots::SAFETY.into()),
        verified: Set(Some(
            crate::models::backups::VerifyLevel::Structure
                .as_str()
                .into(),
        )),
        verified_at: Set(Some(Utc::now())),
        ..Default::default()
    };
    let row = repo::snapshots::insert(&state.db, row).await.map_err(|e| {
        format!(
            "the safety snapshot {} was written but could not be recorded, so nothing was restored: {e}",
            made.id
        )
    })?;
    Ok(row.id)
}

/// Restores a database dump: PostgreSQL into a new database on the server it was dumped from
/// (dropped again if the restore fails), SQLite into a new file (removed again if it fails
/// SQLite's integrity check).
pub(super) async fn restore_database(
    run: &Running,
    p: &policy::Model,
    r: Repo,
    params: &JobParams,
) -> Result<JobResult, String> {
    let state = &run.state;
    let s = snapshot_of(run, params).await?;
    let name = params.database.clone().ok_or("no database was named")?;
    let dumps: Vec<DumpInfo> = serde_json::from_str(&s.dumps).unwrap_or_default();
    let dump = dumps
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("backup {} holds no dump of `{name}`", s.id))?;
    let counters = run.counters.clone();
    match dump.kind {
        DatabaseKind::Postgres => {
            let stored = databases::stored(&p.databases)
                .into_iter()
                .find(|d| d.name == name)
                .ok_or_else(|| {
                    format!("the policy no longer names database `{name}`: its server is unknown")
                })?;
            let admin = databases::conn(state, &p.repository, &stored)?;
            let target = params
                .target_database
                .clone()
                .ok_or("no target database was given")?;
            databases::create_database(&admin, &target)
                .await
                .map_err(|e| format!("database `{target}` could not be created: {e}"))?;
            let into = admin.with_database(&target);
            let (id, file) = (dump.restic_id.clone(), dump.file.clone());
            let psql_into = admin.with_database(&target);
            let written = run
                .blocking(move || {
                    databases::psql_from(&psql_into, |input| {
                        restic::read_dump(&r, &id, &file, input, counters)
                    })
                })
                .await;
            if let Err(why) = written {
                if let Err(e) = databases::drop_database(&admin, &target).await {
                    tracing::warn!(job.id = run.job.id, error = %e, "could not drop a database whose restore failed");
                }
                return Err(format!("the restore into `{target}` failed: {why}"));
            }
            let tables = databases::pg_tables(&into).await?;
            Ok(JobResult {
                database: Some(target),
                tables,
                restored_bytes: dump.bytes,
                verified: true,
                ..Default::default()
            })
        }
        DatabaseKind::Sqlite => {
            let target = PathBuf::from(
                params
                    .target_path
                    .clone()
                    .ok_or("no target path was given")?,
            );
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| format!("{}: {e} (restores go to a new path)", target.display()))?;
            let (id, file) = (dump.restic_id.clone(), dump.file.clone());
            let written = run
                .blocking(move || {
                    restic::read_dump(&r, &id, &file, &mut f, counters)?;
                    f.sync_all().map_err(|e| e.to_string())
                })
                .await;
            let checked = match written {
                Ok(()) => databases::sqlite_check(&target).await,
                Err(why) => Err(why),
            };
            match checked {
                Ok(tables) => Ok(JobResult {
                    database: Some(target.display().to_string()),
                    tables,
                    restored_files: 1,
                    restored_bytes: dump.bytes,
                    verified: true,
                    ..Default::default()
                }),
                Err(why) => {
                    // The file is ours (made by this job) and not a good database.
                    let _ = std::fs::remove_file(&target);
                    Err(why)
                }
            }
        }
    }
}
