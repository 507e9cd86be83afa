//! `/api/v1/workspaces/*` and `/api/v1/projects/*`: the project catalog.

use crate::error::AppError;
use crate::models::catalog::{
    ActivityEntry, ActivityQuery, AddWorkspaceRequest, CreateProjectRequest, DescriptorWritten,
    ImportReport, ImportRequest, ProjectDependencies, ProjectFacets, ProjectFlagRequest,
    ProjectInfo, ProjectQuery, SetDependenciesRequest, UpdateProjectRequest, WorkspaceInfo,
};
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::IdRequest;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Adds a folder to scan and starts its first scan.
#[server(prefix = "/api/v1", endpoint = "workspaces/add", input = Json, output = Json)]
pub async fn add_workspace(
    #[server(flatten)] request: AddWorkspaceRequest,
) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::add_workspace(&state, &caller, request).await?)
}

/// Lists workspaces with their scan state.
#[server(prefix = "/api/v1", endpoint = "workspaces/list", input = Json, output = Json)]
pub async fn list_workspaces(
    #[server(flatten)] page: PageRequest,
) -> Result<Page<WorkspaceInfo>, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::list_workspaces(&state, &caller, page).await?)
}

/// One workspace and its scan state (`idle`, `running`, `done`, `failed`).
#[server(prefix = "/api/v1", endpoint = "workspaces/get", input = Json, output = Json)]
pub async fn get_workspace(
    #[server(flatten)] request: IdRequest,
) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::get_workspace(&state, &caller, request.id).await?)
}

/// Starts a rescan (409 while one runs); progress arrives as `scan_progress` events.
#[server(prefix = "/api/v1", endpoint = "workspaces/scan", input = Json, output = Json)]
pub async fn scan_workspace(
    #[server(flatten)] request: IdRequest,
) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::start_scan(&state, &caller, request.id).await?)
}

/// Removes a workspace from the catalog (never touches files).
#[server(prefix = "/api/v1", endpoint = "workspaces/remove", input = Json, output = Json)]
pub async fn remove_workspace(#[server(flatten)] request: IdRequest) -> Result<(), AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::remove_workspace(&state, &caller, request.id).await?)
}

/// Lists projects by name, filtered by search words, stack and workspace.
#[server(prefix = "/api/v1", endpoint = "projects/list", input = Json, output = Json)]
pub async fn list_projects(
    #[server(flatten)] query: ProjectQuery,
) -> Result<Page<ProjectInfo>, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::list_projects(&state, &caller, query).await?)
}

/// One project with everything detected about it.
#[server(prefix = "/api/v1", endpoint = "projects/get", input = Json, output = Json)]
pub async fn get_project(#[server(flatten)] request: IdRequest) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::get_project(&state, &caller, request.id).await?)
}

/// Edits a project: name, description, tags, owner, lifecycle, command overrides.
#[server(prefix = "/api/v1", endpoint = "projects/update", input = Json, output = Json)]
pub async fn update_project(
    #[server(flatten)] request: UpdateProjectRequest,
) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::update_project(&state, &caller, request).await?)
}

/// Marks or unmarks a favorite.
#[server(prefix = "/api/v1", endpoint = "projects/favorite", input = Json, output = Json)]
pub async fn favorite_project(
    #[server(flatten)] request: ProjectFlagRequest,
) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::set_favorite(&state, &caller, request).await?)
}

/// Archives (`value: true`) or unarchives a project.
#[server(prefix = "/api/v1", endpoint = "projects/archive", input = Json, output = Json)]
pub async fn archive_project(
    #[server(flatten)] request: ProjectFlagRequest,
) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::set_archived(&state, &caller, request).await?)
}

/// Removes a catalog entry; the folder on disk is never touched.
#[server(prefix = "/api/v1", endpoint = "projects/delete", input = Json, output = Json)]
pub async fn delete_project(#[server(flatten)] request: IdRequest) -> Result<(), AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::delete_project(&state, &caller, request.id).await?)
}

/// Adds one folder as a project, outside any workspace.
#[server(prefix = "/api/v1", endpoint = "projects/create", input = Json, output = Json)]
pub async fn create_project(
    #[server(flatten)] request: CreateProjectRequest,
) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::create_project(&state, &caller, request).await?)
}

/// Counts per stack, tag and state for the filter sidebar.
#[server(prefix = "/api/v1", endpoint = "projects/facets", input = Json, output = Json)]
pub async fn count_project_facets(
    #[server(flatten)] query: ProjectQuery,
) -> Result<ProjectFacets, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::project_facets(&state, &caller, query).await?)
}

/// Writes the project's facts to a new `optimus.toml` in its folder (409 if one exists).
#[server(prefix = "/api/v1", endpoint = "projects/write_descriptor", input = Json, output = Json)]
pub async fn write_descriptor(
    #[server(flatten)] request: IdRequest,
) -> Result<DescriptorWritten, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::write_descriptor(&state, &caller, request.id).await?)
}

/// Imports projects from a JSON export (`GET /api/v1/projects/export?format=json`).
#[server(prefix = "/api/v1", endpoint = "projects/import", input = Json, output = Json)]
pub async fn import_projects(
    #[server(flatten)] request: ImportRequest,
) -> Result<ImportReport, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::import_projects(&state, &caller, request).await?)
}

/// A project's activity timeline, newest first.
#[server(prefix = "/api/v1", endpoint = "projects/activity", input = Json, output = Json)]
pub async fn project_activity(
    #[server(flatten)] query: ActivityQuery,
) -> Result<Page<ActivityEntry>, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::project_activity(&state, &caller, query).await?)
}

/// What a project depends on, and what depends on it.
#[server(prefix = "/api/v1", endpoint = "projects/dependencies", input = Json, output = Json)]
pub async fn get_dependencies(
    #[server(flatten)] request: IdRequest,
) -> Result<ProjectDependencies, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::dependencies(&state, &caller, request.id).await?)
}

/// Replaces what a project depends on (no self-dependency, no cycles).
#[server(prefix = "/api/v1", endpoint = "projects/set_dependencies", input = Json, output = Json)]
pub async fn set_dependencies(
    #[server(flatten)] request: SetDependenciesRequest,
) -> Result<ProjectDependencies, AppError> {
    use crate::server::{api_caller, catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::set_dependencies(&state, &caller, request).await?)
}
