//! What starts runs besides a person: schedules (every second), a followed git branch (every
//! 5 s, with the catalog's libgit2), and signed webhooks. Every instance looks; each run is made
//! once, because its trigger key (`schedule:<n>:<fire time>`, `git:<commit>`,
//! `webhook:<delivery>`) is unique per pipeline in the database. The schedules view and
//! pause/resume are here too.

use super::defining::pipeline_of;
use super::entities::{pipeline, pipeline_trigger};
use super::repo::{self, triggers as rows};
use super::running::{self, NotStarted, Start};
use super::schedules;
use crate::error::AppError;
use crate::models::pipelines::{
    PauseScheduleRequest, PipelineDefinition, ScheduleInfo, SchedulesRequest, TriggerKind,
    WebhookInfo,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog;
use crate::server::error::ServerResult;
use crate::server::AppState;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::PathBuf;
use std::time::Duration;

/// How often schedules are looked at.
const TICK: Duration = Duration::from_secs(1);
/// Git branches are polled every this many ticks.
const GIT_EVERY: u32 = 5;
/// The crypto context webhook secrets are sealed under.
const SECRET_CONTEXT: &str = "pipeline-webhook";

/// Starts the trigger loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("pipelines.triggers", async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u32 = 0;
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = tick.tick() => {}
            }
            n = n.wrapping_add(1);
            if let Err(e) = look(&state, Utc::now(), n.is_multiple_of(GIT_EVERY)).await {
                tracing::warn!(error = %e, "could not look at pipeline triggers");
            }
        }
    });
}

/// One look at every triggered pipeline: schedules due at `now`, and (with `git`) followed
/// branches.
pub async fn look(state: &AppState, now: DateTime<Utc>, git: bool) -> Result<(), sea_orm::DbErr> {
    for p in rows::triggered(&state.db).await? {
        let Ok(def) = repo::definition(&p) else {
            continue;
        };
        for (i, s) in def.triggers.schedules.iter().enumerate() {
            if let Err(e) = schedule(state, &p, &def, i, s, now).await {
                tracing::warn!(pipeline.id = p.id, schedule = i, error = %e, "a schedule could not fire");
            }
        }
        if git && def.triggers.git.is_some() {
            if let Err(e) = follow_branch(state, &p, &def, now).await {
                tracing::warn!(pipeline.id = p.id, error = %e, "a followed branch could not be read");
            }
        }
    }
    Ok(())
}

/// Starts one run per due fire time of schedule `i`.
async fn schedule(
    state: &AppState,
    p: &pipeline::Model,
    def: &PipelineDefinition,
    i: usize,
    s: &crate::models::pipelines::Schedule,
    now: DateTime<Utc>,
) -> ServerResult<()> {
    let idx = i32::try_from(i).unwrap_or(i32::MAX);
    let spec = format!("{}|{}", s.cron, s.timezone);
    let row = rows::ensure(&state.db, p.id, rows::SCHEDULE, idx, &spec, now).await?;
    if row.paused || row.checked_at >= now {
        return Ok(());
    }
    let parsed = schedules::parse(s).map_err(|m| AppError::unprocessable("cron", m))?;
    let due = schedules::due(&parsed, s, row.checked_at, now);
    let params = crate::models::pipelines::resolve(&def.parameters, &s.parameters)
        .map_err(|e| AppError::unprocessable(e.field, e.message))?;
    for at in &due {
        let start = Start {
            trigger: TriggerKind::Schedule,
            key: schedules::key(i, *at),
            by: None,
            branch: None,
            commit: None,
            params: params.clone(),
            rerun: None,
        };
        if let Err(NotStarted::Skipped) = running::queue(state, p, def, start).await? {
            tracing::info!(pipeline.id = p.id, fire = %at, "a scheduled run was skipped: a run is in progress (concurrency = skip)");
        }
    }
    rows::advance(&state.db, row.id, row.checked_at, now, due.last().copied()).await?;
    Ok(())
}

