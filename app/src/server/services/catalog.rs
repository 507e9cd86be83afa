//! The catalog: workspaces, background scans, and the project list.

use super::audit;
use super::{into_page, page_limit, parse_cursor};
use crate::error::AppError;
use crate::models::catalog::{
    ActivityEntry, ActivityQuery, AddWorkspaceRequest, CreateProjectRequest, DescriptorWritten,
    ImportReport, ImportRequest, ImportSkip, ProjectDependencies, ProjectFacets,
    ProjectFlagRequest, ProjectInfo, ProjectQuery, ProjectRef, ProjectSort, SetDependenciesRequest,
    Stack, UpdateProjectRequest, WorkspaceInfo, LIFECYCLES,
};
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::auth::Caller;
use crate::server::catalog::scan;
use crate::server::error::{ServerError, ServerResult};
use crate::server::repos::{self, activity::NewActivity, projects::Scanned};
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::TransactionTrait;
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
    let invalid = |m: &str| AppError::validation("path", m);
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("is required"));
    }
    if raw.len() > 1024 {
        return Err(invalid("must be at most 1024 characters"));
    }
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(invalid("must be an absolute path"));
    }
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
    if repos::workspaces::find_by_path(&state.db, &path_text)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!("{path_text} is already a workspace")).into());
    }
    let ws = repos::workspaces::insert(&state.db, &path_text, Utc::now()).await?;
    audit::record(
        state,
        caller.into(),
        "workspaces.add",
        &format!("workspace:{}", ws.path),
        "ok",
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
    let rows = repos::workspaces::page(&state.db, after, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, WorkspaceInfo::from))
}

/// One workspace with its scan state.
pub async fn get_workspace(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<WorkspaceInfo> {
    caller.authorize(Operation::ReadCatalog)?;
    let ws = repos::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    Ok(ws.into())
}

/// Removes a workspace from the catalog; its projects stay (unlinked) and nothing on disk changes.
pub async fn remove_workspace(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::ManageWorkspaces)?;
    let ws = repos::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    if ws.scan_state == "running" {
        return Err(AppError::conflict("a scan is running; wait for it to finish").into());
    }
    repos::workspaces::delete(&state.db, id).await?;
    audit::record(
        state,
        caller.into(),
        "workspaces.remove",
        &format!("workspace:{}", ws.path),
        "ok",
    )
    .await
}

/// Starts a background scan; 409 while one is running.
pub async fn start_scan(state: &AppState, caller: &Caller, id: i64) -> ServerResult<WorkspaceInfo> {
    caller.authorize(Operation::ManageWorkspaces)?;
    let ws = repos::workspaces::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("workspace"))?;
    if !repos::workspaces::claim_scan(&state.db, id).await? {
        return Err(AppError::conflict("a scan of this workspace is already running").into());
    }
    audit::record(
        state,
        caller.into(),
        "workspaces.scan",
        &format!("workspace:{}", ws.path),
        "ok",
    )
    .await?;
    let task_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = run_scan(&task_state, id, PathBuf::from(&ws.path)).await {
            tracing::error!(workspace.id = id, error = %e, "scan failed");
            let _ = repos::workspaces::finish_scan(
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
    let ws = repos::workspaces::find(&state.db, id)
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

/// Appends one entry to a project's timeline.
async fn note(
    state: &AppState,
    project_id: i64,
    kind: &str,
    summary: String,
    caller: Option<&Caller>,
) -> ServerResult<()> {
    let entry = NewActivity {
        project_id,
        kind: kind.to_owned(),
        summary,
        actor: caller.map(|c| c.username.clone()),
    };
    Ok(repos::activity::insert_many(&state.db, vec![entry], Utc::now()).await?)
}

/// Whether adding `project → deps` to `edges` would close a cycle.
pub fn creates_cycle(edges: &[(i64, i64)], project: i64, deps: &[i64]) -> bool {
    let mut graph: HashMap<i64, Vec<i64>> = HashMap::new();
    for (from, to) in edges.iter().filter(|(from, _)| *from != project) {
        graph.entry(*from).or_default().push(*to);
    }
    graph.insert(project, deps.to_vec());
    // Depth-first search from `project` for a path back to it.
    let mut stack: Vec<i64> = deps.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if n == project {
            return true;
        }
        if seen.insert(n) {
            if let Some(next) = graph.get(&n) {
                stack.extend(next.iter().copied());
            }
        }
    }
    false
}

async fn refs(state: &AppState, ids: Vec<i64>) -> ServerResult<Vec<ProjectRef>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(p) = repos::projects::find(&state.db, id).await? {
            out.push(ProjectRef {
                id: p.id,
                name: p.name,
            });
        }
    }
    out.sort_by_key(|r| r.name.to_lowercase());
    Ok(out)
}

