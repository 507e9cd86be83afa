//! Workspaces: add, list, remove, and their background scans.

use super::curation::parse_tag;
use crate::error::AppError;
use crate::models::catalog::{AddWorkspaceRequest, WorkspaceInfo};
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::audit;
use crate::server::bus::DomainEvent;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::catalog::repo::{activity::NewActivity, projects::Scanned};
use crate::server::catalog::scan;
use crate::server::error::{ServerError, ServerResult};
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use chrono::Utc;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Folders that are never workspaces.
const SYSTEM_DIRS: [&str; 14] = [
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/root/.cache",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
];

/// Checks a workspace path: absolute, an existing readable folder, not a system folder, and under
/// an allowed root when roots are configured. Returns the canonical path.
pub fn check_workspace_path(raw: &str, allowed_roots: &[PathBuf]) -> Result<PathBuf, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::validation("path", "is required"));
    }
    if raw.chars().count() > 1024 {
        return Err(AppError::validation(
            "path",
            "must be at most 1024 characters",
        ));
    }
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(AppError::validation("path", "must be an absolute path"));
    }
    // Well-formed; what follows depends on the disk and the settings.
    let invalid = |m: &str| AppError::unprocessable("path", m);
    let canonical = path.canonicalize().map_err(|_| invalid("does not exist"))?;
    if !canonical.is_dir() {
        return Err(invalid("is not a folder"));
    }
    if std::fs::read_dir(&canonical).is_err() {
        return Err(invalid("is not readable by Optimus"));
    }
    if SYSTEM_DIRS.iter().any(|d| canonical == Path::new(d)) {
        return Err(invalid(
            "is a system folder; choose the folder where your code lives",
        ));
    }
    if !allowed_roots.is_empty() && !allowed_roots.iter().any(|r| canonical.starts_with(r)) {
        return Err(invalid(
            "is outside the folders Optimus may scan (workspace_roots)",
        ));
    }
    Ok(canonical)
}

/// Adds a workspace (409 if it is already one) and starts its first scan.
pub async fn add_workspace(
    state: &AppState,
    caller: &Caller,
    input: AddWorkspaceRequest,
) -> ServerResult<WorkspaceInfo> {
    caller.authorize(Operation::ManageWorkspaces)?;
    let path = check_workspace_path(&input.path, &state.settings.workspace_roots)?;
    let path_text = path.to_string_lossy().to_string();
    if repo::workspaces::find_by_path(&state.db, &path_text)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!("{path_text} is already a workspace")).into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let ws = repo::workspaces::insert(&txn, &path_text, Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "workspaces.add",
        &format!("workspace:{}", ws.path),
    )
    .await?;
    start_scan(state, caller, ws.id).await
}

/// A page of workspaces, by id.
pub async fn list_workspaces(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
) -> ServerResult<Page<WorkspaceInfo>> {
    caller.authorize(Operation::ReadCatalog)?;
    let limit = page_limit(&page)?;
    let after = parse_cursor(page.cursor.as_deref())?;
    let rows = repo::workspaces::page(&state.db, after, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, WorkspaceInfo::from))
}

/// One workspace with its scan state.
pub async fn get_workspace(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<WorkspaceInfo> {
    caller.authorize(Operation::ReadCatalog)?;
    let ws = repo::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    Ok(ws.into())
}

/// Removes a workspace from the catalog; its projects stay (unlinked) and nothing on disk changes.
pub async fn remove_workspace(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageWorkspaces)?;
    let ws = repo::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    if ws.scan_state == "running" {
        return Err(AppError::conflict("a scan is running; wait for it to finish").into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    repo::workspaces::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "workspaces.remove",
        &format!("workspace:{}", ws.path),
    )
    .await?;
    Ok(())
}

/// Starts a background scan; 409 while one is running.
pub async fn start_scan(state: &AppState, caller: &Caller, id: i64) -> ServerResult<WorkspaceInfo> {
    caller.authorize(Operation::ManageWorkspaces)?;
    let ws = repo::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    let txn = crate::server::db::begin(&state.db).await?;
    if !repo::workspaces::claim_scan(&txn, id, &state.instance.id).await? {
        return Err(AppError::conflict("a scan of this workspace is already running").into());
    }
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "workspaces.scan",
        &format!("workspace:{}", ws.path),
    )
    .await?;
    let task_state = state.clone();
    state
        .jobs
        .spawn_work(format!("catalog.scan:{id}"), async move {
            if let Err(e) = run_scan(&task_state, id, PathBuf::from(&ws.path)).await {
                tracing::error!(workspace.id = id, error = %e, "scan failed");
                let _ = repo::workspaces::finish_scan(
                    &task_state.db,
                    id,
                    Some(e.to_string()),
                    0,
                    0,
                    0,
                    Utc::now(),
                )
                .await;
                publish_progress(&task_state, id, "failed", 0, 0).await;
            }
        });
    let ws = repo::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    Ok(ws.into())
}

