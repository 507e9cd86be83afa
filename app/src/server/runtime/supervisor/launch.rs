//! Starting a run: wait for the services it depends on, record the run, hand the spec to the
//! log shim, and wait until the process exists.

use super::spec::{environment, run_spec, spec_hash};
use super::{announce, timeline};
use crate::models::runtime::{ServiceDefinition, ServiceState};
use crate::server::catalog::Project;
use crate::server::environments;
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::processes;
use crate::server::runtime::shim::ShimSpec;
use crate::server::runtime::{ports, repo};
use crate::server::{db, AppState};
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// Waits for the dependencies, then launches. None when the service was stopped meanwhile or
/// could not be launched (its state says why).
pub(super) async fn begin(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    project: &Project,
    attempt: u32,
    stop: &mut watch::Receiver<bool>,
) -> Option<service_run::Model> {
    if !wait_for_dependencies(state, svc, def, stop).await {
        announce(state, svc, ServiceState::Stopped, None, None, Some(0)).await;
        return None;
    }
    loop {
        match launch(state, svc, def, project, attempt).await {
            Ok(run) => {
                let port = run.port.map(|p| format!(", port {p}")).unwrap_or_default();
                let pid = run.pid.unwrap_or_default();
                timeline(
                    state,
                    svc,
                    "started",
                    format!("Started `{}` (pid {pid}{port})", svc.name),
                )
                .await;
                return Some(run);
            }
            // Nothing was started (a started process is recorded however long that takes), so
            // a failure while the database is away is the database's: launch once it is back.
            Err(message) if !db::ping(&state.db).await => {
                tracing::warn!(service.id = svc.id, error = %message, "launch waits for the database");
                if !wait_for_database(state, stop).await {
                    announce(state, svc, ServiceState::Stopped, None, None, Some(0)).await;
                    return None;
                }
            }
            Err(message) => {
                announce(state, svc, ServiceState::Failed, Some(message), None, None).await;
                return None;
            }
        }
    }
}

/// Waits until the database answers again. False when the service was stopped meanwhile.
async fn wait_for_database(state: &AppState, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *stop.borrow() {
            return false;
        }
        if db::ping(&state.db).await {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Waits until every service named in `depends_on` is ready. False when stopped meanwhile.
async fn wait_for_dependencies(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut announced = String::new();
    loop {
        if *stop.borrow() {
            return false;
        }
        if def.depends_on.is_empty() {
            return true;
        }
        let siblings = repo::services::siblings(&state.db, svc)
            .await
            .unwrap_or_default();
        let waiting: Vec<String> = def
            .depends_on
            .iter()
            .filter(|d| {
                !siblings.iter().any(|s| {
                    repo::services::base_name(s) == d.as_str()
                        && repo::services::state(s) == ServiceState::Ready
                })
            })
            .cloned()
            .collect();
        if waiting.is_empty() {
            return true;
        }
        let message = format!("waiting for {}", waiting.join(", "));
        if message != announced {
            announce(
                state,
                svc,
                ServiceState::Waiting,
                Some(message.clone()),
                None,
                None,
            )
            .await;
            announced = message;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The shim to start: the configured one, else `optimus-shim` beside this executable, else
/// this executable itself (`optimus shim`).
/// Starts a run: records it, starts the shim with the spec, waits for the process to exist.
async fn launch(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    project: &Project,
    attempt: u32,
) -> Result<service_run::Model, String> {
    // A deployed release's instance runs in its release folder, never the working folder.
    let root = svc.root.as_deref().unwrap_or(&project.path);
    let cwd = Path::new(root).join(&def.cwd);
    if !cwd.is_dir() {
        return Err(format!("working folder {} does not exist", cwd.display()));
    }
    if def.command.trim().is_empty() {
        return Err("the service has no command".into());
    }
    let port = ports::port_for(state, svc).await?;
    if let Some(p) = port {
        if let Some(why) = ports::conflict(state, svc.id, p)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(why);
        }
    }
    let siblings = repo::services::siblings(&state.db, svc)
        .await
        .map_err(|e| e.to_string())?;
    let active = environments::resolved(state, svc.project_id)
        .await
        .map_err(|e| format!("cannot read the active environment: {e}"))?;
    let env = environment(project, def, port, &siblings, &active);
    let spec = run_spec(def, port, &active);
    let spec_json = serde_json::to_string(&spec).unwrap_or_default();
    let mut run = repo::services::insert_run(
        &state.db,
        (svc.id, &state.instance.id),
        attempt,
        port,
        (&spec_hash(&spec), &spec_json),
        Utc::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let dir = state
        .settings
        .data_dir
        .join("runs")
        .join(svc.id.to_string())
        .join(run.id.to_string());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Err(format!("cannot create {}: {e}", dir.display()));
    }
    run.run_dir = dir.to_string_lossy().into_owned();
    let spec = ShimSpec {
        command: def.command.clone(),
        cwd,
        env: env.into_iter().collect(),
        run_dir: dir.clone(),
        secrets: active.secret_values(),
        segment_bytes: state.settings.log_segment_bytes,
        limits: optimus_shim::Limits {
            memory_mb: def.limits.memory_mb,
            cpu_percent: def.limits.cpu_percent,
            open_files: def.limits.open_files,
        },
    };
    let started = match processes::spawn(state, &spec).await {
        Ok(s) => s,
        Err(why) => {
            run.ended_at = Some(Utc::now());
            run.exit_code = Some(127);
            run.reason = Some(why.clone());
            let _ = repo::services::save_run(&state.db, run).await;
            return Err(why);
        }
    };
    run.pid = i32::try_from(started.pid).ok();
    run.pid_start = i64::try_from(started.pid_start).ok();
    run.shim_pid = i32::try_from(started.shim_pid).ok();
    run.limits = repo::services::encode_limits(&started.limits);
    // The process exists now: its pid must be recorded, or it would run untracked (and a retry
    // would start a second copy), so a database outage is waited out here.
    let run = db::until_reachable("record a started process", || {
        repo::services::save_run(&state.db, run.clone())
    })
    .await
    .map_err(|e| e.to_string())?;
    prune_runs(state, svc.id).await;
    Ok(run)
}

/// Removes the folders of runs beyond the newest `keep_runs` (Optimus created them).
async fn prune_runs(state: &AppState, service_id: i64) {
    let keep = u64::from(state.settings.keep_runs);
    let Ok(old) = repo::services::runs_beyond(&state.db, service_id, keep).await else {
        return;
    };
    let runs_root = state.settings.data_dir.join("runs");
    let mut ids = Vec::new();
    for r in old {
        let dir = PathBuf::from(&r.run_dir);
        // Only ever inside Optimus's own runs folder.
        if dir.starts_with(&runs_root) {
            let _ = std::fs::remove_dir_all(&dir);
        }
        ids.push(r.id);
    }
    let _ = repo::services::delete_runs(&state.db, ids).await;
}
