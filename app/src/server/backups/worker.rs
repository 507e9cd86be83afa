//! The backups worker: claims queued jobs (each policy's oldest unfinished one only, so a
//! repository has one job at a time whichever instance takes it), carries each out in its own
//! task under a renewed lease with its progress written as it goes, and ends jobs whose
//! instance stopped renewing.
//!
//! A backup that fails for any reason is recorded as a failed backup with its reason and never
//! as a snapshot: the policy's last good backup stays what it was, and a notification says why.

mod restore;

use super::entities::{job, policy, snapshot};
use super::restic::{self, Counters, Repo};
use super::{databases, jobs, policies, repo};
use crate::models::backups::{
    DatabaseKind, DumpInfo, JobKind, JobParams, JobProgress, JobResult, JobStatus, VerifyLevel,
};
use crate::server::catalog;
use crate::server::notifications::{self, NewNotification};
use crate::server::AppState;
use chrono::{DateTime, Utc};
use sea_orm::Set;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a claim lasts without renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often a job's lease is renewed and its progress written.
const RENEW: Duration = Duration::from_secs(5);
/// How often progress is written while a job runs.
const PROGRESS: Duration = Duration::from_millis(500);
/// How often queued jobs are looked for without being told.
const LOOK: Duration = Duration::from_secs(1);

fn bell() -> &'static Arc<Notify> {
    static BELL: OnceLock<Arc<Notify>> = OnceLock::new();
    BELL.get_or_init(|| Arc::new(Notify::new()))
}

/// Looks for queued jobs now.
pub fn wake(_state: &AppState) {
    bell().notify_one();
}

/// Starts the worker's loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("backups.worker", async move {
        let mut look = tokio::time::interval(LOOK);
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = bell().notified() => {}
                _ = look.tick() => {
                    if let Err(e) = end_lapsed(&state).await {
                        tracing::warn!(error = %e, "could not look for lapsed backup jobs");
                    }
                }
            }
            if let Err(e) = claim(&state).await {
                tracing::warn!(error = %e, "could not claim queued backup jobs");
            }
        }
    });
}

async fn claim(state: &AppState) -> Result<(), sea_orm::DbErr> {
    if state.jobs.is_shutting_down() {
        return Ok(());
    }
    for j in repo::jobs::queued(&state.db, 50).await? {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let Some(fence) = repo::jobs::claim(&state.db, &j, &state.instance.id, until, now).await?
        else {
            continue;
        };
        let Some(j) = repo::jobs::find(&state.db, j.id).await? else {
            continue;
        };
        let id = j.id;
        let st = state.clone();
        let counters = Arc::new(Counters::default());
        state.jobs.spawn(format!("backups.job:{id}"), async move {
            let renewing = st.jobs.spawn(
                format!("backups.lease:{id}"),
                renew(st.clone(), id, fence, counters.clone()),
            );
            jobs::publish(&st, &j).await;
            carry_out(&st, j, fence, counters).await;
            renewing.abort();
            bell().notify_one();
        });
    }
    Ok(())
}

/// Keeps the job's lease; when it is lost (another instance took the job over, or it lapsed
/// while the database could not be reached) the job is told to stop writing.
async fn renew(state: AppState, id: i64, fence: i64, counters: Arc<Counters>) {
    let mut tick = tokio::time::interval(RENEW);
    tick.tick().await;
    let mut held_until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
    loop {
        tick.tick().await;
        let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match repo::jobs::renew(&state.db, id, &state.instance.id, fence, until).await {
            Ok(true) => held_until = until,
            Ok(false) => {
                tracing::warn!(job.id = id, "a backup job lost its lease; it stops");
                counters.cancel();
                return;
            }
            Err(e) => {
                tracing::warn!(job.id = id, error = %e, "could not renew a backup job's lease");
                if Utc::now() >= held_until {
                    counters.cancel();
                    return;
                }
            }
        }
    }
}

/// Ends jobs whose instance stopped renewing their lease.
async fn end_lapsed(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    for j in repo::jobs::lapsed(&state.db, now).await? {
        let reason = "interrupted: the Optimus instance running it stopped before it finished";
        if repo::jobs::fail_lapsed(&state.db, &j, reason, now).await? {
            tracing::warn!(job.id = j.id, "a backup job was interrupted");
            if let Some(j) = repo::jobs::find(&state.db, j.id).await? {
                if j.kind == JobKind::Backup.as_str() {
                    let started = j.started_at.unwrap_or(now);
                    record_failed(state, &j, started, reason).await;
                }
                jobs::publish(state, &j).await;
            }
        }
    }
    Ok(())
}

