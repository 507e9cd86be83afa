//! Projects: list, filter and facets, curation (edit, tag, favorite, archive), add and remove,
//! descriptors and import.

use super::activity::note;
use super::workspaces::{check_workspace_path, scanned_from};
use crate::error::AppError;
use crate::models::catalog::{
    CreateProjectRequest, DescriptorWritten, ImportReport, ImportRequest, ImportSkip,
    ProjectFacets, ProjectFlagRequest, ProjectInfo, ProjectQuery, ProjectSort, Stack,
    UpdateProjectRequest, LIFECYCLES,
};
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::audit;
use crate::server::bus::DomainEvent;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::catalog::scan;
use crate::server::error::ServerResult;
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::ConnectionTrait;
use std::path::Path;

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
        if repo::projects::find(&state.db, id).await?.is_none() {
            return Err(AppError::validation(
                "cursor",
                "points at a project that no longer exists",
            )
            .into());
        }
    }
    let rows = repo::projects::page(&state.db, &filter, sort, after, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, ProjectInfo::from))
}

/// One project.
pub async fn get_project(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::ReadCatalog)?;
    let p = repo::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(p.into())
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
    let current = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let mut overrides = repo::projects::Overrides::parse(&current.overrides);
    let mut c = repo::projects::Curation::default();
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
    let txn = crate::server::db::begin(&state.db).await?;
    let updated = repo::projects::curate(&txn, current, c).await?;
    note(
        &txn,
        updated.id,
        "edited",
        format!("Edited {}", changed.join(", ")),
        Some(caller),
    )
    .await?;
    let entry = audit::write(
        &txn,
        caller.into(),
        "projects.update",
        &format!("project:{}", updated.path),
        "ok",
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
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
    let p = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let what = if input.value {
        "Marked as a favorite"
    } else {
        "No longer a favorite"
    };
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::set_favorite(&txn, p.id, input.value).await?;
    note(&txn, p.id, "favorite", what.into(), Some(caller)).await?;
    let entry = audit::write(
        &txn,
        caller.into(),
        "projects.favorite",
        &format!("project:{}:{}", p.path, input.value),
        "ok",
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
    get_project(state, caller, p.id).await
}

/// Archives or unarchives a project.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    input: ProjectFlagRequest,
) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::EditProjects)?;
    let p = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::set_archived(&txn, p.id, input.value).await?;
    note(
        &txn,
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
    let entry = audit::write(
        &txn,
        caller.into(),
        action,
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
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
    let p = repo::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::projects::delete(&txn, id).await?;
    let entry = audit::write(
        &txn,
        caller.into(),
        "projects.delete",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
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
    let p: ProjectInfo = repo::projects::find(&state.db, id)
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
            Err(AppError::Validation { message, .. }) => {
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
                AppError::Validation { field, message } => {
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

/// Builds the repository filter from a query, validating each field.
pub fn filter_from(query: &ProjectQuery) -> Result<repo::projects::Filter, AppError> {
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
    Ok(repo::projects::Filter {
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
    let rows = repo::projects::facet_rows(&state.db, &filter).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        assert_eq!(parse_tag(" Backend ").ok().as_deref(), Some("backend"));
        assert!(parse_tag("has space").is_err());
        assert!(parse_tag("").is_err());
        assert!(parse_tag("\"quoted\"").is_err());
    }
}
