//! Runs, as the API and the triggers see them: starting one (with its parameters checked and
//! the pipeline's concurrency policy applied), reading runs with their steps and artifacts,
//! cancelling, rerunning, deciding gates, and a step's log. The executor does the running.

use super::defining::pipeline_of;
use super::entities::{pipeline, pipeline_run, pipeline_step};
use super::executor::run_folder;
use super::{plan, repo};
use crate::error::AppError;
use crate::models::events::Event;
use crate::models::pipelines::{
    ArtifactInfo, Concurrency, DecideRequest, GateInfo, ParameterValue, PipelineDefinition,
    PipelineRunInfo, RerunRequest, RunPipelineRequest, RunState, RunsRequest, StepInfo, StepLog,
    StepLogLine, StepLogRequest, StepState, TestCounts, TriggerKind,
};
use crate::models::runtime::LogTrouble;
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::runtime::{logs, shim};
use crate::server::{stored, AppState};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What starts a run.
#[derive(Debug, Clone)]
pub struct Start<'a> {
    /// What kind of trigger.
    pub trigger: TriggerKind,
    /// Unique per pipeline: a second start with the same key starts nothing.
    pub key: String,
    /// The person, when one started it.
    pub by: Option<&'a str>,
    /// The branch and commit, when known.
    pub branch: Option<String>,
    /// The commit.
    pub commit: Option<String>,
    /// Parameter values, checked already.
    pub params: BTreeMap<String, ParameterValue>,
    /// The run this one runs again, with the steps it keeps as succeeded.
    pub rerun: Option<(i64, Vec<StepState>)>,
}

/// Why nothing was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStarted {
    /// The trigger key started a run already (here or on another instance).
    Duplicate(i64),
    /// Another run is active and the pipeline's concurrency is `skip`.
    Skipped,
}

fn duration_ms(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<u64> {
    let from = from?;
    let to = to.unwrap_or_else(Utc::now);
    u64::try_from((to - from).num_milliseconds()).ok()
}

fn decode_def(run: &pipeline_run::Model) -> ServerResult<PipelineDefinition> {
    Ok(stored::decode(
        "pipeline_runs",
        run.id,
        "definition",
        &run.definition,
    )?)
}

/// A run as the API shows it.
async fn info(state: &AppState, run: pipeline_run::Model) -> ServerResult<PipelineRunInfo> {
    let def = decode_def(&run)?;
    let params = stored::decode("pipeline_runs", run.id, "parameters", &run.parameters)?;
    let rows = repo::runs::steps(&state.db, run.id).await?;
    let artifacts = repo::artifacts::of_run(&state.db, run.id)
        .await?
        .into_iter()
        .map(|a| ArtifactInfo {
            step: a.step,
            path: a.path,
            size: u64::try_from(a.size).unwrap_or(0),
            sha256: a.sha256,
        })
        .collect();
    let steps = rows
        .iter()
        .enumerate()
        .map(|(i, row)| step_info(&def, i, row))
        .collect();
    Ok(PipelineRunInfo {
        id: run.id,
        pipeline_id: run.pipeline_id,
        pipeline: def.name.clone(),
        project_id: run.project_id,
        number: run.number,
        status: RunState::parse(&run.state).unwrap_or(RunState::Failed),
        trigger: TriggerKind::parse(&run.trigger).unwrap_or(TriggerKind::Manual),
        trigger_key: run.trigger_key,
        triggered_by: run.triggered_by,
        branch: run.branch,
        commit: run.commit,
        params,
        message: run.message,
        rerun_of: run.rerun_of,
        owner: run.owner,
        created_at: run.created_at,
        started_at: run.started_at,
        finished_at: run.finished_at,
        duration_ms: duration_ms(run.started_at, run.finished_at),
        steps,
        artifacts,
    })
}

fn step_info(def: &PipelineDefinition, i: usize, row: &pipeline_step::Model) -> StepInfo {
    let step = def.steps.get(i);
    let count = |v: Option<i32>| v.and_then(|n| u32::try_from(n).ok());
    let tests = match (row.tests_passed, row.tests_failed, row.tests_skipped) {
        (None, None, None) => None,
        (p, f, s) => Some(TestCounts {
            passed: count(p).unwrap_or(0),
            failed: count(f).unwrap_or(0),
            skipped: count(s).unwrap_or(0),
        }),
    };
    let gate = step.and_then(|s| s.approval.as_ref()).map(|a| GateInfo {
        min_role: a.min_role,
        not_triggerer: a.not_triggerer,
        prompt: a.prompt.clone(),
        expires_at: if row.state == StepState::Waiting.as_str() {
            plan::gate_expiry(def, i, row.started_at)
        } else {
            None
        },
        decided_by: row.decided_by.clone(),
        decided_at: row.decided_at,
        comment: row.comment.clone(),
    });
    let status = StepState::parse(&row.state).unwrap_or(StepState::Failed);
    StepInfo {
        name: row.name.clone(),
        status,
        depends_on: step.map(|s| s.depends_on.clone()).unwrap_or_default(),
        attempt: u32::try_from(row.attempt).unwrap_or(1),
        exit_code: row.exit_code,
        signal: row.signal,
        reason: row.reason.clone(),
        started_at: row.started_at,
        finished_at: row.finished_at,
        duration_ms: if status == StepState::Pending {
            None
        } else {
            duration_ms(row.started_at, row.finished_at)
        },
        tests,
        gate,
    }
}

async fn run_of(state: &AppState, id: i64) -> ServerResult<pipeline_run::Model> {
    Ok(repo::runs::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("pipeline run {id}")))?)
}