/// A job as it runs: what it writes to its row.
struct Running {
    state: AppState,
    job: job::Model,
    fence: i64,
    counters: Arc<Counters>,
}

impl Running {
    async fn report(&self) {
        let p = JobProgress {
            phase: self.counters.phase().to_owned(),
            bytes_done: self.counters.done.load(Relaxed),
            bytes_total: Some(self.counters.total.load(Relaxed)).filter(|t| *t > 0),
            ..Default::default()
        };
        let _ = repo::jobs::progress(
            &self.state.db,
            self.job.id,
            self.fence,
            serde_json::to_string(&p).unwrap_or_default(),
        )
        .await;
        jobs::publish(&self.state, &self.job).await;
    }

    /// Runs blocking `work`, writing its progress until it ends. A panic inside rustic (it
    /// unwraps some I/O errors) is a failure with its message, not a dead worker.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        self.report().await;
        let mut handle = tokio::task::spawn_blocking(work);
        let mut tick = tokio::time::interval(PROGRESS);
        tick.tick().await;
        loop {
            tokio::select! {
                done = &mut handle => {
                    return match done {
                        Ok(r) => r,
                        Err(e) if e.is_panic() => Err(panic_text(e.into_panic())),
                        Err(e) => Err(format!("the job's task ended: {e}")),
                    };
                }
                _ = tick.tick() => self.report().await,
            }
        }
    }

    async fn finish(&self, outcome: Result<JobResult, String>) {
        let now = Utc::now();
        let (status, result, reason) = match outcome {
            Ok(r) => (JobStatus::Succeeded, serde_json::to_string(&r).ok(), None),
            Err(why) => (JobStatus::Failed, None, Some(why)),
        };
        match repo::jobs::finish(
            &self.state.db,
            self.job.id,
            self.fence,
            status,
            result,
            reason,
            now,
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                job.id = self.job.id,
                "a backup job ended after another instance took it over"
            ),
            Err(e) => {
                tracing::error!(job.id = self.job.id, error = %e, "could not record a backup job's end")
            }
        }
        if let Ok(Some(j)) = repo::jobs::find(&self.state.db, self.job.id).await {
            jobs::publish(&self.state, &j).await;
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown".into());
    format!("the backup library failed: {msg}")
}

async fn carry_out(state: &AppState, j: job::Model, fence: i64, counters: Arc<Counters>) {
    let run = Running {
        state: state.clone(),
        job: j.clone(),
        fence,
        counters,
    };
    let started = Instant::now();
    let outcome = match repo::policies::find(&state.db, j.policy_id).await {
        Err(e) => Err(format!("the database: {e}")),
        Ok(None) => Err("its backup policy was removed".to_owned()),
        Ok(Some(p)) => match policies::repo(state, &p) {
            Err(_) => {
                let why =
                    "the repository's password or server could not be opened (was the master key changed?)";
                if j.kind == JobKind::Backup.as_str() {
                    record_failed(state, &j, Utc::now(), why).await;
                }
                Err(why.to_owned())
            }
            Ok(r) => {
                let params: JobParams = serde_json::from_str(&j.params).unwrap_or_default();
                match JobKind::parse(&j.kind) {
                    Some(JobKind::Backup) => back_up(&run, &p, r).await,
                    Some(JobKind::Verify) => verify(&run, &p, r, &params).await,
                    Some(JobKind::Restore) => restore::restore(&run, &p, r, &params).await,
                    Some(JobKind::RestoreDatabase) => {
                        restore::restore_database(&run, &p, r, &params).await
                    }
                    None => Err(format!("unknown job kind `{}`", j.kind)),
                }
            }
        },
    };
    let outcome = outcome.map(|mut r| {
        r.seconds = started.elapsed().as_secs_f64();
        r.phases = run.counters.timings();
        r
    });
    if let Err(why) = &outcome {
        tracing::warn!(job.id = j.id, kind = %j.kind, reason = %why, "a backup job failed");
    }
    run.finish(outcome).await;
}

