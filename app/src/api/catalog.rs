//! `/api/v1/workspaces/*` and `/api/v1/projects/*`: the project catalog.

use crate::models::catalog::{
    ActivityEntry, ActivityQuery, AddWorkspaceRequest, CreateProjectRequest, DescriptorWritten,
    ImportReport, ImportRequest, ProjectDependencies, ProjectFacets, ProjectFlagRequest,
    ProjectInfo, ProjectQuery, SetDependenciesRequest, UpdateProjectRequest, WorkspaceInfo,
};
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::IdRequest;

endpoint! {
    /// Add a folder to scan and start its first scan
    "workspaces/add", requires ManageWorkspaces, |state, caller|
    pub async fn add_workspace(request: AddWorkspaceRequest) -> WorkspaceInfo {
        use crate::server::catalog;
        Ok(catalog::add_workspace(&state, &caller, request).await?)
    }
}

endpoint! {
    /// List workspaces with their scan state
    "workspaces/list", requires ReadCatalog, |state, caller|
    pub async fn list_workspaces(page: PageRequest) -> Page<WorkspaceInfo> {
        use crate::server::catalog;
        Ok(catalog::list_workspaces(&state, &caller, page).await?)
    }
}

endpoint! {
    /// One workspace and its scan state
    ///
    /// One workspace and its scan state (`idle`, `running`, `done`, `failed`).
    "workspaces/get", requires ReadCatalog, |state, caller|
    pub async fn get_workspace(request: IdRequest) -> WorkspaceInfo {
        use crate::server::catalog;
        Ok(catalog::get_workspace(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Start a rescan (409 while one runs)
    ///
    /// Starts a rescan (409 while one runs); progress arrives as `scan_progress` events.
    "workspaces/scan", requires ManageWorkspaces, |state, caller|
    pub async fn scan_workspace(request: IdRequest) -> WorkspaceInfo {
        use crate::server::catalog;
        Ok(catalog::start_scan(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Remove a workspace from the catalog (files are never touched)
    ///
    /// Removes a workspace from the catalog (never touches files).
    "workspaces/remove", requires ManageWorkspaces, |state, caller|
    pub async fn remove_workspace(request: IdRequest) -> () {
        use crate::server::catalog;
        Ok(catalog::remove_workspace(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// List projects by name, filtered by search, stack and workspace
    "projects/list", requires ReadCatalog, |state, caller|
    pub async fn list_projects(query: ProjectQuery) -> Page<ProjectInfo> {
        use crate::server::catalog;
        Ok(catalog::list_projects(&state, &caller, query).await?)
    }
}

endpoint! {
    /// One project with its detected facts
    ///
    /// One project with everything detected about it.
    "projects/get", requires ReadCatalog, |state, caller|
    pub async fn get_project(request: IdRequest) -> ProjectInfo {
        use crate::server::catalog;
        Ok(catalog::get_project(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Edit name, description, tags, owner, lifecycle, command overrides
    "projects/update", requires EditProjects, |state, caller|
    pub async fn update_project(request: UpdateProjectRequest) -> ProjectInfo {
        use crate::server::catalog;
        Ok(catalog::update_project(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Mark or unmark a favorite
    "projects/favorite", requires EditProjects, |state, caller|
    pub async fn favorite_project(request: ProjectFlagRequest) -> ProjectInfo {
        use crate::server::catalog;
        Ok(catalog::set_favorite(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Archive or unarchive a project
    ///
    /// Archives (`value: true`) or unarchives a project.
    "projects/archive", requires EditProjects, |state, caller|
    pub async fn archive_project(request: ProjectFlagRequest) -> ProjectInfo {
        use crate::server::catalog;
        Ok(catalog::set_archived(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a catalog entry (files are never touched)
    ///
    /// Removes a catalog entry; the folder on disk is never touched.
    "projects/delete", requires EditProjects, |state, caller|
    pub async fn delete_project(request: IdRequest) -> () {
        use crate::server::catalog;
        Ok(catalog::delete_project(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Add one folder as a project
    ///
    /// Adds one folder as a project, outside any workspace.
    "projects/create", requires EditProjects, |state, caller|
    pub async fn create_project(request: CreateProjectRequest) -> ProjectInfo {
        use crate::server::catalog;
        Ok(catalog::create_project(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Counts per stack, tag and state for the filter sidebar
    "projects/facets", requires ReadCatalog, |state, caller|
    pub async fn count_project_facets(query: ProjectQuery) -> ProjectFacets {
        use crate::server::catalog;
        Ok(catalog::project_facets(&state, &caller, query).await?)
    }
}

endpoint! {
    /// Write the project's facts to a new optimus.toml (never overwrites)
    ///
    /// Writes the project's facts to a new `optimus.toml` in its folder (409 if one exists).
    "projects/write_descriptor", requires EditProjects, |state, caller|
    pub async fn write_descriptor(request: IdRequest) -> DescriptorWritten {
        use crate::server::catalog;
        Ok(catalog::write_descriptor(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Import projects from a JSON export (existing folders only)
    ///
    /// Imports projects from a JSON export (`GET /api/v1/projects/export?format=json`).
    "projects/import", requires EditProjects, |state, caller|
    pub async fn import_projects(request: ImportRequest) -> ImportReport {
        use crate::server::catalog;
        Ok(catalog::import_projects(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A project's activity timeline, newest first
    "projects/activity", requires ReadCatalog, |state, caller|
    pub async fn project_activity(query: ActivityQuery) -> Page<ActivityEntry> {
        use crate::server::catalog;
        Ok(catalog::project_activity(&state, &caller, query).await?)
    }
}

endpoint! {
    /// What a project depends on, and what depends on it
    "projects/dependencies", requires ReadCatalog, |state, caller|
    pub async fn get_dependencies(request: IdRequest) -> ProjectDependencies {
        use crate::server::catalog;
        Ok(catalog::dependencies(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Replace what a project depends on (no cycles)
    ///
    /// Replaces what a project depends on (no self-dependency, no cycles).
    "projects/set_dependencies", requires EditProjects, |state, caller|
    pub async fn set_dependencies(request: SetDependenciesRequest) -> ProjectDependencies {
        use crate::server::catalog;
        Ok(catalog::set_dependencies(&state, &caller, request).await?)
    }
}