/// A project's dependencies both ways.
pub async fn dependencies(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<ProjectDependencies> {
    caller.authorize(Operation::ReadCatalog)?;
    repos::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(ProjectDependencies {
        depends_on: refs(state, repos::dependencies::of(&state.db, id).await?).await?,
        dependents: refs(state, repos::dependencies::dependents(&state.db, id).await?).await?,
    })
}

/// Replaces what a project depends on, refusing unknown projects, itself and cycles.
pub async fn set_dependencies(
    state: &AppState,
    caller: &Caller,
    input: SetDependenciesRequest,
) -> ServerResult<ProjectDependencies> {
    caller.authorize(Operation::EditProjects)?;
    let project = repos::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let mut deps = input.depends_on.clone();
    deps.sort_unstable();
    deps.dedup();
    if deps.len() > 50 {
        return Err(AppError::validation("depends_on", "at most 50 dependencies").into());
    }
    if deps.contains(&project.id) {
        return Err(AppError::validation("depends_on", "a project cannot depend on itself").into());
    }
    for d in &deps {
        if repos::projects::find(&state.db, *d).await?.is_none() {
            return Err(
                AppError::validation("depends_on", format!("project {d} does not exist")).into(),
            );
        }
    }
    let txn = state.db.begin().await?;
    let edges = repos::dependencies::all(&txn).await?;
    if creates_cycle(&edges, project.id, &deps) {
        return Err(
            AppError::validation("depends_on", "this would make a dependency cycle").into(),
        );
    }
    repos::dependencies::replace(&txn, project.id, &deps).await?;
    txn.commit().await?;
    let names = refs(state, deps.clone())
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect::<Vec<_>>();
    let summary = if names.is_empty() {
        "No longer depends on other projects".to_owned()
    } else {
        format!("Depends on {}", names.join(", "))
    };
    note(state, project.id, "dependencies", summary, Some(caller)).await?;
    audit::record(
        state,
        caller.into(),
        "projects.set_dependencies",
        &format!("project:{}", project.path),
        "ok",
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: project.id,
            name: project.name.clone(),
            change: "updated".into(),
        })
        .await;
    super::council::sync_projects(state, &[project.id]).await;
    dependencies(state, caller, project.id).await
}

/// A page of a project's activity, newest first.
pub async fn project_activity(
    state: &AppState,
    caller: &Caller,
    query: ActivityQuery,
) -> ServerResult<Page<ActivityEntry>> {
    caller.authorize(Operation::ReadCatalog)?;
    let limit = page_limit(&PageRequest {
        cursor: None,
        limit: query.limit,
    })?;
    let before = parse_cursor(query.cursor.as_deref())?;
    repos::projects::find(&state.db, query.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let rows = repos::activity::page(&state.db, query.id, before, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, ActivityEntry::from))
}

