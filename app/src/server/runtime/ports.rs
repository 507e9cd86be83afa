//! The port registry: which service holds which port, conflict checks before a start, and
//! allocation from the configured range for services that ask for one.

use crate::models::runtime::PortEntry;
use crate::server::runtime::entities::service;
use crate::server::runtime::repo;
use crate::server::AppState;
use sea_orm::DbErr;
use std::collections::HashSet;

/// Whether nothing listens on `port` (on any address).
pub fn is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

/// The port a service holds: its fixed port, else its allocation.
pub fn held_port(m: &service::Model) -> (Option<u16>, bool) {
    // An unreadable definition (logged) holds what it was allocated, if anything.
    match repo::services::definition(m).ok().and_then(|d| d.port) {
        Some(p) => (Some(p), false),
        None => (m.allocated_port.and_then(|p| u16::try_from(p).ok()), true),
    }
}

/// Every port held by a service.
pub async fn entries(state: &AppState) -> Result<Vec<PortEntry>, DbErr> {
    let mut out = Vec::new();
    for m in repo::services::all(&state.db).await? {
        if let (Some(port), allocated) = held_port(&m) {
            out.push(PortEntry {
                port,
                service_id: m.id,
                service: m.name.clone(),
                project_id: m.project_id,
                allocated,
                live: repo::services::state(&m).is_live(),
            });
        }
    }
    out.sort_by_key(|e| (e.port, e.service_id));
    Ok(out)
}

/// Why a service cannot have `port` now, if it cannot: another active service holds it, or
/// some other process listens on it.
pub async fn conflict(
    state: &AppState,
    service_id: i64,
    port: u16,
) -> Result<Option<String>, DbErr> {
    for m in repo::services::all(&state.db).await? {
        // Waiting and restarting services hold their port too.
        if m.id == service_id || !repo::services::state(&m).is_active() {
            continue;
        }
        if held_port(&m).0 == Some(port) {
            return Ok(Some(format!(
                "port {port} is held by running service `{}` (project #{})",
                m.name, m.project_id
            )));
        }
    }
    let free = tokio::task::spawn_blocking(move || is_free(port))
        .await
        .unwrap_or(false);
    if !free {
        return Ok(Some(format!(
            "port {port} is already in use by another process"
        )));
    }
    Ok(None)
}

/// The port a service's next run gets: fixed, allocated before, or newly allocated.
pub async fn port_for(state: &AppState, m: &service::Model) -> Result<Option<u16>, String> {
    let def = repo::services::definition(m).map_err(|e| e.to_string())?;
    if let Some(p) = def.port {
        return Ok(Some(p));
    }
    if !def.allocate_port {
        return Ok(None);
    }
    if let Some(p) = m.allocated_port.and_then(|p| u16::try_from(p).ok()) {
        return Ok(Some(p));
    }
    let all = repo::services::all(&state.db)
        .await
        .map_err(|e| e.to_string())?;
    let taken: HashSet<u16> = all.iter().filter_map(|s| held_port(s).0).collect();
    let (start, end) = (
        state.settings.port_range_start,
        state.settings.port_range_end,
    );
    for port in start..=end {
        if taken.contains(&port) || !is_free(port) {
            continue;
        }
        // The unique index settles a race with another allocation: try the next port.
        if repo::services::set_allocated_port(&state.db, m.id, Some(port))
            .await
            .is_ok()
        {
            return Ok(Some(port));
        }
    }
    Err(format!("no free port left in {start}–{end}"))
}
