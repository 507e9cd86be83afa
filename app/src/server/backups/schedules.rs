//! Scheduled backups. Every instance looks at every scheduled policy each second; each fire
//! time in the policy's window queues one backup job whose trigger key is the fire time, and
//! the database's unique key on (policy, trigger key) lets exactly one instance's insert
//! through. Fire times are computed by the pipelines' scheduler (croner in the policy's time
//! zone, daylight saving handled); fire times missed while no instance ran become one backup
//! (the last of them) when an instance looks again.

use super::{jobs, repo};
use crate::models::backups::BackupSchedule;
use crate::models::pipelines::{Missed, Schedule};
use crate::server::pipelines::schedules;
use crate::server::AppState;
use chrono::{DateTime, Utc};
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);

/// Starts the schedule loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("backups.schedules", async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = look(&state, Utc::now()).await {
                tracing::warn!(error = %e, "could not look at backup schedules");
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

/// The next `n` fire times of a schedule after `after` (empty when it does not parse).
pub fn next(s: &BackupSchedule, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    schedules::parse(&as_pipeline_schedule(s))
        .map(|p| p.next(after, n))
        .unwrap_or_default()
}
