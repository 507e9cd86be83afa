//! Optimus backs itself up: its own database (SQLite copied consistently while in use, or
//! PostgreSQL through `pg_dump`), sealed secrets included as they are stored, into a restic
//! repository of its own (`self_backup_dir`, default `<data_dir>/self-backup`) on the
//! `self_backup_cron` schedule, exactly once per fire time however many instances run (the
//! run's trigger key is unique in the database); `optimus restore-self` puts one back into a
//! fresh data dir.
//!
//! The repository's password is derived from the master key: whoever restores needs the
//! master key of the instance that made the backup, which they need anyway to open its sealed
//! secrets. The master key itself is never in the backup.

use super::databases::{self, PgDump, SqliteDump};
use super::entities::self_backup;
use super::repo;
use super::restic::{self, Counters, Dump, Plan, Repo};
use crate::error::AppError;
use crate::models::backups::{KeepRule, SelfBackupRun, SelfBackupsInfo};
use crate::models::pipelines::{Missed, Schedule};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::notifications::{self, NewNotification};
use crate::server::pipelines::schedules;
use crate::server::settings::Settings;
use crate::server::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the schedule is looked at.
const TICK: Duration = Duration::from_secs(5);
/// A run still `running` after this long lost its instance.
const LAPSE_HOURS: i64 = 6;
/// How far back a missed fire time is caught up at start.
const CATCH_UP_HOURS: i64 = 25;
/// How long after start a missed fire time waits (start-up has its own work, and a process
/// that lives a few seconds makes no backup).
const CATCH_UP_AFTER_SECS: i64 = 60;
/// The name of the dump inside the repository (`optimus.sql` or `optimus.sqlite3`).
const NAME: &str = "optimus";

/// The self-backup repository and its password.
pub fn repository(settings: &Settings) -> Result<Repo, String> {
    let master = settings
        .master_key
        .as_ref()
        .ok_or("there is no master key (set master_key, or keep the data dir's secrets.toml)")?;
    let path = settings
        .self_backup_dir
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("self-backup"));
    let path = std::path::absolute(&path).unwrap_or(path);
    Ok(Repo {
        path,
        password: password(master.expose()),
        remote: None,
    })
}