/// What a scan stores for one examined project root.
fn scanned_from(
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
            repos::workspaces::progress(&state.db, id, n).await?;
            publish_progress(state, id, "running", n, 0).await;
        }
    }
    let (roots, folders, walk_errors) = discovery.await?;
    for e in walk_errors.iter().take(20) {
        tracing::warn!(workspace.id = id, error = %e, "unreadable folder skipped");
    }
    let known: HashMap<String, (i64, String, String)> =
        repos::projects::fingerprints(&state.db, id)
            .await?
            .into_iter()
            .map(|(pid, path, fp, status)| (path, (pid, fp, status)))
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
        if let Some((pid, old_fp, status)) = known.get(&path) {
            seen.push(*pid);
            if *old_fp == fp {
                if status != "present" {
                    returned.push(*pid);
                }
                continue;
            }
        }
        let dir = root_dir.clone();
        let examined = tokio::task::spawn_blocking(move || scan::examine(&dir)).await?;
        let (project, created) = repos::projects::upsert(
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
    repos::projects::set_status(&state.db, returned, "present", now).await?;
    let missing: Vec<i64> = known
        .values()
        .filter(|(pid, _, status)| !seen.contains(pid) && status != "missing")
        .map(|(pid, _, _)| *pid)
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
    repos::activity::insert_many(&state.db, timeline, now).await?;
    repos::projects::set_status(&state.db, missing, "missing", now).await?;
    let found = u32::try_from(roots.len()).unwrap_or(u32::MAX);
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    repos::workspaces::finish_scan(&state.db, id, None, found, folders, millis, Utc::now()).await?;
    publish_progress(state, id, "done", folders, found).await;
    // The knowledge graph follows the catalog, off the scan's critical path.
    if !changed.is_empty() {
        let state = state.clone();
        tokio::spawn(async move { super::council::sync_projects(&state, &changed).await });
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

/// A page of projects, by name.
pub async fn list_projects(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<Page<ProjectInfo>> {
    caller.authorize(Operation::ReadCatalog)?;
    let limit = page_limit(&PageRequest {
        cursor: None,
        limit: query.limit,
    })?;
    let filter = filter_from(&query)?;
    let sort = sort_from(&query)?;
    let after = parse_cursor(query.cursor.as_deref())?;
    if let Some(id) = after {
        if repos::projects::find(&state.db, id).await?.is_none() {
            return Err(AppError::validation(
                "cursor",
                "points at a project that no longer exists",
            )
            .into());
        }
    }
    let rows = repos::projects::page(&state.db, &filter, sort, after, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, ProjectInfo::from))
}

/// One project.
pub async fn get_project(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::ReadCatalog)?;
    let p = repos::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(p.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<PathBuf, AppError>) -> Option<String> {
        match r {
            Err(AppError::Validation { message, .. }) => Some(message),
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

/// Checks a tag: 1–32 characters of lowercase letters, digits, `-`, `_`, `.`.
pub fn parse_tag(raw: &str) -> Result<String, AppError> {
    let t = raw.trim().to_lowercase();
    if t.is_empty() || t.chars().count() > 32 {
        return Err(AppError::validation(
            "tags",
            format!("`{raw}`: a tag has 1 to 32 characters"),
        ));
    }
    if let Some(bad) = t
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(AppError::validation(
            "tags",
            format!("`{raw}`: `{bad}` is not allowed (letters, digits, - _ .)"),
        ));
    }
    Ok(t)
}

fn optional_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, AppError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(AppError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(AppError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Edits a project; overrides survive rescans, clearing one re-detects on the next scan.
pub async fn update_project(
    state: &AppState,
    caller: &Caller,
    input: UpdateProjectRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let current = repos::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let mut overrides = repos::projects::Overrides::parse(&current.overrides);
    let mut c = repos::projects::Curation::default();
    if let Some(name) = &input.name {
        match optional_text("name", name, 128)? {
            Some(n) => {
                overrides.name = Some(n.clone());
                c.name = Some(n);
            }
            None => {
                overrides.name = None;
                c.rescan = true;
            }
        }
    }
    if let Some(description) = &input.description {
        let d = optional_text("description", description, 1000)?;
        if d.is_none() {
            c.rescan = true;
        }
        overrides.description = d.clone();
        c.description = Some(d);
    }
    if let Some(tags) = &input.tags {
        if tags.len() > 20 {
            return Err(AppError::validation("tags", "at most 20 tags").into());
        }
        let mut parsed = Vec::new();
        for t in tags {
            let t = parse_tag(t)?;
            if !parsed.contains(&t) {
                parsed.push(t);
            }
        }
        c.tags = Some(parsed);
        overrides.curated.push("tags".into());
    }
    if let Some(owner) = &input.owner {
        c.owner = Some(optional_text("owner", owner, 64)?);
        overrides.curated.push("owner".into());
    }
    if let Some(lifecycle) = &input.lifecycle {
        let l = optional_text("lifecycle", lifecycle, 32)?.map(|l| l.to_lowercase());
        if let Some(l) = &l {
            if !LIFECYCLES.contains(&l.as_str()) {
                return Err(AppError::validation(
                    "lifecycle",
                    format!("must be one of {}", LIFECYCLES.join(", ")),
                )
                .into());
            }
        }
        c.lifecycle = Some(l);
        overrides.curated.push("lifecycle".into());
    }
    overrides.curated.sort();
    overrides.curated.dedup();
    if let Some(commands) = &input.commands {
        for o in commands {
            let cmd = optional_text("commands", &o.command, 1000)?;
            overrides.commands.retain(|(k, _)| *k != o.kind);
            if let Some(cmd) = cmd {
                overrides.commands.push((o.kind, cmd));
            }
        }
    }
    c.overrides = Some(overrides);
    let mut changed = Vec::new();
    for (field, set) in [
        ("name", input.name.is_some()),
        ("description", input.description.is_some()),
        ("tags", input.tags.is_some()),
        ("owner", input.owner.is_some()),
        ("lifecycle", input.lifecycle.is_some()),
        ("commands", input.commands.is_some()),
    ] {
        if set {
            changed.push(field);
        }
    }
    let updated = repos::projects::curate(&state.db, current, c).await?;
    note(
        state,
        updated.id,
        "edited",
        format!("Edited {}", changed.join(", ")),
        Some(caller),
    )
    .await?;
    audit::record(
        state,
        caller.into(),
        "projects.update",
        &format!("project:{}", updated.path),
        "ok",
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: updated.id,
            name: updated.name.clone(),
            change: "updated".into(),
        })
        .await;
    Ok(updated.into())
}

/// Marks or unmarks a favorite.
pub async fn set_favorite(
    state: &AppState,
    caller: &Caller,
    input: ProjectFlagRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let p = repos::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    repos::projects::set_favorite(&state.db, p.id, input.value).await?;
    let what = if input.value {
        "Marked as a favorite"
    } else {
        "No longer a favorite"
    };
    note(state, p.id, "favorite", what.into(), Some(caller)).await?;
    audit::record(
        state,
        caller.into(),
        "projects.favorite",
        &format!("project:{}:{}", p.path, input.value),
        "ok",
    )
    .await?;
    get_project(state, caller, p.id).await
}

/// Archives or unarchives a project.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    input: ProjectFlagRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let p = repos::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    repos::projects::set_archived(&state.db, p.id, input.value).await?;
    note(
        state,
        p.id,
        if input.value {
            "archived"
        } else {
            "unarchived"
        },
        if input.value {
            "Archived"
        } else {
            "Unarchived"
        }
        .into(),
        Some(caller),
    )
    .await?;
    let action = if input.value {
        "projects.archive"
    } else {
        "projects.unarchive"
    };
    audit::record(
        state,
        caller.into(),
        action,
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: p.id,
            name: p.name.clone(),
            change: if input.value {
                "archived"
            } else {
                "unarchived"
            }
            .into(),
        })
        .await;
    get_project(state, caller, p.id).await
}

/// Removes the catalog entry only; the folder on disk is untouched. A later scan of its
/// workspace finds it again.
pub async fn delete_project(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditProjects)?;
    let p = repos::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    repos::projects::delete(&state.db, id).await?;
    audit::record(
        state,
        caller.into(),
        "projects.delete",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id,
            name: p.name,
            change: "deleted".into(),
        })
        .await;
    Ok(())
}