/// Starts a run for each new head commit of the followed branch (the first head seen starts
/// nothing: following begins there).
async fn follow_branch(
    state: &AppState,
    p: &pipeline::Model,
    def: &PipelineDefinition,
    now: DateTime<Utc>,
) -> ServerResult<()> {
    let Some(git) = &def.triggers.git else {
        return Ok(());
    };
    let Some(project) = catalog::find_project(&state.db, p.project_id).await? else {
        return Ok(());
    };
    let (dir, branch) = (PathBuf::from(&project.path), git.branch.clone());
    let head = crate::server::jobs::Jobs::blocking("pipelines.git_head", move || {
        catalog::git::branch_head(&dir, &branch)
    })
    .await
    .map_err(|e| AppError::unprocessable("git", e.to_string()))?
    .map_err(|m| AppError::unprocessable("git", m))?;
    let Some(head) = head else {
        return Ok(());
    };
    let row = rows::ensure(&state.db, p.id, rows::GIT, 0, &git.branch, now).await?;
    match row.last_commit.as_deref() {
        None => {
            rows::saw_commit(&state.db, row.id, None, &head).await?;
        }
        Some(seen) if seen == head => {}
        Some(seen) => {
            // The run first (made once by its key), then the record: a crash between the two
            // starts nothing twice.
            let start = Start {
                trigger: TriggerKind::Git,
                key: format!("git:{head}"),
                by: None,
                branch: Some(git.branch.clone()),
                commit: Some(head.clone()),
                params: crate::models::pipelines::resolve(&def.parameters, &Default::default())
                    .map_err(|e| AppError::unprocessable(e.field, e.message))?,
                rerun: None,
            };
            if let Err(NotStarted::Skipped) = running::queue(state, p, def, start).await? {
                tracing::info!(pipeline.id = p.id, commit = %head, "a git-triggered run was skipped: a run is in progress (concurrency = skip)");
            }
            rows::saw_commit(&state.db, row.id, Some(seen), &head).await?;
        }
    }
    Ok(())
}

fn schedule_info(
    p: &pipeline::Model,
    def: &PipelineDefinition,
    i: usize,
    row: Option<&pipeline_trigger::Model>,
    now: DateTime<Utc>,
) -> ScheduleInfo {
    let s = &def.triggers.schedules[i];
    let paused = row.is_some_and(|r| r.paused);
    ScheduleInfo {
        pipeline_id: p.id,
        pipeline: def.name.clone(),
        project_id: p.project_id,
        index: u32::try_from(i).unwrap_or(u32::MAX),
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        missed: s.missed,
        paused,
        next: if paused {
            Vec::new()
        } else {
            schedules::parse(s)
                .map(|parsed| parsed.next(now, 5))
                .unwrap_or_default()
        },
        last_fire_at: row.and_then(|r| r.last_fire_at),
    }
}

/// Every schedule (of one project, or of all), with its next fire times.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: SchedulesRequest,
) -> ServerResult<Vec<ScheduleInfo>> {
    caller.authorize(Operation::ReadPipelines)?;
    let pipelines: Vec<pipeline::Model> = rows::triggered(&state.db)
        .await?
        .into_iter()
        .filter(|p| req.project_id.is_none_or(|id| p.project_id == id))
        .collect();
    let states = rows::of_pipelines(&state.db, pipelines.iter().map(|p| p.id).collect()).await?;
    let now = Utc::now();
    let mut out = Vec::new();
    for p in &pipelines {
        let Ok(def) = repo::definition(p) else {
            continue;
        };
        for i in 0..def.triggers.schedules.len() {
            let row = states
                .iter()
                .find(|r| r.pipeline_id == p.id && r.kind == rows::SCHEDULE && r.idx as usize == i);
            out.push(schedule_info(p, &def, i, row, now));
        }
    }
    Ok(out)
}

/// Pauses or resumes one schedule of a pipeline.
pub async fn pause(
    state: &AppState,
    caller: &Caller,
    req: PauseScheduleRequest,
) -> ServerResult<ScheduleInfo> {
    caller.authorize(Operation::RunPipelines)?;
    let p = pipeline_of(state, req.pipeline_id).await?;
    let def = repo::definition(&p)?;
    let i = req.index as usize;
    let Some(s) = def.triggers.schedules.get(i) else {
        return Err(AppError::not_found(format!(
            "schedule {} of pipeline `{}` (it has {})",
            req.index,
            def.name,
            def.triggers.schedules.len()
        ))
        .into());
    };
    let now = Utc::now();
    let spec = format!("{}|{}", s.cron, s.timezone);
    let row = rows::ensure(
        &state.db,
        p.id,
        rows::SCHEDULE,
        req.index as i32,
        &spec,
        now,
    )
    .await?;
    rows::set_paused(&state.db, row.id, req.paused, now).await?;
    audit::record(
        state,
        caller.into(),
        if req.paused {
            "pipelines.pause_schedule"
        } else {
            "pipelines.resume_schedule"
        },
        &format!("pipeline:{}:schedule:{}", p.id, req.index),
        "ok",
    )
    .await?;
    let row = rows::find(&state.db, p.id, rows::SCHEDULE, req.index as i32).await?;
    Ok(schedule_info(&p, &def, i, row.as_ref(), now))
}