/// The repository's password: a digest of the master key, so it is known wherever the master
/// key is and nowhere else.
fn password(master_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"optimus self-backup\0")
        .chain_update(master_key.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SQLite file a `sqlite:` URL names.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// How Optimus's own database is dumped.
fn dump_of(settings: &Settings) -> Result<Box<dyn Dump>, String> {
    let url = settings.effective_database_url();
    match sqlite_path(&url) {
        Some(file) => {
            let copy = settings
                .data_dir
                .join("backups")
                .join("tmp")
                .join(format!("self-{}.sqlite3", uuid::Uuid::new_v4().simple()));
            Ok(Box::new(SqliteDump::new(NAME, file, copy)))
        }
        None => Ok(Box::new(PgDump::new(
            NAME,
            databases::conn_of(&url, settings.pg_bin_dir.as_deref())?,
        ))),
    }
}

/// Backs Optimus's database up into its repository, then checks the repository's structure and
/// applies retention: the restic snapshot and its size.
async fn back_up(settings: &Settings) -> Result<(String, i64), String> {
    let repo = repository(settings)?;
    let plan = Plan {
        root: settings.data_dir.clone(),
        paths: Vec::new(),
        excludes: Vec::new(),
        dumps: vec![dump_of(settings)?],
        label: "optimus-self".into(),
        keep: KeepRule::default(),
        // Its folder is made on the first self-backup, and again if it is replaced by an empty disk.
        create: true,
    };
    let done = tokio::task::spawn_blocking(move || {
        restic::backup(&repo, plan, Arc::new(Counters::default()))
    })
    .await
    .map_err(|e| format!("the backup's task ended: {e}"))??;
    done.checked
        .map_err(|e| format!("the repository's structure check failed after the backup: {e}"))?;
    if let Err(e) = &done.removed {
        tracing::warn!(error = %e, "retention of Optimus's own backups failed");
    }
    let d = done.dumps.first().ok_or("the backup stored no dump")?;
    Ok((
        d.made.id.clone(),
        i64::try_from(d.made.bytes).unwrap_or(i64::MAX),
    ))
}

/// Starts run `key` (`None` when another instance has it) and carries it out here: its final
/// row.
pub async fn run(
    db: &impl ConnectionTrait,
    settings: &Settings,
    owner: &str,
    key: &str,
    by: Option<&str>,
) -> Result<Option<self_backup::Model>, sea_orm::DbErr> {
    let Some(row) = repo::self_backups::start(db, key, owner, by, Utc::now()).await? else {
        return Ok(None);
    };
    finish(db, settings, row).await.map(Some)
}

async fn finish(
    db: &impl ConnectionTrait,
    settings: &Settings,
    row: self_backup::Model,
) -> Result<self_backup::Model, sea_orm::DbErr> {
    let outcome = back_up(settings).await;
    if let Err(why) = &outcome {
        tracing::warn!(run = row.id, reason = %why, "Optimus's backup of itself failed");
    }
    repo::self_backups::finish(db, row.id, outcome, Utc::now()).await?;
    Ok(repo::self_backups::find(db, row.id).await?.unwrap_or(row))
}

async fn tell_if_failed(state: &AppState, r: &self_backup::Model) {
    if r.status != repo::self_backups::FAILED {
        return;
    }
    notifications::notify(
        state,
        NewNotification {
            level: "error",
            kind: "backup_failed",
            title: "Optimus could not back itself up".into(),
            body: r.reason.clone().unwrap_or_default(),
            project_id: None,
            service_id: None,
        },
    )
    .await;
}

fn schedule(settings: &Settings) -> Option<schedules::Parsed> {
    let cron = settings.self_backup_cron.trim();
    if cron.is_empty() {
        return None;
    }
    schedules::parse(&Schedule {
        cron: cron.to_owned(),
        timezone: "UTC".into(),
        missed: Missed::Last,
        missed_cap: None,
        parameters: Default::default(),
    })
    .ok()
}

/// The fire time a run is owed for at `now`: the latest within the catch-up window.
fn owed(parsed: &schedules::Parsed, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = now - chrono::Duration::hours(CATCH_UP_HOURS);
    parsed.between(from, now, 1).0.last().copied()
}

/// Starts the schedule loop (nothing when `self_backup_cron` is empty).
pub fn spawn(state: &AppState) {
    let Some(parsed) = schedule(&state.settings) else {
        return;
    };
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("backups.self", async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tried: Option<DateTime<Utc>> = None;
        let started = Utc::now();
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = tick.tick() => {}
            }
            let now = Utc::now();
            let lapsed = now - chrono::Duration::hours(LAPSE_HOURS);
            if let Err(e) = repo::self_backups::fail_lapsed(&state.db, lapsed, now).await {
                tracing::warn!(error = %e, "could not look for lapsed self-backups");
                continue;
            }
            let Some(at) = owed(&parsed, now).filter(|at| tried != Some(*at)) else {
                continue;
            };
            if at < started && now < started + chrono::Duration::seconds(CATCH_UP_AFTER_SECS) {
                continue;
            }
            // One run at a time (rustic takes no locks): a fire time that finds one under way
            // is skipped; that run has what there is.
            match repo::self_backups::running(&state.db).await {
                Ok(true) => {
                    tried = Some(at);
                    continue;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not look at running self-backups");
                    continue;
                }
            }
            let key = format!(
                "schedule:{}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            match run(&state.db, &state.settings, &state.instance.id, &key, None).await {
                Ok(Some(r)) => {
                    tried = Some(at);
                    tracing::info!(run = r.id, status = %r.status, "Optimus backed itself up");
                    tell_if_failed(&state, &r).await;
                }
                // Another instance has this fire time.
                Ok(None) => tried = Some(at),
                Err(e) => tracing::warn!(error = %e, "could not run a scheduled self-backup"),
            }
        }
    });
}

fn run_info(r: self_backup::Model) -> SelfBackupRun {
    SelfBackupRun {
        id: r.id,
        status: r.status,
        scheduled_for: r.trigger_key.strip_prefix("schedule:").map(str::to_owned),
        triggered_by: r.triggered_by,
        started_at: r.started_at.to_rfc3339(),
        finished_at: r.finished_at.map(|t| t.to_rfc3339()),
        restic_id: r.snapshot,
        bytes: r.bytes,
        reason: r.reason,
    }
}

/// The self-backup repository, the schedule and the newest runs (admins).
pub async fn list(state: &AppState, caller: &Caller) -> ServerResult<SelfBackupsInfo> {
    caller.authorize(Operation::BackUpOptimus)?;
    let repo = repository(&state.settings).map_err(|e| {
        tracing::error!(error = %e, "the self-backup repository is unknown");
        AppError::Internal
    })?;
    let next = schedule(&state.settings)
        .and_then(|p| p.next(Utc::now(), 1).first().copied())
        .map(|t| t.to_rfc3339());
    let cron = state.settings.self_backup_cron.trim();
    Ok(SelfBackupsInfo {
        repository: repo.path.display().to_string(),
        schedule: (!cron.is_empty()).then(|| cron.to_owned()),
        next,
        runs: repo::self_backups::list(&state.db, 50)
            .await?
            .into_iter()
            .map(run_info)
            .collect(),
    })
}