/// Examines a folder and stores it as a project outside any workspace.
async fn catalog_folder(
    state: &AppState,
    path: &Path,
) -> ServerResult<crate::server::entities::project::Model> {
    let dir = path.to_path_buf();
    let (fp, examined) =
        tokio::task::spawn_blocking(move || (scan::fingerprint(&dir), scan::examine(&dir))).await?;
    let (p, _) = repos::projects::upsert(
        &state.db,
        scanned_from(path, examined, None, fp),
        Utc::now(),
    )
    .await?;
    Ok(p)
}

/// Adds one folder as a project, outside any workspace.
pub async fn create_project(
    state: &AppState,
    caller: &Caller,
    input: CreateProjectRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let path = check_workspace_path(&input.path, &state.settings.workspace_roots)?;
    if repos::projects::find_by_path(&state.db, &path.to_string_lossy())
        .await?
        .is_some()
    {
        return Err(
            AppError::conflict(format!("{} is already in the catalog", path.display())).into(),
        );
    }
    let p = catalog_folder(state, &path).await?;
    super::council::sync_projects(state, &[p.id]).await;
    audit::record(
        state,
        caller.into(),
        "projects.create",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    note(
        state,
        p.id,
        "discovered",
        "Added by hand".into(),
        Some(caller),
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: p.id,
            name: p.name.clone(),
            change: "discovered".into(),
        })
        .await;
    Ok(p.into())
}

