//! Taking over services nobody supervises any more: after Optimus restarts, or when another
//! instance on this host is gone. Runs still alive are watched again, runs that ended meanwhile
//! are recorded, and services that were meant to be running carry on.
//!
//! A service is taken over only when the instance supervising it is gone from this host (or it
//! has none), and only by the instance whose claim the database accepts first.

use super::announce;
use super::process::{main_alive, run_alive};
use super::watching::{describe_exit, finish_run};
use crate::models::runtime::ServiceState;
use crate::server::instances::{Judge, Reach, Verdict};
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::Runtime;
use crate::server::runtime::{processes, repo};
use crate::server::AppState;
use sea_orm::DbErr;
use std::path::PathBuf;

/// What [`take_over`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Its live run is watched again.
    Adopted,
    /// Its run had ended; that is recorded (and the service restarted if its policy says so).
    Ended,
    /// It had no live run and carries on (waiting, or about to restart).
    Resumed,
    /// It is supervised here already, or by an instance still alive, or another instance
    /// claimed it first.
    NotOurs,
}

/// See [`Runtime::reconcile`]: takes over every active service nobody alive supervises.
pub async fn reconcile(state: &AppState, runtime: &Runtime) -> Result<(u32, u32), DbErr> {
    let (mut adopted, mut ended) = (0, 0);
    let mut judge = Judge::new(&state.db, &state.instance, Reach::SameHost);
    for svc in repo::services::all(&state.db).await? {
        if !repo::services::state(&svc).is_active() {
            continue;
        }
        match take_over(state, runtime, &svc, &mut judge).await? {
            Taken::Adopted => adopted += 1,
            Taken::Ended => ended += 1,
            Taken::Resumed | Taken::NotOurs => {}
        }
    }
    Ok((adopted, ended))
}

/// Takes over `svc` if nobody alive supervises it: claims it, then adopts its live run, records
/// the end of a run that ended meanwhile, or carries on.
pub async fn take_over(
    state: &AppState,
    runtime: &Runtime,
    svc: &service::Model,
    judge: &mut Judge<'_>,
) -> Result<Taken, DbErr> {
    if runtime.is_supervising(svc.id) {
        return Ok(Taken::NotOurs);
    }
    match judge.owner(svc.supervisor.as_deref()).await? {
        // Ours without a task: being stopped (the task has let go of its handle but not yet of
        // the service), or between a start's claim and its task. Never a second supervisor.
        Verdict::Alive | Verdict::Me => return Ok(Taken::NotOurs),
        Verdict::Gone => {
            let me = &state.instance.id;
            if !repo::services::claim(&state.db, svc.id, me, svc.supervisor.as_deref()).await? {
                return Ok(Taken::NotOurs);
            }
        }
    }
    let latest = repo::services::runs(&state.db, svc.id, 1)
        .await?
        .into_iter()
        .next();
    match latest {
        Some(mut run) if run.ended_at.is_none() && run_alive(&run) && run.pid.is_some() => {
            if main_alive(&run) {
                tracing::info!(
                    service.id = svc.id,
                    pid = run.pid,
                    previous_owner = run.owner.as_deref().unwrap_or("none"),
                    "re-adopted a running service"
                );
                run.owner = Some(state.instance.id.clone());
                let run = repo::services::save_run(&state.db, run).await?;
                runtime.supervise(state, svc.id, Some(run));
                return Ok(Taken::Adopted);
            }
            // Only the shim is left; it is finishing. Treat as ended below.
            end_while_away(state, runtime, svc, run).await;
            Ok(Taken::Ended)
        }
        Some(run) if run.ended_at.is_none() => {
            end_while_away(state, runtime, svc, run).await;
            Ok(Taken::Ended)
        }
        _ => {
            // Waiting or about to restart when its supervisor stopped: carry on.
            runtime.supervise(state, svc.id, None);
            Ok(Taken::Resumed)
        }
    }
}

/// Records the end of a run that ended while nobody supervised it, then restarts the service if
/// its policy says so.
async fn end_while_away(
    state: &AppState,
    runtime: &Runtime,
    svc: &service::Model,
    mut run: service_run::Model,
) {
    let dir = PathBuf::from(&run.run_dir);
    let exit = processes::exit_of(&dir);
    let (reason, failure) = match &exit {
        Some(e) => describe_exit(e),
        None => ("ended (status unknown)".into(), true),
    };
    let reason = format!("{reason} while Optimus was not running");
    finish_run(state, &mut run, &dir, Some(reason.clone())).await;
    let restart =
        repo::services::definition(svc).is_ok_and(|def| def.restart.restarts_after(failure));
    if restart {
        runtime.supervise(state, svc.id, None);
    } else {
        let st = if failure {
            ServiceState::Failed
        } else {
            ServiceState::Exited
        };
        announce(state, svc, st, Some(reason), None, None).await;
        let _ = repo::services::release(&state.db, svc.id, &state.instance.id).await;
    }
}