async fn announce(state: &AppState, run: &pipeline_run::Model, status: RunState) {
    state
        .bus
        .publish(Event::PipelineRunChanged {
            run_id: run.id,
            pipeline_id: run.pipeline_id,
            project_id: run.project_id,
            number: run.number,
            status,
            step: None,
            step_status: None,
        })
        .await;
}

/// Queues a run of `p` (its current definition) for `start`, applying the pipeline's
/// concurrency policy, and wakes the executors. Shared by every trigger.
pub async fn queue(
    state: &AppState,
    p: &pipeline::Model,
    def: &PipelineDefinition,
    start: Start<'_>,
) -> ServerResult<Result<pipeline_run::Model, NotStarted>> {
    if let Some(existing) = repo::runs::find_by_trigger(&state.db, p.id, &start.key).await? {
        return Ok(Err(NotStarted::Duplicate(existing.id)));
    }
    let active: Vec<pipeline_run::Model> = {
        let mut runs = repo::runs::active(&state.db, Some(p.id)).await?;
        runs.extend(
            repo::runs::queued(&state.db, 1000)
                .await?
                .into_iter()
                .filter(|r| r.pipeline_id == p.id),
        );
        runs
    };
    match def.concurrency {
        Concurrency::Skip if !active.is_empty() => return Ok(Err(NotStarted::Skipped)),
        Concurrency::Cancel => {
            for r in &active {
                let message = "cancelled: a newer run of the pipeline started";
                if repo::runs::cancel(&state.db, r.id, message, Utc::now())
                    .await?
                    .is_some()
                {
                    state.pipelines.poke(r.id);
                    announce(state, r, RunState::Cancelled).await;
                }
            }
        }
        _ => {}
    }
    let params = serde_json::to_string(&start.params).unwrap_or_else(|_| "{}".into());
    let definition = serde_json::to_string(def).unwrap_or_else(|_| "{}".into());
    let kept = start.rerun.as_ref().map(|(_, s)| s.clone());
    let steps: Vec<(String, StepState)> = def
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = kept
                .as_ref()
                .and_then(|k| k.get(i).copied())
                .unwrap_or(StepState::Pending);
            (s.name.clone(), st)
        })
        .collect();
    let new = repo::runs::NewRun {
        pipeline_id: p.id,
        project_id: p.project_id,
        trigger: start.trigger,
        trigger_key: &start.key,
        triggered_by: start.by,
        branch: start.branch.as_deref(),
        commit: start.commit.as_deref(),
        parameters: &params,
        definition: &definition,
        rerun_of: start.rerun.as_ref().map(|(id, _)| *id),
        steps: &steps,
    };
    let Some((run, _)) = repo::runs::insert(&state.db, &new, Utc::now()).await? else {
        let existing = repo::runs::find_by_trigger(&state.db, p.id, &start.key).await?;
        return Ok(Err(NotStarted::Duplicate(existing.map_or(0, |r| r.id))));
    };
    announce(state, &run, RunState::Queued).await;
    state.pipelines.wake();
    Ok(Ok(run))
}

