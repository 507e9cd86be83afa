//! `/api/v1/workspaces/*` and `/api/v1/projects/*`: the project catalog.

use crate::error::AppError;
use crate::models::catalog::{AddWorkspaceRequest, ProjectInfo, ProjectQuery, WorkspaceInfo};
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::IdRequest;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Adds a folder to scan and starts its first scan.
#[server(prefix = "/api/v1", endpoint = "workspaces/add", input = Json, output = Json)]
pub async fn add_workspace(#[server(flatten)] request: AddWorkspaceRequest) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::add_workspace(&state, &caller, request).await?)
}

/// Lists workspaces with their scan state.
#[server(prefix = "/api/v1", endpoint = "workspaces/list", input = Json, output = Json)]
pub async fn list_workspaces(#[server(flatten)] page: PageRequest) -> Result<Page<WorkspaceInfo>, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::list_workspaces(&state, &caller, page).await?)
}

/// One workspace and its scan state (`idle`, `running`, `done`, `failed`).
#[server(prefix = "/api/v1", endpoint = "workspaces/get", input = Json, output = Json)]
pub async fn get_workspace(#[server(flatten)] request: IdRequest) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::get_workspace(&state, &caller, request.id).await?)
}

/// Starts a rescan (409 while one runs); progress arrives as `scan_progress` events.
#[server(prefix = "/api/v1", endpoint = "workspaces/scan", input = Json, output = Json)]
pub async fn scan_workspace(#[server(flatten)] request: IdRequest) -> Result<WorkspaceInfo, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::start_scan(&state, &caller, request.id).await?)
}

/// Removes a workspace from the catalog (never touches files).
#[server(prefix = "/api/v1", endpoint = "workspaces/remove", input = Json, output = Json)]
pub async fn remove_workspace(#[server(flatten)] request: IdRequest) -> Result<(), AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::remove_workspace(&state, &caller, request.id).await?)
}

/// Lists projects by name, filtered by search words, stack and workspace.
#[server(prefix = "/api/v1", endpoint = "projects/list", input = Json, output = Json)]
pub async fn list_projects(#[server(flatten)] query: ProjectQuery) -> Result<Page<ProjectInfo>, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::list_projects(&state, &caller, query).await?)
}

/// One project with everything detected about it.
#[server(prefix = "/api/v1", endpoint = "projects/get", input = Json, output = Json)]
pub async fn get_project(#[server(flatten)] request: IdRequest) -> Result<ProjectInfo, AppError> {
    use crate::server::{api_caller, services::catalog};
    let (state, _, caller) = api_caller().await?;
    Ok(catalog::get_project(&state, &caller, request.id).await?)
}
