//! One service's life: wait for dependencies, launch through the shim, watch logs, probes and
//! exit, restart per policy, stop on request.
//!
//! [`drive`] is the loop; `launch` starts a run, `watching` follows it (with `probing` judging
//! its probes, woken by `changes` in its run directory), `restart` decides what follows its
//! end, `process` stops its process tree, and `adopt` finds runs again after Optimus restarts
//! ([`reconcile`]). `spec` is what a run starts with ([`RunSpec`]).

mod adopt;
mod changes;
mod launch;
mod probing;
mod process;
mod restart;
mod spec;
mod watching;

pub use adopt::{reconcile, take_over, Taken};
pub use spec::{port_var, run_spec, spec_hash, RunSpec};

use crate::models::events::Event;
use crate::models::runtime::ServiceState;
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::repo;
use crate::server::{db, AppState};
use std::time::Instant;
use tokio::sync::watch;

/// How a run ended.
enum Outcome {
    /// A user stopped it.
    Stopped,
    /// It ended (or was ended by a failed probe).
    Ended { reason: String, failure: bool },
}

/// Records and announces a state change.
async fn announce(
    state: &AppState,
    svc: &service::Model,
    st: ServiceState,
    message: Option<String>,
    run: Option<&service_run::Model>,
    restarts: Option<u32>,
) {
    let recorded = db::until_reachable("record a service state", || {
        repo::services::set_state(&state.db, svc.id, st, message.as_deref(), restarts)
    })
    .await;
    if let Err(e) = recorded {
        tracing::warn!(service.id = svc.id, error = %e, "could not record service state");
    }
    tracing::info!(service.id = svc.id, service = %svc.name, state = st.as_str(), message = message.as_deref().unwrap_or(""), "service state");
    state
        .bus
        .publish(Event::ServiceChanged {
            id: svc.id,
            project_id: svc.project_id,
            name: svc.name.clone(),
            state: st,
            message,
            pid: run.and_then(|r| r.pid).and_then(|p| u32::try_from(p).ok()),
            port: run.and_then(|r| r.port).and_then(|p| u16::try_from(p).ok()),
        })
        .await;
}

/// Adds an entry to the project's activity timeline.
async fn timeline(state: &AppState, svc: &service::Model, kind: &str, summary: String) {
    if let Err(e) =
        crate::server::catalog::record_activity(&state.db, svc.project_id, kind, &summary, None)
            .await
    {
        tracing::warn!(service.id = svc.id, error = %e, "could not record a timeline entry");
    }
}

/// Supervises one service until it is stopped, ends for good, or the task is aborted.
pub async fn drive(
    state: AppState,
    service_id: i64,
    mut stop: watch::Receiver<bool>,
    mut adopt: Option<service_run::Model>,
) {
    let mut streak: u32 = 0;
    loop {
        // A database outage is waited out: giving up here would leave the service unsupervised
        // once the database is back.
        let found = db::until_reachable("read the supervised service", || {
            repo::services::find(&state.db, service_id)
        })
        .await;
        let Ok(Some(svc)) = found else {
            return;
        };
        let found = db::until_reachable("read the supervised service's project", || {
            crate::server::catalog::find_project(&state.db, svc.project_id)
        })
        .await;
        let Ok(Some(project)) = found else {
            return;
        };
        let def = match repo::services::definition(&svc) {
            Ok(d) => d,
            Err(e) => {
                // Never launch a guess: the service fails with the reason until it is fixed.
                announce(
                    &state,
                    &svc,
                    ServiceState::Failed,
                    Some(e.to_string()),
                    None,
                    None,
                )
                .await;
                return;
            }
        };
        let adopted = adopt.is_some();
        let mut run = match adopt.take() {
            Some(run) => run,
            None => match launch::begin(&state, &svc, &def, &project, streak, &mut stop).await {
                Some(run) => run,
                None => return,
            },
        };
        announce(&state, &svc, ServiceState::Starting, None, Some(&run), None).await;
        let began = Instant::now();
        let outcome = watching::watch_run(&state, &svc, &def, &mut run, &mut stop, adopted).await;
        let ended = match outcome {
            Outcome::Stopped => {
                timeline(&state, &svc, "stopped", format!("Stopped `{}`", svc.name)).await;
                announce(
                    &state,
                    &svc,
                    ServiceState::Stopped,
                    Some("stopped".into()),
                    None,
                    Some(0),
                )
                .await;
                return;
            }
            Outcome::Ended { reason, failure } => restart::Ended {
                run_id: run.id,
                reason,
                failure,
                ran: began.elapsed(),
            },
        };
        let who = restart::Who {
            state: &state,
            svc: &svc,
            def: &def,
            project: &project,
        };
        if !restart::after_end(who, ended, &mut streak, &mut stop).await {
            return;
        }
    }
}