/// Backs Optimus up now, in the background: the run (`running`; follow it with
/// `backups/self_backups`). 409 while another run is under way.
pub async fn start_now(state: &AppState, caller: &Caller) -> ServerResult<SelfBackupRun> {
    caller.authorize(Operation::BackUpOptimus)?;
    if repo::self_backups::running(&state.db).await? {
        return Err(AppError::conflict("Optimus is backing itself up already").into());
    }
    let key = format!("manual:{}", uuid::Uuid::new_v4().simple());
    let Some(row) = repo::self_backups::start(
        &state.db,
        &key,
        &state.instance.id,
        Some(&caller.username),
        Utc::now(),
    )
    .await?
    else {
        return Err(AppError::conflict("Optimus is backing itself up already").into());
    };
    audit::record(
        state,
        caller.into(),
        "backups.self_backup",
        &format!("self-backup:{}", row.id),
        "ok",
    )
    .await?;
    let st = state.clone();
    let started = row.clone();
    state
        .jobs
        .spawn(format!("backups.self_run:{}", row.id), async move {
            match finish(&st.db, &st.settings, started).await {
                Ok(r) => tell_if_failed(&st, &r).await,
                Err(e) => tracing::error!(error = %e, "could not record a self-backup"),
            }
        });
    Ok(run_info(row))
}

/// What `optimus restore-self` did.
#[derive(Debug)]
pub struct RestoredSelf {
    pub snapshot: String,
    pub time: String,
    pub into: String,
    pub bytes: u64,
}

/// Restores Optimus's database from its self-backup repository at `from` (snapshot `id`, else
/// the newest) into the database `settings` name, which must be new: an SQLite file that does
/// not exist yet, or a PostgreSQL database without tables. Needs the master key of the
/// instance that made the backup.
pub async fn restore(
    settings: &Settings,
    from: &Path,
    id: Option<&str>,
) -> Result<RestoredSelf, String> {
    let mut repo = repository(settings)?;
    repo.path = std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf());
    let r = repo.clone();
    let want = id.map(str::to_owned);
    let found = tokio::task::spawn_blocking(move || {
        restic::find_dump(&r, want.as_deref(), &format!("database:{NAME}"))
    })
    .await
    .map_err(|e| e.to_string())??;
    let url = settings.effective_database_url();
    let counters = Arc::new(Counters::default());
    let bytes;
    let into = match sqlite_path(&url) {
        Some(file) => {
            if !found.file.ends_with(".sqlite3") {
                return Err(format!(
                    "snapshot {} holds a PostgreSQL dump ({}): set database_url to an empty PostgreSQL database",
                    found.id, found.file
                ));
            }
            if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) {
                return Err(format!(
                    "{} exists: restore into a fresh data dir (or remove it first)",
                    file.display()
                ));
            }
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let (r, f, snap) = (repo.clone(), file.clone(), found.clone());
            tokio::task::spawn_blocking(move || {
                let mut out =
                    std::fs::File::create(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                restic::read_dump(&r, &snap.id, &snap.file, &mut out, counters)?;
                out.sync_all().map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            if let Err(why) = databases::sqlite_check(&file).await {
                let _ = std::fs::remove_file(&file);
                return Err(why);
            }
            bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            file.display().to_string()
        }
        None => {
            if !found.file.ends_with(".sql") {
                return Err(format!(
                    "snapshot {} holds an SQLite database ({}): restore it with database_url unset (SQLite in the data dir)",
                    found.id, found.file
                ));
            }
            let conn = databases::conn_of(&url, settings.pg_bin_dir.as_deref())?;
            let tables = databases::pg_tables(&conn).await?;
            if tables > 0 {
                return Err(format!(
                    "the database has {tables} tables already: restore into an empty database"
                ));
            }
            let (r, snap) = (repo.clone(), found.clone());
            let c = databases::conn_of(&url, settings.pg_bin_dir.as_deref())?;
            let done = counters.clone();
            tokio::task::spawn_blocking(move || {
                databases::psql_from(&c, |input| {
                    restic::read_dump(&r, &snap.id, &snap.file, input, done)
                })
            })
            .await
            .map_err(|e| e.to_string())??;
            bytes = counters.done.load(std::sync::atomic::Ordering::Relaxed);
            conn.url.to_string()
        }
    };
    Ok(RestoredSelf {
        snapshot: found.id,
        time: found.time,
        into,
        bytes,
    })
}
