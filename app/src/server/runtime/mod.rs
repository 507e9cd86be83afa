//! The runtime: supervises each service's processes (through a per-run log shim), checks their
//! health, restarts them per policy, keeps their logs, and finds them again after Optimus
//! restarts.
//!
//! Each active service has one supervising task ([`supervisor::drive`]). The task owns the
//! service's life: wait for dependencies, launch, watch (logs, probes, exit), restart or stop.
//! Services keep running when Optimus stops; [`Runtime::reconcile`] re-adopts them on start.
//!
//! The functions re-exported below are the feature's public API: service definitions
//! ([`services`], [`definitions`], [`detected`], [`pending`]), control ([`control`], [`contract`]),
//! history and logs ([`history`]) and resources ([`resources`], [`sampler`]). [`repo`] alone
//! touches the runtime's tables.

pub mod alerts;
pub mod contract;
pub mod control;
pub mod definitions;
pub mod detected;
pub mod entities;
pub mod health;
pub mod history;
pub mod logs;
pub mod pause;
pub mod pending;
pub mod ports;
pub mod probes;
pub mod processes;
pub mod repo;
pub mod resources;
pub mod sampler;
pub mod services;
pub mod slots;
pub mod summary;
pub mod supervisor;
pub use optimus_shim::{limits, proc, shim};

pub use contract::{contract_logs, contract_start, contract_status, contract_stop};
pub use control::{restart, restart_project, start, start_project, stop, stop_project};
pub use definitions::check_definition;
pub use detected::{detected, import_detected, sync_detected};
pub use health::{project_health, resource_trend, ProjectHealth, ResourceTrend};
pub use history::{log_download, log_history, port_registry, runs};
pub use pending::pending_changes;
pub use resources::{host_metrics, service_metrics};
pub use services::{create, delete, get, list, update};
pub use summary::{crash_looping, project_summaries};

use crate::server::jobs::JobHandle;
use crate::server::runtime::entities::service_run;
use crate::server::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

struct Handle {
    stop: watch::Sender<bool>,
    task: JobHandle,
}

#[derive(Default)]
struct Inner {
    tasks: Mutex<HashMap<i64, Handle>>,
    http: OnceLock<reqwest::Client>,
}

/// The supervising tasks of this Optimus instance.
#[derive(Clone, Default)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// No services supervised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The HTTP client probes use (no redirects followed, so a 3xx is seen as such).
    pub fn http(&self) -> &reqwest::Client {
        self.inner.http.get_or_init(|| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        })
    }

    /// Whether a task supervises the service now.
    pub fn is_supervising(&self, service_id: i64) -> bool {
        self.inner
            .tasks
            .lock()
            .map(|t| t.get(&service_id).is_some_and(|h| !h.task.is_finished()))
            .unwrap_or(false)
    }

    /// Starts supervising a service: launching it, or watching `adopt`, a run that is already
    /// alive. Returns false (and does nothing) when a task supervises it already.
    pub fn supervise(
        &self,
        state: &AppState,
        service_id: i64,
        adopt: Option<service_run::Model>,
    ) -> bool {
        let Ok(mut tasks) = self.inner.tasks.lock() else {
            return false;
        };
        if tasks
            .get(&service_id)
            .is_some_and(|h| !h.task.is_finished())
        {
            return false;
        }
        let (stop, stop_rx) = watch::channel(false);
        let task_state = state.clone();
        let task = state.jobs.spawn(format!("runtime.supervise:{service_id}"), async move {
            supervisor::drive(task_state.clone(), service_id, stop_rx, adopt).await;
            // Stopped or ended for good: another instance may start it from now on.
            let me = &task_state.instance.id;
            if let Err(e) = repo::services::release(&task_state.db, service_id, me).await {
                tracing::warn!(service.id = service_id, error = %e, "could not let go of a service");
            }
        });
        tasks.insert(service_id, Handle { stop, task });
        true
    }

    /// Asks the service's task to stop the service and waits for it (at most `wait`). Returns
    /// false when no task supervised it.
    pub async fn stop(&self, service_id: i64, wait: Duration) -> bool {
        let handle = self
            .inner
            .tasks
            .lock()
            .ok()
            .and_then(|mut t| t.remove(&service_id));
        let Some(handle) = handle else {
            return false;
        };
        if handle.task.is_finished() {
            return false;
        }
        let _ = handle.stop.send(true);
        handle.task.wait(wait).await;
        true
    }

    /// Stops supervising without touching the processes (Optimus is shutting down; they keep
    /// running and are re-adopted on the next start).
    pub fn detach_all(&self) {
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            for (_, h) in tasks.drain() {
                h.task.abort();
            }
        }
    }

    /// Takes over the services nobody alive supervises (on start: those of the last run of
    /// Optimus): re-adopts runs still alive, records the end of those that ended meanwhile, and
    /// resumes services that were meant to be running. Returns (adopted, ended).
    pub async fn reconcile(&self, state: &AppState) -> Result<(u32, u32), sea_orm::DbErr> {
        supervisor::reconcile(state, self).await
    }

    /// Until shutdown, takes over every `every` the services of instances on this host that are
    /// gone (another Optimus sharing the database was killed, and nobody restarted it).
    pub fn watch_orphans(&self, state: &AppState, every: Duration) {
        let (runtime, state_for_task) = (self.clone(), state.clone());
        let mut shutdown = state.jobs.shutdown_signal();
        state.jobs.spawn("runtime.take_over", async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tick.tick() => match runtime.reconcile(&state_for_task).await {
                        Ok((0, 0)) => {}
                        Ok((adopted, ended)) => tracing::info!(adopted, ended, "took over services of an instance that is gone"),
                        Err(e) => tracing::warn!(error = %e, "could not look for services to take over"),
                    },
                }
            }
        });
    }
}
