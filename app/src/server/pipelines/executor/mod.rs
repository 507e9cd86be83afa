//! The executor: runs pipeline runs on this instance.
//!
//! - **Claiming**: a queued run is taken with a compare-and-set in the database (`queued` →
//!   `running`, this instance as owner, a lease, the fence + 1), so however many instances look
//!   at once, one runs it. Instances look when told (a run queued here, or an event from another
//!   instance over the bus) and every second whatever they were told.
//! - **Driving** ([`driver`]): one task per run applies the plan ([`super::plan`]): starts ready
//!   steps as slots free up, opens gates, skips, retries, cancels, and records the outcome.
//!   Every write is fenced: an instance that lost its lease changes nothing.
//! - **Attempts** ([`attempt`]): one step's process, started through the runtime's shim
//!   ([`crate::server::runtime::processes`]), its live log, timeout, stop, artifacts and report.
//! - **Reaping**: every 2 s, runs whose owner is gone (its process ended on this host, or its
//!   lease ran out) are marked `interrupted`, once, by a compare-and-set on the fence; their
//!   left-over processes on this host are stopped, and `on_interrupt = "requeue"` queues the run
//!   again.

mod attempt;
mod driver;

pub use attempt::run_folder;

use super::entities::pipeline_run;
use super::repo::{self, runs::Lease};
use crate::models::events::Event;
use crate::models::pipelines::{OnInterrupt, PipelineDefinition, RunState, StepState};
use crate::server::instances::{Judge, Reach, Verdict};
use crate::server::runtime::processes::{self, Process};
use crate::server::stored;
use crate::server::AppState;
use chrono::Utc;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// How long a claim lasts without renewal.
const LEASE: Duration = Duration::from_secs(30);
/// How often a driver renews its lease.
const RENEW: Duration = Duration::from_secs(5);
/// How often queued runs are looked for without being told, and runs are re-read.
const LOOK: Duration = Duration::from_secs(1);
/// How often runs of gone instances are looked for.
const REAP: Duration = Duration::from_secs(2);
/// How many runs one instance drives at once (their steps still share the slots).
const MAX_DRIVEN: usize = 200;

#[derive(Debug)]
struct Inner {
    /// Whether this instance runs pipelines at all (it has slots).
    runs: bool,
    /// Something was queued.
    wake: Notify,
    /// Step processes this instance runs at once.
    slots: Arc<Semaphore>,
    /// The runs driven here, each with its driver's doorbell.
    driven: Mutex<HashMap<i64, Arc<Notify>>>,
}

/// The pipeline runs this instance drives.
#[derive(Debug, Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

