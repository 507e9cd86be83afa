//! The catalog: workspaces and their scans, projects (detected facts, curation, filters,
//! export and import), dependencies between projects, and each project's activity timeline.
//!
//! Finding projects on disk ([`scan`], [`detect`], [`git`], [`descriptor`]) reads files and never
//! writes or deletes them; the one exception is [`write_descriptor`], which creates a new
//! `optimus.toml` and never overwrites one. The functions re-exported below are the feature's
//! public API; [`repo`] alone touches its tables.

pub mod activity;
pub mod adding;
pub mod curation;
pub mod dependencies;
pub mod descriptor;
pub mod detect;
pub mod entities;
pub mod export;
pub mod git;
pub mod pages;
pub mod projects;
pub mod repo;
pub mod scan;
pub mod workspaces;

pub use activity::{count_since as activity_since, project_activity, record as record_activity};
pub use adding::{create_project, import_projects, write_descriptor};
pub use curation::{delete_project, parse_tag, set_archived, set_favorite, update_project};
pub use dependencies::{creates_cycle, dependencies, set_dependencies};
pub use entities::project::Model as Project;
pub use export::{export_projects, projects_csv};
pub use pages::ProjectPages;
pub use projects::{filter_from, get_project, list_projects, project_facets, sort_from};
pub use workspaces::{
    add_workspace, check_workspace_path, get_workspace, list_workspaces, remove_workspace,
    run_scan, start_scan,
};

use crate::models::catalog::ProjectInfo;
use crate::server::instances::{Instance, Judge, Reach, Verdict};
use crate::server::stored::Undecodable;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

/// The project as the API shows it, or an error naming the stored column that cannot be read.
pub fn project_info(p: &Project) -> Result<ProjectInfo, Undecodable> {
    ProjectInfo::try_from(p.clone())
}

/// The cataloged project with this id.
pub async fn find_project(db: &impl ConnectionTrait, id: i64) -> Result<Option<Project>, DbErr> {
    repo::projects::find(db, id).await
}

/// The names of the projects with these ids (those that exist), in one query.
pub async fn project_names(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    repo::projects::names(db, ids).await
}

/// The projects `id` depends on.
pub async fn dependencies_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>, DbErr> {
    repo::dependencies::of(db, id).await
}

/// The projects that depend on `id`.
pub async fn dependents_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>, DbErr> {
    repo::dependencies::dependents(db, id).await
}

/// Scans left running by an instance that is gone (a crash or a restart; on another host, one
/// whose heartbeat stopped) are marked failed, so they can run again. Scans of instances still
/// running are left alone. Returns how many were marked.
pub async fn fail_interrupted_scans(db: &DatabaseConnection, me: &Instance) -> Result<u64, DbErr> {
    let mut judge = Judge::new(db, me, Reach::AnyHost);
    let mut failed = 0;
    for (id, owner) in repo::workspaces::running_scans(db).await? {
        if judge.owner(owner.as_deref()).await? == Verdict::Gone
            && repo::workspaces::fail_interrupted(db, id, owner.as_deref()).await?
        {
            failed += 1;
        }
    }
    Ok(failed)
}