/// Writes the project's current facts to a new `optimus.toml` in its folder. An existing file is
/// never overwritten (409): Optimus only creates files it was asked to.
pub async fn write_descriptor(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<DescriptorWritten> {
    caller.authorize(Operation::EditProjects)?;
    let p: ProjectInfo = repos::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?
        .into();
    let content = crate::server::catalog::descriptor::Descriptor::from_project(&p).render();
    let file = Path::new(&p.path).join(crate::server::catalog::descriptor::FILE);
    let target = file.clone();
    let text = content.clone();
    let written = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    })
    .await?;
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(AppError::conflict(format!(
                "{} already exists; Optimus never overwrites it",
                file.display()
            ))
            .into());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::conflict(format!("{} is no longer on disk", p.path)).into());
        }
        Err(e) => return Err(e.into()),
    }
    audit::record(
        state,
        caller.into(),
        "projects.write_descriptor",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    note(
        state,
        p.id,
        "descriptor",
        format!("Wrote {}", file.display()),
        Some(caller),
    )
    .await?;
    Ok(DescriptorWritten {
        path: file.to_string_lossy().to_string(),
        content,
    })
}

/// Imports a JSON export: creates the projects whose folders exist here and are not cataloged,
/// and applies tags, owner, lifecycle, favorite, archived (and hand-set names and descriptions)
/// to all of them. Folders that do not exist are skipped with the reason; nothing is written to
/// disk.
pub async fn import_projects(
    state: &AppState,
    caller: &Caller,
    input: ImportRequest,
) -> ServerResult<ImportReport> {
    caller.authorize(Operation::EditProjects)?;
    if input.projects.len() > 10_000 {
        return Err(AppError::validation("projects", "at most 10,000 projects per import").into());
    }
    let mut report = ImportReport::default();
    for item in input.projects {
        let skip = |reason: String| ImportSkip {
            path: item.path.clone(),
            reason,
        };
        let path = match check_workspace_path(&item.path, &state.settings.workspace_roots) {
            Ok(p) => p,
            Err(AppError::Validation { message, .. }) => {
                report.skipped.push(skip(format!("path {message}")));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let existing = repos::projects::find_by_path(&state.db, &path.to_string_lossy()).await?;
        let project = match existing {
            Some(p) => {
                report.updated += 1;
                p
            }
            None => {
                report.created += 1;
                catalog_folder(state, &path).await?
            }
        };
        let id = project.id;
        let wants = |f: &str| item.overridden.iter().any(|o| o == f);
        let update = UpdateProjectRequest {
            id,
            name: item.name.clone().filter(|_| wants("name")),
            description: item.description.clone().filter(|_| wants("description")),
            tags: Some(item.tags.clone()),
            owner: Some(item.owner.clone().unwrap_or_default()),
            lifecycle: Some(item.lifecycle.clone().unwrap_or_default()),
            commands: None,
        };
        if let Err(e) = update_project(state, caller, update).await {
            match AppError::from(e) {
                AppError::Validation { field, message } => {
                    report.skipped.push(skip(format!("{field} {message}")));
                    continue;
                }
                other => return Err(other.into()),
            }
        }
        repos::projects::set_favorite(&state.db, id, item.favorite).await?;
        repos::projects::set_archived(&state.db, id, item.archived).await?;
    }
    audit::record(
        state,
        caller.into(),
        "projects.import",
        &format!(
            "created:{} updated:{} skipped:{}",
            report.created,
            report.updated,
            report.skipped.len()
        ),
        "ok",
    )
    .await?;
    Ok(report)
}

/// Builds the repository filter from a query, validating each field.
pub fn filter_from(query: &ProjectQuery) -> Result<repos::projects::Filter, AppError> {
    let stack = match query
        .stack
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(Stack::parse(s).map_err(|m| AppError::validation("stack", m))?),
        None => None,
    };
    let search = query.search.clone().unwrap_or_default();
    if search.len() > 200 {
        return Err(AppError::validation(
            "search",
            "must be at most 200 characters",
        ));
    }
    let tag = match query
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(t) => {
            Some(parse_tag(t).map_err(|_| AppError::validation("tag", "is not a valid tag"))?)
        }
        None => None,
    };
    let git = match query
        .git
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(g) if ["dirty", "clean", "ahead", "behind", "none"].contains(&g) => Some(g.to_owned()),
        Some(_) => {
            return Err(AppError::validation(
                "git",
                "must be dirty, clean, ahead, behind or none",
            ))
        }
        None => None,
    };
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) if s == "present" || s == "missing" => Some(s.to_owned()),
        Some(_) => return Err(AppError::validation("status", "must be present or missing")),
        None => None,
    };
    Ok(repos::projects::Filter {
        words: search
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        stack,
        workspace_id: query.workspace_id,
        tag,
        favorite: query.favorite,
        archived: query.archived.unwrap_or(false),
        git,
        status,
    })
}

