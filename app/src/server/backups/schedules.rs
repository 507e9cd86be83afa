//! Scheduled backups. Every instance looks at every scheduled policy each second; each fire
//! time in the policy's window queues one backup job whose trigger key is the fire time, and
//! the database's unique key on (policy, trigger key) lets exactly one instance's insert
//! through. Fire times are computed by the pipelines' scheduler (croner in the policy's time
//! zone, daylight saving handled); fire times missed while no instance ran become one backup
//! (the last of them) when an instance looks again.
//!
//! Once a minute every policy's newest good backup is also checked against its schedule: one
//! too old (older than two intervals, or a week without a schedule) is notified once per
//! staleness (`backup_stale`), the database deciding which instance does it.

use super::{jobs, repo};
use crate::models::backups::BackupSchedule;
use crate::models::pipelines::{Missed, Schedule};
use crate::server::notifications::{self, NewNotification};
use crate::server::pipelines::schedules;
use crate::server::AppState;
use chrono::{DateTime, Utc};
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);
/// How many ticks between two looks at the backups' age.
const STALE_EVERY: u32 = 60;

/// Starts the schedule loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("backups.schedules", async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks = 0u32;
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = look(&state, Utc::now()).await {
                tracing::warn!(error = %e, "could not look at backup schedules");
            }
            ticks = ticks.wrapping_add(1);
            if ticks % STALE_EVERY == 1 {
                if let Err(e) = stale(&state, Utc::now()).await {
                    tracing::warn!(error = %e, "could not look at the backups' age");
                }
            }
        }
    });
}

/// The schedule as the pipelines' scheduler reads it: missed fire times make one backup.
fn as_pipeline_schedule(s: &BackupSchedule) -> Schedule {
    Schedule {
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        missed: Missed::Last,
        missed_cap: None,
        parameters: Default::default(),
    }
}

/// The key of fire time `at`: the same on every instance.
pub fn key(at: DateTime<Utc>) -> String {
    format!(
        "schedule:{}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// One look at every scheduled policy: queues the backups due at `now`.
pub async fn look(state: &AppState, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    for p in repo::policies::scheduled(&state.db).await? {
        let Some(s) = p
            .schedule
            .as_deref()
            .and_then(|s| serde_json::from_str::<BackupSchedule>(s).ok())
        else {
            continue;
        };
        let from = p.schedule_checked_at;
        let Some(checked) = from else {
            // First look: the window starts now.
            repo::policies::advance(&state.db, p.id, None, now).await?;
            continue;
        };
        if checked >= now {
            continue;
        }
        let schedule = as_pipeline_schedule(&s);
        let Ok(parsed) = schedules::parse(&schedule) else {
            continue;
        };
        let due = schedules::due(&parsed, &schedule, checked, now);
        if !due.is_empty() && repo::jobs::backup_waiting(&state.db, p.id).await? {
            // A backup still waiting to start will take whatever changed since: queueing more
            // behind it would only pile up.
            tracing::info!(
                policy.id = p.id,
                "a scheduled backup was skipped: one is still waiting"
            );
            repo::policies::advance(&state.db, p.id, from, now).await?;
            continue;
        }
        let mut failed = false;
        for at in due {
            match jobs::queue_scheduled(state, &p, key(at)).await {
                Ok(true) => {
                    tracing::info!(policy.id = p.id, fire = %at, "a scheduled backup was queued")
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(policy.id = p.id, fire = %at, error = ?e, "a scheduled backup could not be queued; the next look tries again");
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            repo::policies::advance(&state.db, p.id, from, now).await?;
        }
    }
    Ok(())
}

/// Notifies, once per staleness and policy, the policies whose newest good backup is too old.
pub async fn stale(state: &AppState, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    for p in repo::policies::list(&state.db, None).await? {
        if p.paused {
            continue;
        }
        let schedule = p
            .schedule
            .as_deref()
            .and_then(|s| serde_json::from_str::<BackupSchedule>(s).ok());
        let good = repo::snapshots::latest_good(&state.db, p.id).await?;
        let at = good.as_ref().map(|g| g.started_at);
        if schedule.is_none() && at.is_none() {
            // Made by hand and never run: nothing has gone stale yet (the policy says so).
            continue;
        }
        let Some(why) = super::policies::alert(schedule.as_ref(), at, p.created_at, now) else {
            continue;
        };
        let key = at.map_or("never".to_owned(), |a| a.to_rfc3339());
        if repo::policies::mark_stale(&state.db, p.id, &key).await? {
            notifications::notify(
                state,
                NewNotification {
                    level: "warning",
                    kind: "backup_stale",
                    title: format!("Backup too old: policy {}", p.name),
                    body: format!("Policy {}: {why}.", p.name),
                    project_id: Some(p.project_id),
                    service_id: None,
                },
            )
            .await;
        }
    }
    Ok(())
}

/// The next `n` fire times of a schedule after `after` (empty when it does not parse).
pub fn next(s: &BackupSchedule, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    schedules::parse(&as_pipeline_schedule(s))
        .map(|p| p.next(after, n))
        .unwrap_or_default()
}
