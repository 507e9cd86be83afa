//! A project's pipeline definitions: listed in step with its `optimus.toml`, read, added,
//! changed and removed. A pipeline declared in the file is kept as the file says (origin
//! `descriptor`) until someone edits it in Optimus (origin `user`); from then on the file no
//! longer changes it, as with services.

use super::definitions::check_definition;
use super::entities::pipeline;
use super::repo;
use crate::error::AppError;
use crate::models::pipelines::{
    CreatePipelineRequest, PipelineDefinition, PipelineInfo, UpdatePipelineRequest,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::{self, Project};
use crate::server::error::ServerResult;
use crate::server::AppState;
use chrono::Utc;
use std::path::PathBuf;

/// From the project's `optimus.toml`.
pub const DESCRIPTOR: &str = "descriptor";
/// Made or edited in Optimus.
pub const USER: &str = "user";

pub(super) async fn project_of(state: &AppState, id: i64) -> ServerResult<Project> {
    Ok(catalog::find_project(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

pub(super) async fn pipeline_of(state: &AppState, id: i64) -> ServerResult<pipeline::Model> {
    Ok(repo::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("pipeline"))?)
}

fn info(m: pipeline::Model) -> ServerResult<PipelineInfo> {
    let definition = repo::definition(&m)?;
    Ok(PipelineInfo {
        id: m.id,
        name: m.name,
        project_id: m.project_id,
        origin: m.origin,
        definition,
    })
}

/// The pipelines `optimus.toml` declares that pass the checks; a missing or unreadable file
/// declares none (the catalog shows the file's problem on the project).
async fn declared(project: &Project) -> Vec<PipelineDefinition> {
    let dir = PathBuf::from(&project.path);
    let read = tokio::task::spawn_blocking(move || catalog::descriptor::read(&dir)).await;
    let Ok(Some(Ok(file))) = read else {
        return Vec::new();
    };
    file.pipelines
        .into_iter()
        .filter(|p| match check_definition(p) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(project = project.id, pipeline = %p.name, error = %e, "a pipeline in optimus.toml is not taken");
                false
            }
        })
        .collect()
}

/// Brings the project's `descriptor` pipelines in step with its `optimus.toml`: new ones are
/// added, changed ones replaced, removed ones dropped. Pipelines edited in Optimus are left
/// alone. Safe to run from several instances at once (the database keeps one per name).
async fn sync_declared(state: &AppState, project: &Project) -> ServerResult<()> {
    let file = declared(project).await;
    let rows = repo::of_project(&state.db, project.id).await?;
    let now = Utc::now();
    for def in &file {
        match rows.iter().find(|r| r.name == def.name) {
            None => repo::insert_declared(&state.db, project.id, def, now).await?,
            Some(r) if r.origin == DESCRIPTOR && repo::definition(r).ok().as_ref() != Some(def) => {
                repo::update_definition(&state.db, r.id, DESCRIPTOR, def, now).await?;
            }
            Some(_) => {}
        }
    }
    for r in rows
        .iter()
        .filter(|r| r.origin == DESCRIPTOR && !file.iter().any(|d| d.name == r.name))
    {
        repo::delete(&state.db, r.id).await?;
    }
    Ok(())
}

/// A project's pipelines, in step with its `optimus.toml`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<PipelineInfo>> {
    caller.authorize(Operation::ReadPipelines)?;
    let project = project_of(state, project_id).await?;
    sync_declared(state, &project).await?;
    repo::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .map(info)
        .collect()
}

/// One pipeline.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<PipelineInfo> {
    caller.authorize(Operation::ReadPipelines)?;
    info(pipeline_of(state, id).await?)
}

/// Checks a definition as sent in a request's `definition` field: the error names the field from
/// the request's root (`definition.steps[1].cwd`), as the request's schema check does.
fn check_sent(def: &PipelineDefinition) -> Result<(), AppError> {
    check_definition(def).map_err(|e| match e {
        AppError::Validation { field, message } => AppError::Validation {
            field: format!("definition.{field}"),
            message,
        },
        AppError::Unprocessable { field, message } => AppError::Unprocessable {
            field: format!("definition.{field}"),
            message,
        },
        other => other,
    })
}

fn name_taken(name: &str) -> AppError {
    AppError::conflict(format!("the project already has a pipeline named `{name}`"))
}

/// Adds a pipeline to a project.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreatePipelineRequest,
) -> ServerResult<PipelineInfo> {
    caller.authorize(Operation::EditPipelines)?;
    check_sent(&req.definition)?;
    let project = project_of(state, req.project_id).await?;
    sync_declared(state, &project).await?;
    let siblings = repo::of_project(&state.db, project.id).await?;
    if siblings.iter().any(|s| s.name == req.definition.name) {
        return Err(name_taken(&req.definition.name).into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let m = repo::insert(&txn, project.id, USER, &req.definition, Utc::now())
        .await
        .map_err(|e| match e.sql_err() {
            // Another request added the same name since the check above.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                crate::server::error::ServerError::App(name_taken(&req.definition.name))
            }
            _ => e.into(),
        })?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "pipelines.create",
        &format!("pipeline:{}:{}", project.path, m.name),
    )
    .await?;
    info(m)
}

/// Replaces a pipeline's definition; it is the user's from then on (the file no longer changes
/// it). Runs already started keep the definition they started with.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: UpdatePipelineRequest,
) -> ServerResult<PipelineInfo> {
    caller.authorize(Operation::EditPipelines)?;
    check_sent(&req.definition)?;
    let m = pipeline_of(state, req.id).await?;
    let siblings = repo::of_project(&state.db, m.project_id).await?;
    if siblings
        .iter()
        .any(|s| s.id != m.id && s.name == req.definition.name)
    {
        return Err(name_taken(&req.definition.name).into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    repo::update_definition(&txn, m.id, USER, &req.definition, Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "pipelines.update",
        &format!("pipeline:{}:{}", m.id, req.definition.name),
    )
    .await?;
    get(state, caller, m.id).await
}

/// Removes a pipeline. One still declared in `optimus.toml` comes back on the next listing,
/// as the file says.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditPipelines)?;
    let m = pipeline_of(state, id).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    repo::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "pipelines.delete",
        &format!("pipeline:{id}:{}", m.name),
    )
    .await?;
    Ok(())
}
