//! What callers ask of deployments: deploy (a new release, or a kept one), roll back, read
//! deployments and releases, pin, compare. Deployments are queued here and run by the worker
//! ([`super::worker`]) on whichever instance claims them, one at a time per project.

use super::entities::{deployment, release};
use super::{releases, repo, Serving};
use crate::error::AppError;
use crate::models::council::DeliberateRequest;
use crate::models::deployments::{
    CouncilVerdict, DeployRequest, DeployStep, DeploymentInfo, DeploymentStatus, PinReleaseRequest,
    ReleaseDiff, ReleaseDiffRequest, ReleaseInfo, RollbackRequest,
};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::{self, Project};
use crate::server::error::ServerResult;
use crate::server::AppState;
use chrono::Utc;
use sea_orm::Set;

/// Deployments listed per project.
const LISTED: u64 = 200;

async fn project_of(state: &AppState, id: i64) -> ServerResult<Project> {
    Ok(catalog::find_project(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

/// Deploys a project: a new release of its folder (or of a pipeline run's artifacts), or the
/// kept release `release`. Queued at once; it runs after the project's deployment before it.
pub async fn deploy(
    state: &AppState,
    caller: &Caller,
    req: DeployRequest,
) -> ServerResult<DeploymentInfo> {
    caller.authorize(Operation::Deploy)?;
    if req.council {
        // Asked before anything is made: a caller who may not deliberate changes nothing.
        caller.authorize(Operation::Deliberate)?;
    }
    let project = project_of(state, req.project_id).await?;
    if req.release.is_some() && req.pipeline_run_id.is_some() {
        return Err(AppError::unprocessable(
            "release",
            "deploy a kept release or a pipeline run's artifacts, not both",
        )
        .into());
    }
    let release = match req.release {
        Some(n) => kept_release(state, project.id, n, "release").await?,
        None => {
            releases::make(
                state,
                &project,
                Some(caller.username.clone()),
                req.pipeline_run_id,
            )
            .await?
        }
    };
    let verdict = match req.council {
        true => Some(ask_council(state, caller, &project, &release).await?),
        false => None,
    };
    let strategy = req.strategy.map(|s| s.as_str()).unwrap_or("auto");
    queue(
        state,
        caller,
        &project,
        &release,
        ("deploy", strategy, None),
        verdict,
    )
    .await
}

/// Asks the Council of Minds whether to deploy `release` now (the caller's own question, so it
/// needs their `Deliberate` right); its verdict.
async fn ask_council(
    state: &AppState,
    caller: &Caller,
    project: &Project,
    release: &release::Model,
) -> ServerResult<CouncilVerdict> {
    let mut facts = std::collections::BTreeMap::new();
    facts.insert("release".to_owned(), serde_json::json!(release.number));
    facts.insert("release_files".to_owned(), serde_json::json!(release.files));
    if let Some(c) = &release.commit {
        facts.insert(
            "commit".to_owned(),
            serde_json::json!(c.get(..12).unwrap_or(c)),
        );
    }
    let asked = crate::server::council::deliberate(
        state,
        caller,
        DeliberateRequest {
            question: format!(
                "Should release {} of {} be deployed now?",
                release.number, project.name
            ),
            project_id: Some(project.id),
            facts,
            ..Default::default()
        },
    )
    .await?;
    let (option, confidence) = asked
        .consensus
        .map(|c| (c.option, c.confidence))
        .unwrap_or((None, 0.0));
    Ok(CouncilVerdict {
        deliberation_id: asked.id,
        option,
        confidence,
        outcome: None,
    })
}

/// Rolls a project back to kept release `release` (default: the one before the current one):
/// a deployment like any other, of files already there (no rebuild), recorded with what it
/// rolled back from.
pub async fn rollback(
    state: &AppState,
    caller: &Caller,
    req: RollbackRequest,
) -> ServerResult<DeploymentInfo> {
    caller.authorize(Operation::Deploy)?;
    let project = project_of(state, req.project_id).await?;
    let current = repo::deployments::current(&state.db, project.id).await?;
    let number = match (req.release, &current) {
        (Some(n), _) => n,
        (None, Some(c)) => {
            let previous = match c.previous_release_id {
                Some(id) => repo::releases::find(&state.db, id).await?,
                None => None,
            };
            previous
                .map(|r| r.number)
                .ok_or_else(|| AppError::conflict("there is no release before the current one"))?
        }
        (None, None) => {
            return Err(AppError::conflict("the project has no deployment to roll back").into())
        }
    };
    let release = kept_release(state, project.id, number, "release").await?;
    if current.as_ref().is_some_and(|c| c.release_id == release.id) {
        return Err(
            AppError::conflict(format!("release {number} is already the current one")).into(),
        );
    }
    let from = current.map(|c| c.id);
    queue(
        state,
        caller,
        &project,
        &release,
        ("rollback", "auto", from),
        None,
    )
    .await
}

async fn kept_release(
    state: &AppState,
    project_id: i64,
    number: i64,
    field: &str,
) -> ServerResult<release::Model> {
    let r = repo::releases::by_number(&state.db, project_id, number)
        .await?
        .ok_or_else(|| AppError::not_found(format!("release {number}")))?;
    if r.pruned_at.is_some() {
        return Err(AppError::unprocessable(
            field,
            format!("release {number} was pruned (its files are gone); pin releases to keep them"),
        )
        .into());
    }
    Ok(r)
}

/// Queues a deployment of `release`: (kind, strategy, the deployment it rolls back). With a
/// council verdict of `defer` or `reject` it is recorded as failed instead, and nothing starts.
async fn queue(
    state: &AppState,
    caller: &Caller,
    project: &Project,
    release: &release::Model,
    (kind, strategy, rollback_of): (&str, &str, Option<i64>),
    verdict: Option<CouncilVerdict>,
) -> ServerResult<DeploymentInfo> {
    let now = Utc::now();
    let mut row = repo::deployments::queued_row(
        project.id,
        (release.id, release.number),
        kind,
        strategy,
        Some(caller.username.clone()),
        rollback_of,
        now,
    );
    let advised = verdict
        .as_ref()
        .and_then(|v| v.option.clone())
        .filter(|o| o == "defer" || o == "reject");
    if let Some(v) = &verdict {
        row.council = Set(serde_json::to_string(v).ok());
    }
    if let (Some(option), Some(v)) = (&advised, &verdict) {
        row.status = Set(DeploymentStatus::Failed.as_str().into());
        row.reason = Set(Some(format!(
            "the council advised `{option}` (confidence {:.2}, deliberation #{}); nothing was started",
            v.confidence, v.deliberation_id
        )));
        row.started_at = Set(Some(now));
        row.finished_at = Set(Some(now));
    }
    let d = repo::deployments::insert(&state.db, row).await?;
    audit::record(
        state,
        caller.into(),
        &format!("deployments.{kind}"),
        &format!("project:{}:release:{}", project.id, release.number),
        "ok",
    )
    .await?;
    let status = DeploymentStatus::parse(&d.status).unwrap_or(DeploymentStatus::Queued);
    state
        .bus
        .publish(Event::DeploymentChanged {
            deployment_id: d.id,
            project_id: d.project_id,
            release: d.release_number,
            status,
            step: None,
        })
        .await;
    super::worker::wake(state);
    info(state, d).await
}

/// Records an automatic rollback as its own entry: release `previous` serves again, through
/// the instances that served before `of`.
pub(super) async fn record_automatic_rollback(
    state: &AppState,
    of: &deployment::Model,
    previous: i64,
    serving: &[Serving],
    reason: &str,
) {
    let Ok(Some(r)) = repo::releases::find(&state.db, previous).await else {
        return;
    };
    let now = Utc::now();
    let mut row = repo::deployments::queued_row(
        of.project_id,
        (r.id, r.number),
        "rollback",
        &of.strategy,
        None,
        Some(of.id),
        now,
    );
    let step = DeployStep {
        name: "switch back (automatic)".into(),
        status: "done".into(),
        detail: Some(reason.to_owned()),
        started_at: Some(now.to_rfc3339()),
        finished_at: Some(now.to_rfc3339()),
    };
    row.status = Set(DeploymentStatus::Succeeded.as_str().into());
    row.reason = Set(Some(format!("automatic rollback: {reason}")));
    row.previous_release_id = Set(Some(of.release_id));
    row.steps = Set(serde_json::to_string(&[step]).unwrap_or_else(|_| "[]".into()));
    row.slots = Set(serde_json::to_string(serving).unwrap_or_else(|_| "[]".into()));
    row.started_at = Set(Some(now));
    row.finished_at = Set(Some(now));
    match repo::deployments::insert(&state.db, row).await {
        Ok(d) => {
            let _ = audit::record(
                state,
                audit::Actor::default(),
                "deployments.auto_rollback",
                &format!("project:{}:release:{}", of.project_id, r.number),
                "ok",
            )
            .await;
            state
                .bus
                .publish(Event::DeploymentChanged {
                    deployment_id: d.id,
                    project_id: d.project_id,
                    release: d.release_number,
                    status: DeploymentStatus::Succeeded,
                    step: None,
                })
                .await;
        }
        Err(e) => {
            tracing::error!(deployment.id = of.id, error = %e, "could not record an automatic rollback")
        }
    }
}

/// One deployment.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeploymentInfo> {
    caller.authorize(Operation::ReadDeployments)?;
    let d = repo::deployments::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("deployment {id}")))?;
    info(state, d).await
}