impl Executor {
    /// An executor running at most `slots` steps at once; none claims no runs.
    pub fn new(slots: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                runs: slots > 0,
                wake: Notify::new(),
                slots: Arc::new(Semaphore::new(slots.max(1))),
                driven: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Looks for queued runs now.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Tells the driver of `run_id`, when it runs here, to re-read its run (cancelled, a gate
    /// decided).
    pub fn poke(&self, run_id: i64) {
        if let Some(bell) = self.driven().get(&run_id) {
            bell.notify_one();
        }
    }

    /// The ids of the runs driven here.
    pub fn running(&self) -> Vec<i64> {
        self.driven().keys().copied().collect()
    }

    fn driven(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Notify>>> {
        self.inner
            .driven
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Starts the executor's loop: claims queued runs, reaps runs of gone instances, and passes
/// run events from other instances to the drivers here.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    let mut events = state.bus.subscribe();
    jobs.spawn("pipelines.executor", async move {
        let mut look = tokio::time::interval(LOOK);
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reap_tick = tokio::time::interval(REAP);
        reap_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = state.pipelines.inner.wake.notified() => {}
                _ = look.tick() => {}
                _ = reap_tick.tick() => {
                    if let Err(e) = reap(&state).await {
                        tracing::warn!(error = %e, "could not look for interrupted pipeline runs");
                    }
                    continue;
                }
                event = events.recv() => match event {
                    Ok(envelope) => match &envelope.event {
                        Event::PipelineRunChanged { run_id, status, step, .. } => {
                            if *status != RunState::Queued {
                                // A person cancelled the run or decided a gate (on any
                                // instance): its driver re-reads it now.
                                let decided = *status == RunState::Waiting && step.is_some();
                                if *status == RunState::Cancelled || decided {
                                    state.pipelines.poke(*run_id);
                                }
                                continue;
                            }
                        }
                        _ => continue,
                    },
                    // Missed events: look at the database anyway.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        for id in state.pipelines.running() {
                            state.pipelines.poke(id);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        events = state.bus.subscribe();
                        continue;
                    }
                },
            }
            if let Err(e) = claim_queued(&state).await {
                tracing::warn!(error = %e, "could not claim queued pipeline runs");
            }
        }
    });
}

/// Whether a queued run may start now: under `queue`, not while an older run of its pipeline is
/// active.
async fn may_start(state: &AppState, run: &pipeline_run::Model) -> Result<bool, sea_orm::DbErr> {
    let def = stored::decode::<PipelineDefinition>(
        "pipeline_runs",
        run.id,
        "definition",
        &run.definition,
    );
    if !def.is_ok_and(|d| d.concurrency == crate::models::pipelines::Concurrency::Queue) {
        return Ok(true);
    }
    let active = repo::runs::active(&state.db, Some(run.pipeline_id)).await?;
    Ok(active.iter().all(|r| r.id > run.id))
}

/// Claims queued runs while this instance has room, and starts a driver for each.
async fn claim_queued(state: &AppState) -> Result<(), sea_orm::DbErr> {
    if state.jobs.is_shutting_down() || !state.pipelines.inner.runs {
        return Ok(());
    }
    let room = MAX_DRIVEN.saturating_sub(state.pipelines.driven().len());
    if room == 0 {
        return Ok(());
    }
    for run in repo::runs::queued(&state.db, room as u64).await? {
        if !may_start(state, &run).await? {
            continue;
        }
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let Some(fence) =
            repo::runs::claim(&state.db, run.id, &state.instance.id, until, now).await?
        else {
            continue;
        };
        let lease = Lease {
            owner: state.instance.id.clone(),
            fence,
        };
        let bell = Arc::new(Notify::new());
        state.pipelines.driven().insert(run.id, bell.clone());
        let (st, run_id) = (state.clone(), run.id);
        state
            .jobs
            .spawn(format!("pipelines.run:{run_id}"), async move {
                driver::drive(st.clone(), run, lease, bell).await;
                st.pipelines.driven().remove(&run_id);
                // A run of a `queue` pipeline may be waiting for this one.
                st.pipelines.wake();
            });
    }
    Ok(())
}

/// Marks runs whose owner is gone as interrupted (once: the compare-and-set on the fence
/// decides), stops what they left running on this host, and requeues them per policy.
async fn reap(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let active = repo::runs::active(&state.db, None).await?;
    if active.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut judge = Judge::new(&state.db, &state.instance, Reach::SameHost);
    for run in active {
        let verdict = judge.owner(run.owner.as_deref()).await?;
        let lapsed = run.lease_until.is_none_or(|until| until < now);
        let gone = match verdict {
            Verdict::Me => false,
            Verdict::Gone => true,
            Verdict::Alive => lapsed,
        };
        if !gone {
            continue;
        }
        let message = match verdict {
            Verdict::Gone => "the Optimus instance running it stopped",
            _ => "the Optimus instance running it stopped renewing its lease",
        };
        interrupt(state, &run, message, verdict == Verdict::Gone).await?;
    }
    Ok(())
}

/// Marks `run` interrupted (when its claim is still the one it had), stops its left-over step
/// processes when they are on this host, announces it, and requeues it per policy.
async fn interrupt(
    state: &AppState,
    run: &pipeline_run::Model,
    message: &str,
    stop_leftovers: bool,
) -> Result<(), sea_orm::DbErr> {
    let steps = repo::runs::steps(&state.db, run.id).await?;
    if !repo::runs::interrupt(&state.db, run.id, run.fence, message, Utc::now()).await? {
        return Ok(());
    }
    tracing::warn!(run.id = run.id, owner = ?run.owner, "pipeline run interrupted: {message}");
    if stop_leftovers {
        for s in steps
            .iter()
            .filter(|s| s.state == StepState::Running.as_str())
        {
            stop_leftover(s).await;
        }
    }
    let mut interrupted = run.clone();
    interrupted.state = RunState::Interrupted.as_str().to_owned();
    driver::conclude(state, &interrupted, RunState::Interrupted, Some(message)).await;
    let policy = stored::decode::<PipelineDefinition>(
        "pipeline_runs",
        run.id,
        "definition",
        &run.definition,
    )
    .map(|d| d.on_interrupt)
    .unwrap_or_default();
    if policy == OnInterrupt::Requeue {
        super::running::requeue(state, run).await?;
    }
    Ok(())
}

/// Removes a pipeline's finished runs beyond the newest `keep_pipeline_runs`, with their folders
/// (logs, artifacts) under Optimus's data folder: nothing else is touched.
async fn prune(state: &AppState, pipeline_id: i64) {
    let keep = u64::from(state.settings.keep_pipeline_runs);
    let old = match repo::runs::beyond(&state.db, pipeline_id, keep).await {
        Ok(old) if !old.is_empty() => old,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(pipeline.id = pipeline_id, error = %e, "could not look for old pipeline runs");
            return;
        }
    };
    let root = state.settings.data_dir.join("pipelines");
    let ids: Vec<i64> = old.iter().map(|r| r.id).collect();
    for id in &ids {
        let dir = run_folder(state, *id);
        if dir.starts_with(&root) {
            let _ = tokio::fs::remove_dir_all(&dir).await;
        }
    }
    if let Err(e) = repo::runs::delete(&state.db, ids).await {
        tracing::warn!(pipeline.id = pipeline_id, error = %e, "could not remove old pipeline runs");
    }
}

/// Stops a step process a gone instance left behind, when it is still the process recorded.
async fn stop_leftover(step: &super::entities::pipeline_step::Model) {
    let (Some(pid), Some(start)) = (
        step.pid.and_then(|p| u32::try_from(p).ok()),
        step.pid_start.and_then(|s| u64::try_from(s).ok()),
    ) else {
        return;
    };
    if !crate::server::runtime::proc::is_same_process(pid, start) {
        return;
    }
    let process = Process {
        pid,
        shim_pid: step.shim_pid.and_then(|p| u32::try_from(p).ok()),
        run_dir: step
            .run_dir
            .as_deref()
            .map(PathBuf::from)
            .unwrap_or_default(),
    };
    processes::terminate(&process, 3000).await;
}
