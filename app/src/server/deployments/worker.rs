//! The deployments worker: claims queued deployments (each project's oldest unfinished one
//! only, so a project's deployments run one at a time and in order, whichever instance takes
//! them), drives each in its own task under a renewed lease, and ends deployments whose
//! instance stopped renewing (their new instances are left to the runtime's take-over; traffic
//! stays where it was last switched).

use super::driver::Drive;
use super::repo;
use crate::models::deployments::DeploymentStatus;
use crate::models::events::Event;
use crate::server::AppState;
use chrono::Utc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// How long a claim lasts without renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often a driven deployment's lease is renewed.
const RENEW: Duration = Duration::from_secs(5);
/// How often queued deployments are looked for without being told.
const LOOK: Duration = Duration::from_secs(1);

/// Rings when a deployment was queued on this instance.
fn bell() -> &'static Arc<Notify> {
    static BELL: OnceLock<Arc<Notify>> = OnceLock::new();
    BELL.get_or_init(|| Arc::new(Notify::new()))
}

/// Looks for queued deployments now.
pub fn wake(_state: &AppState) {
    bell().notify_one();
}

/// Starts the worker's loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    let mut events = state.bus.subscribe();
    jobs.spawn("deployments.worker", async move {
        let mut look = tokio::time::interval(LOOK);
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = bell().notified() => {}
                _ = look.tick() => {
                    if let Err(e) = end_lapsed(&state).await {
                        tracing::warn!(error = %e, "could not look for lapsed deployments");
                    }
                }
                event = events.recv() => match event {
                    // Queued on another instance.
                    Ok(envelope) if matches!(
                        envelope.event,
                        Event::DeploymentChanged { status: DeploymentStatus::Queued, .. }
                    ) => {}
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        events = state.bus.subscribe();
                        continue;
                    }
                },
            }
            if let Err(e) = claim(&state).await {
                tracing::warn!(error = %e, "could not claim queued deployments");
            }
        }
    });
}

async fn claim(state: &AppState) -> Result<(), sea_orm::DbErr> {
    if state.jobs.is_shutting_down() {
        return Ok(());
    }
    for d in repo::deployments::queued(&state.db, 50).await? {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let Some(fence) =
            repo::deployments::claim(&state.db, &d, &state.instance.id, until, now).await?
        else {
            continue;
        };
        let Some(mut d) = repo::deployments::find(&state.db, d.id).await? else {
            continue;
        };
        d.fence = fence;
        let id = d.id;
        let st = state.clone();
        state
            .jobs
            .spawn(format!("deployments.run:{id}"), async move {
                let renewing = st.jobs.spawn(
                    format!("deployments.lease:{id}"),
                    renew(st.clone(), id, fence),
                );
                Drive::new(st.clone(), d, fence).run().await;
                renewing.abort();
                // The project's next deployment may be waiting for this one.
                bell().notify_one();
            });
    }
    Ok(())
}

async fn renew(state: AppState, id: i64, fence: i64) {
    let mut tick = tokio::time::interval(RENEW);
    tick.tick().await;
    loop {
        tick.tick().await;
        let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match repo::deployments::renew(&state.db, id, &state.instance.id, fence, until).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(deployment.id = id, error = %e, "could not renew a deployment's lease")
            }
        }
    }
}

/// Ends deployments whose instance stopped renewing its lease.
async fn end_lapsed(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    for d in repo::deployments::lapsed(&state.db, now).await? {
        let reason = "interrupted: the Optimus instance running it stopped before it finished";
        if repo::deployments::fail_lapsed(&state.db, &d, reason, now).await? {
            tracing::warn!(deployment.id = d.id, "a deployment was interrupted");
            state
                .bus
                .publish(Event::DeploymentChanged {
                    deployment_id: d.id,
                    project_id: d.project_id,
                    release: d.release_number,
                    status: DeploymentStatus::Failed,
                    step: None,
                })
                .await;
        }
    }
    Ok(())
}
