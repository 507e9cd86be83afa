//! The script contract: `runtime/start|stop|status|logs` by project and service name.

use super::control::{ordered, start_all, stop_all};
use super::definitions::bad;
use super::detected::sync_detected;
use super::history::log_history;
use super::services::{list, project_of};
use crate::error::AppError;
use crate::models::runtime::{
    LogQuery, RuntimeLogLine, RuntimeLogs, RuntimeLogsRequest, RuntimeRequest, RuntimeService,
    RuntimeStatus,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::runtime::entities::service;
use crate::server::runtime::repo;
use crate::server::AppState;

async fn service_named(
    state: &AppState,
    project_id: i64,
    name: &str,
) -> ServerResult<service::Model> {
    Ok(repo::services::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AppError::not_found(format!("service `{name}`")))?)
}

/// `runtime/status`: the project's services (set up from `optimus.toml` or detection on first
/// use) with the contract's coarser states.
pub async fn contract_status(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ReadRuntime)?;
    let p = project_of(state, project_id).await?;
    sync_detected(&state.db, &p).await?;
    let services = list(state, caller, project_id).await?;
    Ok(RuntimeStatus {
        services: services
            .into_iter()
            .map(|s| RuntimeService {
                name: s.definition.name,
                state: s.state.contract_name().to_owned(),
                pid: s
                    .last_run
                    .as_ref()
                    .filter(|r| r.ended_at.is_none())
                    .and_then(|r| r.pid),
                port: s.port.or_else(|| s.last_run.as_ref().and_then(|r| r.port)),
                restarts: s.restarts,
            })
            .collect(),
    })
}

/// `runtime/start`: starts one service by name or the whole project (dependencies first);
/// services already running are left as they are.
pub async fn contract_start(
    state: &AppState,
    caller: &Caller,
    req: RuntimeRequest,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, req.project_id).await?;
    sync_detected(&state.db, &p).await?;
    let targets = match &req.service {
        Some(name) => vec![service_named(state, p.id, name).await?],
        None => ordered(repo::services::of_project(&state.db, p.id).await?),
    };
    if targets.is_empty() {
        return Err(AppError::conflict(
            "the project has no services (add them, or an optimus.toml)",
        )
        .into());
    }
    start_all(state, &targets).await?;
    audit::record(
        state,
        caller.into(),
        "runtime.start",
        &format!(
            "project:{}:{}",
            p.path,
            req.service.as_deref().unwrap_or("*")
        ),
        "ok",
    )
    .await?;
    contract_status(state, caller, p.id).await
}

/// `runtime/stop`: stops one service by name or the whole project (dependents first).
pub async fn contract_stop(
    state: &AppState,
    caller: &Caller,
    req: RuntimeRequest,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, req.project_id).await?;
    let targets = match &req.service {
        Some(name) => vec![service_named(state, p.id, name).await?],
        None => ordered(repo::services::of_project(&state.db, p.id).await?),
    };
    stop_all(state, &targets).await?;
    audit::record(
        state,
        caller.into(),
        "runtime.stop",
        &format!(
            "project:{}:{}",
            p.path,
            req.service.as_deref().unwrap_or("*")
        ),
        "ok",
    )
    .await?;
    contract_status(state, caller, p.id).await
}

/// `runtime/logs`: the newest `tail` lines of one service, oldest first.
pub async fn contract_logs(
    state: &AppState,
    caller: &Caller,
    req: RuntimeLogsRequest,
) -> ServerResult<RuntimeLogs> {
    caller.authorize(Operation::ReadRuntime)?;
    let tail = req.tail.unwrap_or(100);
    if !(1..=5000).contains(&tail) {
        return Err(bad("tail", "must be between 1 and 5000").into());
    }
    let p = project_of(state, req.project_id).await?;
    let m = service_named(state, p.id, &req.service).await?;
    let lines = log_history(
        state,
        caller,
        LogQuery {
            service_ids: vec![m.id],
            limit: Some(tail),
            ..Default::default()
        },
    )
    .await?;
    Ok(RuntimeLogs {
        lines: lines
            .into_iter()
            .map(|l| RuntimeLogLine {
                stream: l.stream,
                text: l.text,
                ts: l.at,
            })
            .collect(),
    })
}