async fn publish_progress(state: &AppState, id: i64, s: &str, folders: u32, found: u32) {
    state
        .bus
        .publish(Event::ScanProgress {
            workspace_id: id,
            state: s.into(),
            folders_scanned: folders,
            projects_found: found,
        })
        .await;
}

/// What a scan stores for one examined project root.
pub(super) fn scanned_from(
    root: &Path,
    examined: scan::Examined,
    workspace_id: Option<i64>,
    fingerprint: String,
) -> Scanned {
    let path = root.to_string_lossy().to_string();
    let d = examined.detection;
    let name = d
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            root.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| path.clone())
        });
    let desc = examined.descriptor;
    Scanned {
        workspace_id,
        name: name.chars().take(256).collect(),
        path,
        description: d.description.clone(),
        stacks: d.stacks.iter().copied().collect(),
        frameworks: d.frameworks.iter().cloned().collect(),
        commands: d.commands.clone(),
        port: d.port,
        components: examined.components,
        git: examined.git,
        errors: d.errors.clone(),
        fingerprint,
        services: desc
            .as_ref()
            .map(|x| x.services.clone())
            .unwrap_or_default(),
        descriptor_tags: desc
            .as_ref()
            .filter(|x| !x.tags.is_empty())
            .map(|x| x.tags.iter().filter_map(|t| parse_tag(t).ok()).collect()),
        descriptor_owner: desc.as_ref().and_then(|x| x.owner.clone()),
        descriptor_lifecycle: desc.as_ref().and_then(|x| x.lifecycle.clone()),
    }
}