/// Backs up, records the snapshot, checks the repository's structure, applies retention.
async fn back_up(run: &Running, p: &policy::Model, r: Repo) -> Result<JobResult, String> {
    let state = &run.state;
    let started = Utc::now();
    let root = match catalog::find_project(&state.db, p.project_id).await {
        Ok(Some(project)) => project.path,
        Ok(None) => return fail_backup(run, started, "its project was removed".into()).await,
        Err(e) => return fail_backup(run, started, format!("the database: {e}")).await,
    };
    let stored = databases::stored(&p.databases);
    let mut dumps: Vec<Box<dyn restic::Dump>> = Vec::with_capacity(stored.len());
    for d in &stored {
        match d.kind {
            DatabaseKind::Postgres => match databases::conn(state, &p.repository, d) {
                Ok(c) => dumps.push(Box::new(databases::PgDump::new(&d.name, c))),
                Err(why) => {
                    let why = format!("database `{}`: {why}", d.name);
                    return fail_backup(run, started, why).await;
                }
            },
            DatabaseKind::Sqlite => {
                let rel = d.path.clone().unwrap_or_default();
                let source = match restic::inside(Path::new(&root), &rel) {
                    Ok(s) => s,
                    Err(why) => {
                        let why = format!("database `{}`: {why}", d.name);
                        return fail_backup(run, started, why).await;
                    }
                };
                let copy = state
                    .settings
                    .data_dir
                    .join("backups")
                    .join("tmp")
                    .join(format!("job-{}-{}.sqlite3", run.job.id, d.name));
                dumps.push(Box::new(databases::SqliteDump::new(&d.name, source, copy)));
            }
        }
    }
    // Only a policy's first good backup may make its repository: one gone missing later
    // (unmounted, emptied, a server's folder removed) fails the backup instead of being
    // replaced by an empty one.
    let first = repo::snapshots::latest_good(&state.db, p.id)
        .await
        .map(|g| g.is_none())
        .unwrap_or(false);
    let plan = restic::Plan {
        create: first,
        root: PathBuf::from(&root),
        paths: policies::paths(p),
        excludes: policies::excludes(p),
        dumps,
        label: format!("optimus-policy-{}", p.id),
        keep: policies::keep(p),
    };
    let counters = run.counters.clone();
    let done = run
        .blocking(move || restic::backup(&r, plan, counters))
        .await;
    let done = match done {
        Ok(d) => d,
        Err(why) => return fail_backup(run, started, why).await,
    };
    if let Err(why) = run.counters.go_on() {
        // Another instance may own the policy's repository now: record nothing as good.
        return fail_backup(run, started, why).await;
    }
    let made = done.made.clone().unwrap_or_default();
    let dumped: Vec<DumpInfo> = done
        .dumps
        .iter()
        .map(|d| DumpInfo {
            name: d.name.clone(),
            kind: d.kind,
            restic_id: d.made.id.clone(),
            file: d.file.clone(),
            bytes: d.made.bytes,
            duration_ms: d.millis,
        })
        .collect();
    // The files' snapshot names the backup; a backup of databases only is named by its first.
    let primary = match &done.made {
        Some(m) => m.id.clone(),
        None => dumped
            .first()
            .map(|d| d.restic_id.clone())
            .unwrap_or_default(),
    };
    let bytes = made.bytes + done.dumps.iter().map(|d| d.made.bytes).sum::<u64>();
    let added = made.added_bytes + done.dumps.iter().map(|d| d.made.added_bytes).sum::<u64>();
    // Files that could not be read are not in the snapshot: it stays good (it holds all the
    // rest, as `restic` keeps its snapshot), and says what it lacks.
    let unread = &made.unread;
    let lacks = (unread.count > 0).then(|| {
        format!(
            "{} files or folders could not be read and are not in this backup: {}{}",
            unread.count,
            unread.first.join("; "),
            if unread.count > unread.first.len() as u64 {
                "; …"
            } else {
                ""
            }
        )
    });
    // Written but failing the structure check: kept in the repository for inspection, never
    // counted good.
    let (status, reason) = match &done.checked {
        Ok(()) => (repo::snapshots::GOOD, lacks.clone()),
        Err(e) => (
            repo::snapshots::FAILED,
            Some(format!(
                "the repository's structure check failed after the backup: {e}"
            )),
        ),
    };
    let row = snapshot::ActiveModel {
        policy_id: Set(p.id),
        project_id: Set(p.project_id),
        job_id: Set(Some(run.job.id)),
        snapshot: Set(Some(primary.clone())),
        root: Set(root),
        status: Set(status.into()),
        reason: Set(reason),
        started_at: Set(started),
        finished_at: Set(Utc::now()),
        files: Set(count(made.files)),
        dirs: Set(count(made.dirs)),
        bytes: Set(count(bytes)),
        added_bytes: Set(count(added)),
        dumps: Set(serde_json::to_string(&dumped).unwrap_or_else(|_| "[]".into())),
        kind: Set(repo::snapshots::BACKUP.into()),
        ..Default::default()
    };
    let s = repo::snapshots::insert(&state.db, row)
        .await
        .map_err(|e| format!("the snapshot was written but could not be recorded: {e}"))?;
    let ids = [primary];
    let (level, error) = match &done.checked {
        Ok(()) => (Some(VerifyLevel::Structure.as_str()), None),
        Err(e) => (None, Some(e.as_str())),
    };
    let _ = repo::snapshots::verified(&state.db, p.id, Some(&ids), level, error, Utc::now()).await;
    if let Err(e) = &done.checked {
        notify(
            state,
            p,
            "Backup check failed",
            format!("the repository's structure check failed after the backup: {e}"),
        )
        .await;
        return Err(format!(
            "the backup was written, but the repository's structure check failed: {e}"
        ));
    }
    let removed = done
        .removed
        .as_ref()
        .map_err(|e| format!("the backup is good, but retention failed: {e}"))?;
    let forgotten = repo::snapshots::forgotten(&state.db, p.id, removed, Utc::now())
        .await
        .unwrap_or(0);
    let summary = if dumped.is_empty() {
        format!(
            "backup of {} files ({} bytes, {} new)",
            made.files, made.bytes, made.added_bytes
        )
    } else {
        format!(
            "backup of {} files and {} database dumps ({bytes} bytes, {added} new)",
            made.files,
            dumped.len()
        )
    };
    let summary = match &lacks {
        Some(_) => format!("{summary}; {} unreadable, left out", unread.count),
        None => summary,
    };
    let _ = catalog::record_activity(&state.db, p.project_id, "backup", &summary, None).await;
    if let Some(lacks) = lacks {
        notify(state, p, "Backup incomplete", lacks).await;
    }
    Ok(JobResult {
        snapshot_id: Some(s.id),
        files: made.files,
        dirs: made.dirs,
        bytes,
        added_bytes: added,
        forgotten,
        unreadable: unread.count,
        unreadable_paths: unread.first.clone(),
        ..Default::default()
    })
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Records a backup that made no snapshot, tells the project's people, and fails the job.
async fn fail_backup(
    run: &Running,
    started: DateTime<Utc>,
    why: String,
) -> Result<JobResult, String> {
    record_failed(&run.state, &run.job, started, &why).await;
    Err(why)
}

async fn record_failed(state: &AppState, j: &job::Model, started: DateTime<Utc>, why: &str) {
    let root = catalog::find_project(&state.db, j.project_id)
        .await
        .ok()
        .flatten()
        .map(|p| p.path)
        .unwrap_or_default();
    let row = snapshot::ActiveModel {
        policy_id: Set(j.policy_id),
        project_id: Set(j.project_id),
        job_id: Set(Some(j.id)),
        snapshot: Set(None),
        root: Set(root),
        status: Set(repo::snapshots::FAILED.into()),
        reason: Set(Some(why.to_owned())),
        started_at: Set(started),
        finished_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Err(e) = repo::snapshots::insert(&state.db, row).await {
        tracing::error!(job.id = j.id, error = %e, "could not record a failed backup");
    }
    if let Ok(p) = policies::policy_of(state, j.policy_id).await {
        notify(state, &p, "Backup failed", why.to_owned()).await;
    }
}

async fn notify(state: &AppState, p: &policy::Model, title: &str, body: String) {
    notifications::notify(
        state,
        NewNotification {
            level: "error",
            kind: "backup_failed",
            title: format!("{title}: policy {}", p.name),
            body,
            project_id: Some(p.project_id),
            service_id: None,
        },
    )
    .await;
}

/// Checks the repository at the level asked; the result is recorded on its good snapshots.
async fn verify(
    run: &Running,
    p: &policy::Model,
    r: Repo,
    params: &JobParams,
) -> Result<JobResult, String> {
    let level = params.level.unwrap_or_default();
    let percent = params.subset_percent.unwrap_or(10);
    let counters = run.counters.clone();
    let checked = run
        .blocking(move || {
            counters.enter("verifying");
            restic::check(&r, level, percent)
        })
        .await;
    let now = Utc::now();
    match checked {
        Ok(()) => {
            let _ = repo::snapshots::verified(
                &run.state.db,
                p.id,
                None,
                Some(level.as_str()),
                None,
                now,
            )
            .await;
            Ok(JobResult {
                level: Some(level),
                ..Default::default()
            })
        }
        Err(e) => {
            let _ = repo::snapshots::verified(&run.state.db, p.id, None, None, Some(&e), now).await;
            notify(&run.state, p, "Backup verification failed", e.clone()).await;
            Err(format!(
                "the repository failed its {} check: {e}",
                level.as_str()
            ))
        }
    }
}