/// A project's deployments, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<DeploymentInfo>> {
    caller.authorize(Operation::ReadDeployments)?;
    project_of(state, project_id).await?;
    let rows = repo::deployments::of_project(&state.db, project_id, LISTED).await?;
    infos(state, rows).await
}

/// The latest deployments of every project, newest first.
pub async fn recent(
    state: &AppState,
    caller: &Caller,
    limit: Option<i64>,
) -> ServerResult<Vec<DeploymentInfo>> {
    caller.authorize(Operation::ReadDeployments)?;
    let limit = u64::try_from(limit.unwrap_or(50).clamp(1, 200)).unwrap_or(50);
    let rows = repo::deployments::recent(&state.db, limit).await?;
    infos(state, rows).await
}

/// A project's releases, newest first.
pub async fn list_releases(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ReleaseInfo>> {
    caller.authorize(Operation::ReadDeployments)?;
    project_of(state, project_id).await?;
    let current = repo::deployments::current(&state.db, project_id)
        .await?
        .map(|d| d.release_id);
    Ok(repo::releases::of_project(&state.db, project_id)
        .await?
        .iter()
        .map(|r| releases::info(r, current))
        .collect())
}

/// Pins a release (kept whatever the retention) or unpins it.
pub async fn pin(
    state: &AppState,
    caller: &Caller,
    req: PinReleaseRequest,
) -> ServerResult<ReleaseInfo> {
    caller.authorize(Operation::Deploy)?;
    project_of(state, req.project_id).await?;
    let r = repo::releases::by_number(&state.db, req.project_id, req.release)
        .await?
        .ok_or_else(|| AppError::not_found(format!("release {}", req.release)))?;
    if r.pruned_at.is_some() && req.pinned {
        return Err(AppError::unprocessable(
            "release",
            format!(
                "release {} was pruned; its files cannot come back",
                r.number
            ),
        )
        .into());
    }
    repo::releases::set_pinned(&state.db, r.id, req.pinned).await?;
    audit::record(
        state,
        caller.into(),
        if req.pinned {
            "deployments.pin"
        } else {
            "deployments.unpin"
        },
        &format!("project:{}:release:{}", r.project_id, r.number),
        "ok",
    )
    .await?;
    if !req.pinned {
        releases::prune(state, r.project_id).await?;
    }
    let current = repo::deployments::current(&state.db, r.project_id)
        .await?
        .map(|d| d.release_id);
    let r = repo::releases::find(&state.db, r.id)
        .await?
        .ok_or_else(|| AppError::not_found("release"))?;
    Ok(releases::info(&r, current))
}

/// What changed between two releases.
pub async fn diff(
    state: &AppState,
    caller: &Caller,
    req: ReleaseDiffRequest,
) -> ServerResult<ReleaseDiff> {
    caller.authorize(Operation::ReadDeployments)?;
    let project = project_of(state, req.project_id).await?;
    let find = |n: i64| async move {
        repo::releases::by_number(&state.db, req.project_id, n)
            .await?
            .ok_or_else(|| {
                crate::server::error::ServerError::from(AppError::not_found(format!("release {n}")))
            })
    };
    let (a, b) = (find(req.from).await?, find(req.to).await?);
    releases::diff(&project, &a, &b)
}

async fn infos(
    state: &AppState,
    rows: Vec<deployment::Model>,
) -> ServerResult<Vec<DeploymentInfo>> {
    let mut out = Vec::with_capacity(rows.len());
    for d in rows {
        out.push(info(state, d).await?);
    }
    Ok(out)
}

/// The wire form of a deployment.
pub(super) async fn info(state: &AppState, d: deployment::Model) -> ServerResult<DeploymentInfo> {
    let previous = match d.previous_release_id {
        Some(id) => repo::releases::find(&state.db, id).await?.map(|r| r.number),
        None => None,
    };
    let project = catalog::find_project(&state.db, d.project_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(DeploymentInfo {
        id: d.id,
        project_id: d.project_id,
        project,
        release: d.release_number,
        kind: d.kind,
        strategy: d.strategy,
        status: DeploymentStatus::parse(&d.status).unwrap_or(DeploymentStatus::Failed),
        reason: d.reason,
        rollback_of: d.rollback_of,
        previous_release: previous,
        triggered_by: d.triggered_by,
        council: d
            .council
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
        steps: serde_json::from_str(&d.steps).unwrap_or_default(),
        created_at: d.created_at.to_rfc3339(),
        started_at: d.started_at.map(|t| t.to_rfc3339()),
        finished_at: d.finished_at.map(|t| t.to_rfc3339()),
        watch_until: d.watch_until.map(|t| t.to_rfc3339()),
    })
}