/// The list order a query asks for.
pub fn sort_from(query: &ProjectQuery) -> Result<ProjectSort, AppError> {
    ProjectSort::parse(query.sort.as_deref().unwrap_or_default())
        .map_err(|m| AppError::validation("sort", m))
}

/// Counts per stack, tag and state over the projects matching the query (its own stack and tag
/// filters are ignored so the sidebar shows what choosing another would give).
pub async fn project_facets(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<ProjectFacets> {
    caller.authorize(Operation::ReadCatalog)?;
    let mut filter = filter_from(&query)?;
    filter.stack = None;
    filter.tag = None;
    let rows = repos::projects::facet_rows(&state.db, &filter).await?;
    let mut f = ProjectFacets::default();
    for (stacks, tags, favorite, dirty, behind, status) in rows {
        f.total += 1;
        for s in stacks.split_whitespace() {
            *f.stacks.entry(s.to_owned()).or_default() += 1;
        }
        for t in serde_json::from_str::<Vec<String>>(&tags).unwrap_or_default() {
            *f.tags.entry(t).or_default() += 1;
        }
        f.favorites += u32::from(favorite);
        f.dirty += u32::from(dirty == Some(true));
        f.behind += u32::from(behind.is_some_and(|b| b > 0));
        f.missing += u32::from(status == "missing");
    }
    Ok(f)
}

/// Every project matching the query (all pages), for export.
pub async fn export_projects(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<Vec<ProjectInfo>> {
    caller.authorize(Operation::ReadCatalog)?;
    let filter = filter_from(&query)?;
    let sort = sort_from(&query)?;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let rows = repos::projects::page(&state.db, &filter, sort, after, 500).await?;
        let done = rows.len() < 500;
        after = rows.last().map(|r| r.id);
        out.extend(rows.into_iter().map(ProjectInfo::from));
        if done || out.len() >= 100_000 {
            break;
        }
    }
    Ok(out)
}

/// Quotes one CSV field (RFC 4180), and defuses spreadsheet formulas.
fn csv_field(value: &str) -> String {
    let v = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Projects as CSV: one row each, with the columns a spreadsheet user wants.
pub fn projects_csv(projects: &[ProjectInfo]) -> String {
    let mut out = String::from(
        "id,name,path,stacks,tags,status,favorite,archived,branch,dirty,ahead,behind,description\n",
    );
    for p in projects {
        let git = p.git.as_ref();
        let row = [
            p.id.to_string(),
            p.name.clone(),
            p.path.clone(),
            p.stacks
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            p.tags.join(" "),
            p.status.clone(),
            p.favorite.to_string(),
            p.archived.to_string(),
            git.and_then(|g| g.branch.clone()).unwrap_or_default(),
            git.map(|g| g.dirty.to_string()).unwrap_or_default(),
            git.map(|g| g.ahead.to_string()).unwrap_or_default(),
            git.map(|g| g.behind.to_string()).unwrap_or_default(),
            p.description.clone().unwrap_or_default(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod curation_tests {
    use super::*;

    #[test]
    fn cycles_are_found_through_other_projects() {
        let edges = [(1, 2), (2, 3)];
        assert!(creates_cycle(&edges, 3, &[1]));
        assert!(!creates_cycle(&edges, 3, &[4]));
        assert!(
            !creates_cycle(&edges, 1, &[3]),
            "replacing 1's own edges is not a cycle"
        );
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        assert_eq!(parse_tag(" Backend ").ok().as_deref(), Some("backend"));
        assert!(parse_tag("has space").is_err());
        assert!(parse_tag("").is_err());
        assert!(parse_tag("\"quoted\"").is_err());
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
