//! Adding projects outside a scan: one folder by hand, an `optimus.toml` written from the
//! facts, and import from an export.

use super::activity::note;
use super::curation::update_project;
use super::workspaces::{check_workspace_path, scanned_from};
use crate::error::AppError;
use crate::models::catalog::{
    CreateProjectRequest, DescriptorWritten, ImportReport, ImportRequest, ImportSkip, ProjectInfo,
    UpdateProjectRequest,
};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::bus::DomainEvent;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::catalog::scan;
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::ConnectionTrait;
use std::path::Path;

/// Examines a folder (on the blocking pool, before any transaction holds a lock).
async fn examine_folder(path: &Path) -> ServerResult<repo::projects::Scanned> {
    let dir = path.to_path_buf();
    let (fp, examined) =
        tokio::task::spawn_blocking(move || (scan::fingerprint(&dir), scan::examine(&dir))).await?;
    Ok(scanned_from(path, examined, None, fp))
}

/// Examines a folder and stores it as a project outside any workspace.
async fn catalog_folder(
    db: &impl ConnectionTrait,
    path: &Path,
) -> ServerResult<crate::server::catalog::Project> {
    let scanned = examine_folder(path).await?;
    let (p, _) = repo::projects::upsert(db, scanned, Utc::now()).await?;
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
    if repo::projects::find_by_path(&state.db, &path.to_string_lossy())
        .await?
        .is_some()
    {
        return Err(
            AppError::conflict(format!("{} is already in the catalog", path.display())).into(),
        );
    }
    let scanned = examine_folder(&path).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    let (p, _) = repo::projects::upsert(&txn, scanned, Utc::now()).await?;
    let entry = audit::write(
        &txn,
        caller.into(),
        "projects.create",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    note(
        &txn,
        p.id,
        "discovered",
        "Added by hand".into(),
        Some(caller),
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
    state
        .bus
        .emit(DomainEvent::ProjectsChanged { ids: vec![p.id] });
    state
        .bus
        .publish(Event::ProjectChanged {
            id: p.id,
            name: p.name.clone(),
            change: "discovered".into(),
        })
        .await;
    Ok(ProjectInfo::try_from(p)?)
}

/// Writes the project's current facts to a new `optimus.toml` in its folder. An existing file is
/// never overwritten (409): Optimus only creates files it was asked to.
pub async fn write_descriptor(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<DescriptorWritten> {
    caller.authorize(Operation::EditProjects)?;
    let p = ProjectInfo::try_from(
        repo::projects::find(&state.db, id)
            .await?
            .ok_or_else(|| AppError::not_found("project"))?,
    )?;
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
    // The file cannot roll back; its audit entry and timeline line commit together.
    let txn = crate::server::db::begin(&state.db).await?;
    let entry = audit::write(
        &txn,
        caller.into(),
        "projects.write_descriptor",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    note(
        &txn,
        p.id,
        "descriptor",
        format!("Wrote {}", file.display()),
        Some(caller),
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
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
            Err(AppError::Validation { message, .. } | AppError::Unprocessable { message, .. }) => {
                report.skipped.push(skip(format!("path {message}")));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let existing = repo::projects::find_by_path(&state.db, &path.to_string_lossy()).await?;
        let project = match existing {
            Some(p) => {
                report.updated += 1;
                p
            }
            None => {
                report.created += 1;
                catalog_folder(&state.db, &path).await?
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
                AppError::Validation { field, message }
                | AppError::Unprocessable { field, message } => {
                    report.skipped.push(skip(format!("{field} {message}")));
                    continue;
                }
                other => return Err(other.into()),
            }
        }
        repo::projects::set_favorite(&state.db, id, item.favorite).await?;
        repo::projects::set_archived(&state.db, id, item.archived).await?;
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
