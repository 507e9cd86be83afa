//! Start, stop and restart one service or a whole project, in dependency order.

use super::services::{get, list, project_of, service_of};
use crate::error::AppError;
use crate::models::runtime::{ServiceDefinition, ServiceInfo, ServiceState};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::instances::{Judge, Reach};
use crate::server::runtime::entities::service;
use crate::server::runtime::supervisor::{self, Taken};
use crate::server::runtime::{ports, repo};
use crate::server::AppState;
use std::collections::HashSet;
use std::time::Duration;

/// Refuses a start that cannot work now: a port another service or process holds.
async fn preflight(state: &AppState, m: &service::Model) -> ServerResult<()> {
    let def = repo::services::definition(m)?;
    if let Some(port) = def
        .port
        .or_else(|| m.allocated_port.and_then(|p| u16::try_from(p).ok()))
    {
        if let Some(why) = ports::conflict(state, m.id, port).await? {
            return Err(AppError::conflict(why).into());
        }
    }
    Ok(())
}

/// Starts supervising a service here. False when it runs already: supervised here, or under
/// another instance (or by one that is gone, whose services are taken over shortly).
pub(super) async fn start_one(state: &AppState, m: &service::Model) -> ServerResult<bool> {
    if state.runtime.is_supervising(m.id) {
        return Ok(false);
    }
    // Read afresh: a stop just before (a restart) changed its state and let go of it.
    let Some(m) = repo::services::find(&state.db, m.id).await? else {
        return Ok(false);
    };
    let m = &m;
    if repo::services::state(m).is_active() {
        return Ok(false);
    }
    preflight(state, m).await?;
    // The database decides between instances starting it at once: one claim succeeds.
    let me = &state.instance.id;
    if !repo::services::claim(&state.db, m.id, me, m.supervisor.as_deref()).await? {
        return Ok(false);
    }
    let waiting = repo::services::set_state(
        &state.db,
        m.id,
        ServiceState::Waiting,
        Some("starting"),
        Some(0),
    )
    .await;
    if let Err(e) = waiting {
        let _ = repo::services::release(&state.db, m.id, me).await;
        return Err(e.into());
    }
    Ok(state.runtime.supervise(state, m.id, None))
}

/// Starts a service (after its dependencies are ready). 409 when it runs already or its port
/// is taken.
pub async fn start(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    if !start_one(state, &m).await? {
        return Err(AppError::conflict(format!("`{}` is already running", m.name)).into());
    }
    audit::record(
        state,
        caller.into(),
        "services.start",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

/// Stops a service: SIGTERM to its whole process tree, SIGKILL after its grace period.
pub async fn stop(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    stop_one(state, &m).await?;
    audit::record(
        state,
        caller.into(),
        "services.stop",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

pub(super) async fn stop_one(state: &AppState, m: &service::Model) -> ServerResult<()> {
    // A definition that cannot be read still stops, with the default grace period.
    let grace = repo::services::definition(m)
        .map(|d| d.grace_ms)
        .unwrap_or_else(|_| ServiceDefinition::new("", "").grace_ms);
    let wait = Duration::from_millis(grace) + Duration::from_secs(10);
    let elsewhere = m.supervisor.as_deref() != Some(state.instance.id.as_str());
    if repo::services::state(m).is_active() && elsewhere && !state.runtime.is_supervising(m.id) {
        // Supervised elsewhere: by an instance still running (whose processes this one must not
        // touch), or by one that is gone (take its run over first, so the stop reaches it).
        let mut judge = Judge::new(&state.db, &state.instance, Reach::SameHost);
        let taken = supervisor::take_over(state, &state.runtime, m, &mut judge).await?;
        if taken == Taken::NotOurs {
            return Err(AppError::conflict(format!(
                "`{}` is supervised by another Optimus instance that is still running; stop it \
                 through that instance",
                m.name
            ))
            .into());
        }
    }
    if !state.runtime.stop(m.id, wait).await {
        // Not supervised here (e.g. crash loop or failed): just make the state plain.
        let st = repo::services::state(m);
        if st.is_active() {
            repo::services::set_state(
                &state.db,
                m.id,
                ServiceState::Stopped,
                Some("stopped"),
                Some(0),
            )
            .await?;
        }
    }
    Ok(())
}

/// Stops, then starts, a service; applies a changed definition.
pub async fn restart(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    stop_one(state, &m).await?;
    let m = service_of(state, id).await?;
    start_one(state, &m).await?;
    audit::record(
        state,
        caller.into(),
        "services.restart",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

/// The project's services in dependency order (dependencies first).
pub(super) fn ordered(services: Vec<service::Model>) -> Vec<service::Model> {
    let mut placed: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut left = services;
    while !left.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = left.into_iter().partition(|s| {
            // Unreadable definitions (logged) are placed as if they depended on nothing.
            repo::services::definition(s)
                .map(|d| d.depends_on)
                .unwrap_or_default()
                .iter()
                .all(|d| placed.contains(d))
        });
        if ready.is_empty() {
            // A cycle or a missing name: keep the rest in name order.
            out.extend(rest);
            break;
        }
        for s in &ready {
            placed.insert(s.name.clone());
        }
        out.extend(ready);
        left = rest;
    }
    out
}

/// Starts `services` (in dependency order); every port is checked first, so a conflict starts
/// nothing. Services already running are left as they are.
pub(super) async fn start_all(state: &AppState, services: &[service::Model]) -> ServerResult<()> {
    for m in services {
        if !state.runtime.is_supervising(m.id) {
            preflight(state, m).await?;
        }
    }
    for m in services {
        start_one(state, m).await?;
    }
    Ok(())
}

/// Stops `services` (given in dependency order) dependents first.
pub(super) async fn stop_all(state: &AppState, services: &[service::Model]) -> ServerResult<()> {
    for m in services.iter().rev() {
        stop_one(state, m).await?;
    }
    Ok(())
}

/// Starts every service of a project (each waits for its dependencies).
pub async fn start_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repo::services::of_project(&state.db, p.id).await?);
    if services.is_empty() {
        return Err(AppError::conflict("the project has no services yet").into());
    }
    start_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.start_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}

/// Stops every service of a project, dependents first.
pub async fn stop_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repo::services::of_project(&state.db, p.id).await?);
    stop_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.stop_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}

/// Restarts every service of a project: stop all (dependents first), then start all.
pub async fn restart_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repo::services::of_project(&state.db, p.id).await?);
    stop_all(state, &services).await?;
    start_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.restart_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}
