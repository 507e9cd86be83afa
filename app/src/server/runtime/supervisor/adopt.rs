//! After Optimus restarts: runs still alive are watched again, runs that ended meanwhile are
//! recorded, and services that were meant to be running carry on.

use super::announce;
use super::process::{main_alive, run_alive};
use super::watching::{describe_exit, finish_run};
use crate::models::runtime::ServiceState;
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::repo;
use crate::server::runtime::shim::{self, ShimExit};
use crate::server::runtime::Runtime;
use crate::server::AppState;
use std::path::PathBuf;

/// See [`Runtime::reconcile`].
pub async fn reconcile(state: &AppState, runtime: &Runtime) -> Result<(u32, u32), sea_orm::DbErr> {
    let (mut adopted, mut ended) = (0, 0);
    for svc in repo::services::all(&state.db).await? {
        let st = repo::services::state(&svc);
        if !st.is_active() {
            continue;
        }
        let latest = repo::services::runs(&state.db, svc.id, 1)
            .await?
            .into_iter()
            .next();
        match latest {
            Some(run) if run.ended_at.is_none() && run_alive(&run) && run.pid.is_some() => {
                if main_alive(&run) {
                    tracing::info!(
                        service.id = svc.id,
                        pid = run.pid,
                        "re-adopted a running service"
                    );
                    runtime.supervise(state, svc.id, Some(run));
                    adopted += 1;
                    continue;
                }
                // Only the shim is left; it is finishing. Treat as ended below.
                ended += 1;
                end_while_away(state, runtime, &svc, run).await;
            }
            Some(run) if run.ended_at.is_none() => {
                ended += 1;
                end_while_away(state, runtime, &svc, run).await;
            }
            _ => {
                // Waiting or about to restart when Optimus stopped: carry on.
                runtime.supervise(state, svc.id, None);
            }
        }
    }
    Ok((adopted, ended))
}

/// Records the end of a run that ended while Optimus was not running, then restarts the service
/// if its policy says so.
async fn end_while_away(
    state: &AppState,
    runtime: &Runtime,
    svc: &service::Model,
    mut run: service_run::Model,
) {
    let dir = PathBuf::from(&run.run_dir);
    let exit = shim::read_json::<ShimExit>(&dir, shim::EXIT_FILE);
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
    }
}
