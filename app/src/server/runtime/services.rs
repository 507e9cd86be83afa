//! A project's service definitions: list, read, add, change, remove.

use super::definitions::{check_definition, check_dependencies};
use crate::error::AppError;
use crate::models::runtime::{CreateServiceRequest, RunInfo, ServiceInfo, UpdateServiceRequest};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::Project;
use crate::server::environments;
use crate::server::error::ServerResult;
use crate::server::runtime::entities::service;
use crate::server::runtime::repo;
use crate::server::runtime::{ports, supervisor};
use crate::server::AppState;
use chrono::Utc;
use std::collections::HashMap;

pub(super) async fn project_of(state: &AppState, id: i64) -> ServerResult<Project> {
    Ok(crate::server::catalog::find_project(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

pub(super) async fn service_of(state: &AppState, id: i64) -> ServerResult<service::Model> {
    Ok(repo::services::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("service"))?)
}

/// A deployed release's instance is changed only by deployments.
fn refuse_slot(m: &service::Model) -> ServerResult<()> {
    if m.deployment_id.is_some() {
        return Err(AppError::conflict(format!(
            "`{}` is a deployed release's instance: deploy or roll back the project instead",
            m.name
        ))
        .into());
    }
    Ok(())
}

pub(super) async fn info(state: &AppState, m: service::Model) -> ServerResult<ServiceInfo> {
    let last = repo::services::runs(&state.db, m.id, 1)
        .await?
        .into_iter()
        .next();
    let active = environments::resolved(state, m.project_id).await?;
    to_info(m, last, &active)
}

fn to_info(
    m: service::Model,
    last: Option<crate::server::runtime::entities::service_run::Model>,
    active: &environments::Resolved,
) -> ServerResult<ServiceInfo> {
    let def = repo::services::definition(&m)?;
    let st = repo::services::state(&m);
    let port = ports::held_port(&m).0;
    let now = supervisor::spec_hash(&supervisor::run_spec(&def, port, active));
    let pending = st.is_live()
        && last
            .as_ref()
            .is_some_and(|r| r.ended_at.is_none() && r.spec_hash != now);
    Ok(ServiceInfo {
        id: m.id,
        project_id: m.project_id,
        origin: m.origin,
        definition: def,
        state: st,
        message: m.message,
        port,
        restarts: u32::try_from(m.restarts).unwrap_or(0),
        last_run: last.map(RunInfo::try_from).transpose()?,
        pending_changes: pending,
    })
}

/// A project's services with their state.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ReadRuntime)?;
    project_of(state, project_id).await?;
    let services = repo::services::of_project(&state.db, project_id).await?;
    let runs =
        repo::services::latest_runs(&state.db, services.iter().map(|s| s.id).collect()).await?;
    let mut by_service: HashMap<i64, _> = runs.into_iter().map(|r| (r.service_id, r)).collect();
    let active = environments::resolved(state, project_id).await?;
    services
        .into_iter()
        .map(|s| {
            let last = by_service.remove(&s.id);
            to_info(s, last, &active)
        })
        .collect()
}

/// One service.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ReadRuntime)?;
    let m = service_of(state, id).await?;
    info(state, m).await
}

/// Adds a service to a project.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreateServiceRequest,
) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::EditServices)?;
    check_definition(&req.definition)?;
    let p = project_of(state, req.project_id).await?;
    let siblings = repo::services::of_project(&state.db, p.id).await?;
    check_dependencies(&req.definition, None, &siblings)?;
    let txn = crate::server::db::begin(&state.db).await?;
    let m = repo::services::insert(&txn, p.id, "user", &req.definition, Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "services.create",
        &format!("service:{}:{}", p.path, m.name),
    )
    .await?;
    info(state, m).await
}

/// Replaces a service's definition. A running service keeps its process until restarted; its
/// info then shows `pending_changes`.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: UpdateServiceRequest,
) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::EditServices)?;
    check_definition(&req.definition)?;
    let m = service_of(state, req.id).await?;
    refuse_slot(&m)?;
    let siblings = repo::services::of_project(&state.db, m.project_id).await?;
    check_dependencies(&req.definition, Some(m.id), &siblings)?;
    if req.definition.name != m.name && repo::services::state(&m).is_active() {
        return Err(AppError::conflict("stop the service before renaming it").into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    if req.definition.allocate_port {
        // Keep the allocation.
    } else if m.allocated_port.is_some() {
        repo::services::set_allocated_port(&txn, m.id, None).await?;
    }
    repo::services::update_definition(&txn, m.id, &req.definition, Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "services.update",
        &format!("service:{}:{}", m.id, req.definition.name),
    )
    .await?;
    get(state, caller, m.id).await
}

/// Removes a stopped service (its runs and logs go too; the project's files are untouched).
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditServices)?;
    let m = service_of(state, id).await?;
    refuse_slot(&m)?;
    if repo::services::state(&m).is_active() || state.runtime.is_supervising(id) {
        return Err(AppError::conflict("stop the service before removing it").into());
    }
    let siblings = repo::services::of_project(&state.db, m.project_id).await?;
    for s in siblings.iter().filter(|s| s.id != id) {
        if repo::services::definition(s)?.depends_on.contains(&m.name) {
            return Err(AppError::conflict(format!("`{}` depends on it", s.name)).into());
        }
    }
    let runs_root = state.settings.data_dir.join("runs");
    let dir = runs_root.join(id.to_string());
    let txn = crate::server::db::begin(&state.db).await?;
    repo::services::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "services.delete",
        &format!("service:{id}:{}", m.name),
    )
    .await?;
    // Only once the row is gone: the run folders are Optimus's own, under its data dir.
    if dir.starts_with(&runs_root) {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}