/// Starts a run by hand.
pub async fn start(
    state: &AppState,
    caller: &Caller,
    req: RunPipelineRequest,
) -> ServerResult<PipelineRunInfo> {
    caller.authorize(Operation::RunPipelines)?;
    let p = pipeline_of(state, req.pipeline_id).await?;
    let def = repo::definition(&p)?;
    let params = crate::models::pipelines::resolve(&def.parameters, &req.params).map_err(|e| {
        let name = e.field.strip_prefix("parameters.").unwrap_or(&e.field);
        AppError::unprocessable(format!("params.{name}"), e.message)
    })?;
    let start = Start {
        trigger: TriggerKind::Manual,
        key: format!("manual:{}", uuid::Uuid::new_v4()),
        by: Some(&caller.username),
        branch: None,
        commit: None,
        params,
        rerun: None,
    };
    let run = match queue(state, &p, &def, start).await? {
        Ok(run) => run,
        Err(NotStarted::Skipped) => {
            return Err(AppError::conflict(format!(
                "pipeline `{}` has a run in progress and its concurrency is `skip`",
                def.name
            ))
            .into())
        }
        Err(NotStarted::Duplicate(id)) => run_of(state, id).await?,
    };
    audit::record(
        state,
        caller.into(),
        "pipelines.run",
        &format!("run:{}:{}#{}", run.id, def.name, run.number),
        "ok",
    )
    .await?;
    info(state, run).await
}

/// Queues an interrupted run again, once (the trigger key `requeue:<id>` decides).
pub async fn requeue(state: &AppState, run: &pipeline_run::Model) -> Result<(), sea_orm::DbErr> {
    let Some(p) = repo::find(&state.db, run.pipeline_id).await? else {
        return Ok(());
    };
    let Ok(def) = stored::decode::<PipelineDefinition>(
        "pipeline_runs",
        run.id,
        "definition",
        &run.definition,
    ) else {
        return Ok(());
    };
    let params =
        stored::decode("pipeline_runs", run.id, "parameters", &run.parameters).unwrap_or_default();
    let start = Start {
        trigger: TriggerKind::parse(&run.trigger).unwrap_or(TriggerKind::Manual),
        key: format!("requeue:{}", run.id),
        by: run.triggered_by.as_deref(),
        branch: run.branch.clone(),
        commit: run.commit.clone(),
        params,
        rerun: Some((run.id, vec![StepState::Pending; def.steps.len()])),
    };
    match queue(state, &p, &def, start).await {
        Ok(_) => Ok(()),
        Err(e) => Err(sea_orm::DbErr::Custom(e.to_string())),
    }
}

/// One run with its steps.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<PipelineRunInfo> {
    caller.authorize(Operation::ReadPipelines)?;
    info(state, run_of(state, id).await?).await
}

/// Runs, newest first: of a pipeline, of a project, or of every project.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: RunsRequest,
) -> ServerResult<Vec<PipelineRunInfo>> {
    caller.authorize(Operation::ReadPipelines)?;
    let limit = u64::from(req.limit.unwrap_or(50));
    if !(1..=200).contains(&limit) {
        return Err(AppError::validation("limit", "must be between 1 and 200").into());
    }
    let runs = match (req.pipeline_id, req.project_id) {
        (Some(p), _) => {
            pipeline_of(state, p).await?;
            repo::runs::of_pipeline(&state.db, p, limit).await?
        }
        (None, Some(project)) => {
            super::defining::project_of(state, project).await?;
            repo::runs::of_project(&state.db, project, limit).await?
        }
        (None, None) => repo::runs::latest(&state.db, limit).await?,
    };
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        out.push(info(state, r).await?);
    }
    Ok(out)
}

/// Cancels a run that is not over: its running steps' process trees are stopped by the instance
/// running it.
pub async fn cancel(state: &AppState, caller: &Caller, id: i64) -> ServerResult<PipelineRunInfo> {
    caller.authorize(Operation::RunPipelines)?;
    let run = run_of(state, id).await?;
    let message = format!("cancelled by {}", caller.username);
    match repo::runs::cancel(&state.db, id, &message, Utc::now()).await? {
        Some(_) => {
            state.pipelines.poke(id);
            announce(state, &run, RunState::Cancelled).await;
            audit::record(
                state,
                caller.into(),
                "pipelines.cancel",
                &format!("run:{id}"),
                "ok",
            )
            .await?;
        }
        None => {
            return Err(AppError::conflict(format!(
                "pipeline run {id} is over already ({})",
                run.state
            ))
            .into())
        }
    }
    get(state, caller, id).await
}