/// The scan itself: discover roots, re-examine those whose fingerprint changed, mark vanished
/// ones missing. Unchanged projects cost one fingerprint each.
pub async fn run_scan(state: &AppState, id: i64, root: PathBuf) -> ServerResult<()> {
    let started = Instant::now();
    if !root.is_dir() {
        return Err(ServerError::Other(format!(
            "{} is no longer a readable folder",
            root.display()
        )));
    }
    publish_progress(state, id, "running", 0, 0).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let walk_root = root.clone();
    let discovery = tokio::task::spawn_blocking(move || {
        scan::discover(&walk_root, &mut |n| {
            // The receiver only goes away if the scan task was dropped; nothing to report then.
            let _ = tx.send(n);
        })
    });
    let mut last = Instant::now();
    while let Some(n) = rx.recv().await {
        if last.elapsed() > Duration::from_millis(250) {
            last = Instant::now();
            repo::workspaces::progress(&state.db, id, n).await?;
            publish_progress(state, id, "running", n, 0).await;
        }
    }
    let (roots, folders, walk_errors) = discovery.await?;
    for e in walk_errors.iter().take(20) {
        tracing::warn!(workspace.id = id, error = %e, "unreadable folder skipped");
    }
    let known: HashMap<String, repo::projects::Known> = repo::projects::known(&state.db, id)
        .await?
        .into_iter()
        .map(|k| (k.path.clone(), k))
        .collect();
    let mut seen = Vec::new();
    let mut changed = Vec::new();
    let mut returned = Vec::new();
    let mut timeline = Vec::new();
    let now = Utc::now();
    // One blocking task for every fingerprint: an unchanged rescan is mostly these `stat` calls.
    let fp_roots = roots.clone();
    let fingerprints = tokio::task::spawn_blocking(move || {
        fp_roots
            .iter()
            .map(|r| scan::fingerprint(r))
            .collect::<Vec<_>>()
    })
    .await?;
    for (i, (root_dir, fp)) in roots.iter().zip(fingerprints).enumerate() {
        let path = root_dir.to_string_lossy().to_string();
        let mut unreadable = false;
        if let Some(k) = known.get(&path) {
            seen.push(k.id);
            // A row that cannot be read is examined again, which rewrites it.
            if k.fingerprint == fp && k.readable {
                if k.status != "present" {
                    returned.push(k.id);
                }
                continue;
            }
            unreadable = !k.readable;
        }
        let dir = root_dir.clone();
        let examined = tokio::task::spawn_blocking(move || scan::examine(&dir)).await?;
        let (project, created) = repo::projects::upsert(
            &state.db,
            scanned_from(root_dir, examined, Some(id), fp),
            now,
        )
        .await?;
        seen.push(project.id);
        changed.push(project.id);
        timeline.push(NewActivity {
            project_id: project.id,
            kind: if created { "discovered" } else { "updated" }.into(),
            summary: if created {
                format!("Found by a scan of {}", root.display())
            } else if unreadable {
                "Stored facts could not be read; detected again".into()
            } else {
                "Files changed; detected again".into()
            },
            actor: None,
        });
        state
            .bus
            .publish(Event::ProjectChanged {
                id: project.id,
                name: project.name.clone(),
                change: if created { "discovered" } else { "updated" }.into(),
            })
            .await;
        if last.elapsed() > Duration::from_millis(250) {
            last = Instant::now();
            publish_progress(
                state,
                id,
                "running",
                folders,
                u32::try_from(i + 1).unwrap_or(u32::MAX),
            )
            .await;
        }
    }
    for pid in &returned {
        timeline.push(NewActivity {
            project_id: *pid,
            kind: "returned".into(),
            summary: "Back on disk".into(),
            actor: None,
        });
    }
    repo::projects::set_status(&state.db, returned, "present", now).await?;
    let missing: Vec<i64> = known
        .values()
        .filter(|k| !seen.contains(&k.id) && k.status != "missing")
        .map(|k| k.id)
        .collect();
    for pid in &missing {
        state
            .bus
            .publish(Event::ProjectChanged {
                id: *pid,
                name: String::new(),
                change: "missing".into(),
            })
            .await;
        timeline.push(NewActivity {
            project_id: *pid,
            kind: "missing".into(),
            summary: "No longer found on disk".into(),
            actor: None,
        });
    }
    repo::activity::insert_many(&state.db, timeline, now).await?;
    repo::projects::set_status(&state.db, missing, "missing", now).await?;
    let found = u32::try_from(roots.len()).unwrap_or(u32::MAX);
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    repo::workspaces::finish_scan(&state.db, id, None, found, folders, millis, Utc::now()).await?;
    publish_progress(state, id, "done", folders, found).await;
    // Others (the knowledge graph) follow the catalog, off the scan's critical path.
    if !changed.is_empty() {
        state
            .bus
            .emit(DomainEvent::ProjectsChanged { ids: changed });
    }
    tracing::info!(
        workspace.id = id,
        projects = found,
        folders,
        millis,
        "scan finished"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<PathBuf, AppError>) -> Option<String> {
        match r {
            Err(AppError::Validation { message, .. } | AppError::Unprocessable { message, .. }) => {
                Some(message)
            }
            _ => None,
        }
    }

    #[test]
    fn workspace_paths_must_be_absolute_existing_and_not_system_folders() {
        assert!(field(check_workspace_path("relative/dir", &[]))
            .is_some_and(|m| m.contains("absolute")));
        assert!(field(check_workspace_path("/definitely/not/here", &[]))
            .is_some_and(|m| m.contains("exist")));
        assert!(field(check_workspace_path("/", &[])).is_some_and(|m| m.contains("system")));
        assert!(field(check_workspace_path("/etc", &[])).is_some_and(|m| m.contains("system")));
        let tmp = std::env::temp_dir();
        assert!(check_workspace_path(&tmp.to_string_lossy(), &[]).is_ok());
        assert!(field(check_workspace_path(
            &tmp.to_string_lossy(),
            &[PathBuf::from("/srv/code")]
        ))
        .is_some_and(|m| m.contains("outside")));
    }
}
