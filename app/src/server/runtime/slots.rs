//! Deployed releases' instances of services ("slots"), for the deployments feature: a service
//! row of its own (`<name>@d<deployment>`), running in the release's folder, supervised like
//! any service (logs, probes, restarts, limits, adoption after an Optimus restart), but not
//! listed with the project's own services and changed only through these functions.

use crate::error::AppError;
use crate::models::runtime::{ServiceDefinition, ServiceState};
use crate::server::error::ServerResult;
use crate::server::runtime::control::{start_one, stop_one};
use crate::server::runtime::entities::service;
use crate::server::runtime::{ports, repo};
use crate::server::AppState;
use chrono::Utc;
use std::path::Path;

/// A slot as deployments see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub id: i64,
    /// The service's own name (`web` for `web@d12`).
    pub name: String,
    pub state: ServiceState,
    pub message: Option<String>,
    /// The port it listens on (its own, fresh from the registry, once started).
    pub port: Option<u16>,
    pub restarts: i32,
}

fn slot(m: &service::Model) -> Slot {
    Slot {
        id: m.id,
        name: repo::services::base_name(m).to_owned(),
        state: repo::services::state(m),
        message: m.message.clone(),
        port: ports::held_port(m).0,
        restarts: m.restarts,
    }
}

/// Adds a slot of `def` for `deployment_id`, running in `root`. With `fresh_port`, a service
/// with a port gets one of its own from the registry (so it can run beside the release it
/// replaces); without, it keeps the service's fixed port.
pub async fn create(
    state: &AppState,
    project_id: i64,
    deployment_id: i64,
    def: &ServiceDefinition,
    root: &Path,
    fresh_port: bool,
) -> ServerResult<Slot> {
    let mut def = def.clone();
    if fresh_port && (def.port.is_some() || def.allocate_port) {
        def.port = None;
        def.allocate_port = true;
    }
    let root = root.to_string_lossy();
    let m = repo::services::insert_slot(
        &state.db,
        project_id,
        deployment_id,
        &def,
        &root,
        Utc::now(),
    )
    .await?;
    Ok(slot(&m))
}

/// The slot now.
pub async fn get(state: &AppState, id: i64) -> ServerResult<Option<Slot>> {
    Ok(repo::services::find(&state.db, id).await?.map(|m| slot(&m)))
}

/// The slots a deployment started.
pub async fn of_deployment(state: &AppState, deployment_id: i64) -> ServerResult<Vec<Slot>> {
    Ok(repo::services::of_deployment(&state.db, deployment_id)
        .await?
        .iter()
        .map(slot)
        .collect())
}

/// Starts supervising a slot here (its dependencies among the deployment's slots first).
pub async fn start(state: &AppState, id: i64) -> ServerResult<()> {
    let m = of(state, id).await?;
    if !start_one(state, &m).await? {
        return Err(AppError::conflict(format!("`{}` is already running", m.name)).into());
    }
    Ok(())
}

/// Stops a slot (SIGTERM to its process tree, SIGKILL after its grace period).
pub async fn stop(state: &AppState, id: i64) -> ServerResult<()> {
    let m = of(state, id).await?;
    stop_one(state, &m).await
}

/// Stops a slot and removes it with its runs and logs (Optimus's own files; the release
/// folder stays with its release).
pub async fn remove(state: &AppState, id: i64) -> ServerResult<()> {
    let Some(m) = repo::services::find(&state.db, id).await? else {
        return Ok(());
    };
    if m.deployment_id.is_none() {
        return Err(AppError::conflict(format!("`{}` is not a deployed instance", m.name)).into());
    }
    stop_one(state, &m).await?;
    repo::services::delete(&state.db, id).await?;
    let runs_root = state.settings.data_dir.join("runs");
    let dir = runs_root.join(id.to_string());
    if dir.starts_with(&runs_root) {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

async fn of(state: &AppState, id: i64) -> ServerResult<service::Model> {
    repo::services::find(&state.db, id)
        .await?
        .filter(|m| m.deployment_id.is_some())
        .ok_or_else(|| AppError::not_found("deployed instance").into())
}

/// The definitions of a project's own services (what a new release of it runs), by name.
pub async fn definitions_of(
    state: &AppState,
    project_id: i64,
) -> ServerResult<Vec<ServiceDefinition>> {
    let mut out = Vec::new();
    for m in repo::services::of_project(&state.db, project_id).await? {
        out.push(repo::services::definition(&m)?);
    }
    Ok(out)
}