/// Runs a finished run again with the same definition and parameters: every step, or (with
/// `from_failed`) only what did not succeed.
pub async fn rerun(
    state: &AppState,
    caller: &Caller,
    req: RerunRequest,
) -> ServerResult<PipelineRunInfo> {
    caller.authorize(Operation::RunPipelines)?;
    let run = run_of(state, req.id).await?;
    if !RunState::parse(&run.state).is_some_and(RunState::is_final) {
        return Err(AppError::conflict(format!(
            "pipeline run {} is not over yet ({}); cancel it first",
            run.id, run.state
        ))
        .into());
    }
    let p = pipeline_of(state, run.pipeline_id).await?;
    let def = decode_def(&run)?;
    let params = stored::decode("pipeline_runs", run.id, "parameters", &run.parameters)?;
    let kept = if req.from_failed {
        let rows = repo::runs::steps(&state.db, run.id).await?;
        let states: Vec<StepState> = rows
            .iter()
            .map(|r| StepState::parse(&r.state).unwrap_or(StepState::Failed))
            .collect();
        plan::rerun_from_failed(&def.steps, &states)
    } else {
        vec![StepState::Pending; def.steps.len()]
    };
    let start = Start {
        trigger: TriggerKind::parse(&run.trigger).unwrap_or(TriggerKind::Manual),
        key: format!("rerun:{}", uuid::Uuid::new_v4()),
        by: Some(&caller.username),
        branch: run.branch.clone(),
        commit: run.commit.clone(),
        params,
        rerun: Some((run.id, kept)),
    };
    let new = match queue(state, &p, &def, start).await? {
        Ok(r) => r,
        Err(NotStarted::Skipped) => {
            return Err(AppError::conflict(format!(
                "pipeline `{}` has a run in progress and its concurrency is `skip`",
                def.name
            ))
            .into())
        }
        Err(NotStarted::Duplicate(id)) => run_of(state, id).await?,
    };
    audit::record(
        state,
        caller.into(),
        "pipelines.rerun",
        &format!("run:{}:from:{}", new.id, run.id),
        "ok",
    )
    .await?;
    info(state, new).await
}

/// Approves or rejects a waiting gate, when the caller may: the gate's minimum role, and not the
/// person who started the run when the gate says so.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    req: DecideRequest,
) -> ServerResult<PipelineRunInfo> {
    caller.authorize(Operation::DecideGates)?;
    if req.comment.chars().count() > 1000 {
        return Err(AppError::validation("comment", "must be at most 1000 characters").into());
    }
    let run = run_of(state, req.run_id).await?;
    let def = decode_def(&run)?;
    let Some(i) = def.steps.iter().position(|s| s.name == req.step) else {
        return Err(AppError::not_found(format!("step `{}` of run {}", req.step, run.id)).into());
    };
    let Some(gate) = def.steps[i].approval.as_ref() else {
        return Err(AppError::unprocessable(
            "step",
            format!("step `{}` is not an approval gate", req.step),
        )
        .into());
    };
    if caller.role < gate.min_role {
        return Err(AppError::forbidden(format!(
            "gate `{}` needs the {} role or higher to decide",
            req.step,
            gate.min_role.as_str()
        ))
        .into());
    }
    if gate.not_triggerer && run.triggered_by.as_deref() == Some(caller.username.as_str()) {
        return Err(AppError::forbidden(format!(
            "gate `{}` must be decided by someone other than who started the run",
            req.step
        ))
        .into());
    }
    let rows = repo::runs::steps(&state.db, run.id).await?;
    let Some(row) = rows.get(i) else {
        return Err(AppError::not_found(format!("step `{}` of run {}", req.step, run.id)).into());
    };
    let comment = (!req.comment.trim().is_empty()).then_some(req.comment.trim());
    if !repo::runs::decide(
        &state.db,
        row.id,
        req.approve,
        &caller.username,
        comment,
        Utc::now(),
    )
    .await?
    {
        return Err(AppError::conflict(format!(
            "gate `{}` is not waiting for a decision ({})",
            req.step, row.state
        ))
        .into());
    }
    state.pipelines.poke(run.id);
    state
        .bus
        .publish(Event::PipelineRunChanged {
            run_id: run.id,
            pipeline_id: run.pipeline_id,
            project_id: run.project_id,
            number: run.number,
            status: RunState::parse(&run.state).unwrap_or(RunState::Waiting),
            step: Some(req.step.clone()),
            step_status: Some(if req.approve {
                StepState::Succeeded
            } else {
                StepState::Failed
            }),
        })
        .await;
    audit::record(
        state,
        caller.into(),
        if req.approve {
            "pipelines.approve"
        } else {
            "pipelines.reject"
        },
        &format!("run:{}:{}", run.id, req.step),
        "ok",
    )
    .await?;
    get(state, caller, run.id).await
}