/// A pipeline's webhook address and signing secret (made on first ask; `rotate` makes a new
/// one, and the old one stops working).
pub async fn webhook(
    state: &AppState,
    caller: &Caller,
    pipeline_id: i64,
    rotate: bool,
) -> ServerResult<WebhookInfo> {
    caller.authorize(Operation::EditPipelines)?;
    let p = pipeline_of(state, pipeline_id).await?;
    let def = repo::definition(&p)?;
    if !def.triggers.webhook {
        return Err(AppError::unprocessable(
            "pipeline_id",
            format!(
                "pipeline `{}` has no webhook trigger (set `triggers.webhook = true`)",
                def.name
            ),
        )
        .into());
    }
    let now = Utc::now();
    let row = rows::ensure(&state.db, p.id, rows::WEBHOOK, 0, "webhook", now).await?;
    if row.secret.is_none() || rotate {
        let fresh = random_secret();
        let sealed = state
            .crypto
            .seal(SECRET_CONTEXT, &fresh)
            .map_err(|_| AppError::Internal)?;
        rows::set_secret(&state.db, row.id, &sealed, !rotate).await?;
        audit::record(
            state,
            caller.into(),
            "pipelines.webhook_secret",
            &format!("pipeline:{}", p.id),
            "ok",
        )
        .await?;
    }
    let row = rows::find(&state.db, p.id, rows::WEBHOOK, 0)
        .await?
        .ok_or(AppError::Internal)?;
    let secret = row
        .secret
        .as_deref()
        .and_then(|s| state.crypto.open(SECRET_CONTEXT, s).ok())
        .ok_or(AppError::Internal)?;
    Ok(WebhookInfo {
        pipeline_id: p.id,
        path: format!("/api/v1/hooks/{}", p.id),
        secret,
    })
}

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// A run was queued.
    Started(i64),
    /// This delivery id started a run already.
    Replayed(i64),
    /// Concurrency `skip`: a run was in progress.
    Skipped,
}

/// Handles a delivery to `/api/v1/hooks/<pipeline id>`: the `X-Hub-Signature-256` header must
/// be `sha256=<hex HMAC-SHA256 of the body with the pipeline's secret>` (401 otherwise, and
/// nothing starts); the delivery id (`X-GitHub-Delivery`, or `X-Delivery-Id`) starts at most one
/// run. A GitHub push payload's `ref` and `after` become the run's branch and commit.
pub async fn deliver(
    state: &AppState,
    pipeline_id: i64,
    signature: Option<&str>,
    delivery: Option<&str>,
    body: &[u8],
) -> ServerResult<Delivered> {
    // Unknown pipeline, no webhook, no secret, bad signature: all the same 401, so the endpoint
    // does not tell which pipelines exist.
    let refused = || AppError::Unauthorized {
        message: "the webhook signature does not match".into(),
    };
    let p = repo::find(&state.db, pipeline_id)
        .await?
        .ok_or_else(refused)?;
    let def = repo::definition(&p)?;
    if !def.triggers.webhook {
        return Err(refused().into());
    }
    let row = rows::find(&state.db, p.id, rows::WEBHOOK, 0)
        .await?
        .ok_or_else(refused)?;
    let secret = row
        .secret
        .as_deref()
        .and_then(|s| state.crypto.open(SECRET_CONTEXT, s).ok())
        .ok_or_else(refused)?;
    let given = signature
        .and_then(|s| s.strip_prefix("sha256="))
        .and_then(|h| hex_decode(h.trim()))
        .ok_or_else(refused)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| refused())?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| refused())?;
    let delivery = delivery
        .map(str::trim)
        .filter(|d| !d.is_empty() && d.len() <= 100)
        .ok_or_else(|| {
            AppError::validation(
                "X-GitHub-Delivery",
                "a delivery id header (X-GitHub-Delivery or X-Delivery-Id) of 1–100 characters is required",
            )
        })?;
    let payload: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let branch = payload["ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("refs/heads/"))
        .map(str::to_owned);
    let commit = payload["after"]
        .as_str()
        .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let params = crate::models::pipelines::resolve(&def.parameters, &Default::default())
        .map_err(|e| AppError::unprocessable(e.field, e.message))?;
    let start = Start {
        trigger: TriggerKind::Webhook,
        key: format!("webhook:{delivery}"),
        by: None,
        branch,
        commit,
        params,
        rerun: None,
    };
    Ok(match running::queue(state, &p, &def, start).await? {
        Ok(run) => Delivered::Started(run.id),
        Err(NotStarted::Duplicate(id)) => Delivered::Replayed(id),
        Err(NotStarted::Skipped) => Delivered::Skipped,
    })
}

/// 32 random bytes, hex.
fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