/// A step's log: every kept line of an attempt (the latest by default), or its last `tail`.
pub async fn step_log(
    state: &AppState,
    caller: &Caller,
    req: StepLogRequest,
) -> ServerResult<StepLog> {
    caller.authorize(Operation::ReadPipelines)?;
    if req.tail.is_some_and(|t| !(1..=100_000).contains(&t)) {
        return Err(AppError::validation("tail", "must be between 1 and 100000").into());
    }
    let run = run_of(state, req.run_id).await?;
    let rows = repo::runs::steps(&state.db, run.id).await?;
    let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.name == req.step) else {
        return Err(AppError::not_found(format!("step `{}` of run {}", req.step, run.id)).into());
    };
    let latest = u32::try_from(row.attempt).unwrap_or(1);
    let attempt = req.attempt.unwrap_or(latest);
    if attempt == 0 || attempt > latest {
        return Err(AppError::unprocessable(
            "attempt",
            format!("step `{}` has attempts 1 to {latest}", req.step),
        )
        .into());
    }
    let dir: PathBuf = run_folder(state, run.id).join(format!("{i}-{attempt}"));
    let tail = req.tail.map(|t| t as usize);
    let (lines, dropped) = tokio::task::spawn_blocking(move || {
        let mut lines: Vec<StepLogLine> = logs::read_run(&dir, 0, 0)
            .into_iter()
            .map(|l| StepLogLine {
                seq: l.seq,
                at: l.at,
                stream: l.stream,
                text: l.text,
            })
            .collect();
        // Rotation drops the oldest segment: the first kept line's number says how many.
        let rotated = lines.first().map_or(0, |l| l.seq);
        let lost = shim::read_json::<LogTrouble>(&dir, logs::STATUS).map_or(0, |t| t.lost_lines);
        if let Some(t) = tail {
            let from = lines.len().saturating_sub(t);
            lines.drain(..from);
        }
        (lines, rotated + lost)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "reading a step log failed");
        AppError::Internal
    })?;
    Ok(StepLog {
        run_id: run.id,
        step: req.step,
        attempt,
        lines,
        dropped,
    })
}

/// An artifact's record and where its copy is, for a download.
pub async fn artifact(
    state: &AppState,
    caller: &Caller,
    run_id: i64,
    path: &str,
) -> ServerResult<(ArtifactInfo, PathBuf)> {
    caller.authorize(Operation::ReadPipelines)?;
    run_of(state, run_id).await?;
    let a = repo::artifacts::find(&state.db, run_id, path)
        .await?
        .ok_or_else(|| AppError::not_found(format!("artifact `{path}` of run {run_id}")))?;
    let stored = PathBuf::from(&a.stored);
    // Only ever a file under this run's own folder.
    if !stored.starts_with(run_folder(state, run_id)) {
        return Err(AppError::not_found(format!("artifact `{path}` of run {run_id}")).into());
    }
    Ok((
        ArtifactInfo {
            step: a.step,
            path: a.path,
            size: u64::try_from(a.size).unwrap_or(0),
            sha256: a.sha256,
        },
        stored,
    ))
}

/// How a finished run ended, for other features (the council's evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `ci #12`.
    pub title: String,
    /// Its final state.
    pub state: RunState,
    /// Its steps' test counts added up, when a step read a report.
    pub tests: Option<TestCounts>,
}

/// The newest `limit` finished runs of a project, newest first.
pub async fn recent_outcomes(
    db: &impl sea_orm::ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> Result<Vec<Outcome>, sea_orm::DbErr> {
    let mut out = Vec::new();
    // Active runs are skipped: a few more rows cover them.
    for run in repo::runs::of_project(db, project_id, limit + 10).await? {
        let Some(state) = RunState::parse(&run.state).filter(|s| s.is_final()) else {
            continue;
        };
        let name = stored::decode::<PipelineDefinition>(
            "pipeline_runs",
            run.id,
            "definition",
            &run.definition,
        )
        .map(|d| d.name)
        .unwrap_or_else(|_| format!("pipeline {}", run.pipeline_id));
        let mut tests: Option<TestCounts> = None;
        for s in repo::runs::steps(db, run.id).await? {
            if let (Some(p), Some(f), Some(k)) = (s.tests_passed, s.tests_failed, s.tests_skipped) {
                let t = tests.get_or_insert_with(TestCounts::default);
                t.passed += u32::try_from(p).unwrap_or(0);
                t.failed += u32::try_from(f).unwrap_or(0);
                t.skipped += u32::try_from(k).unwrap_or(0);
            }
        }
        out.push(Outcome {
            title: format!("{name} #{}", run.number),
            state,
            tests,
        });
        if out.len() as u64 >= limit {
            break;
        }
    }
    Ok(out)
}
