//! One run, driven on this instance from its claim to its outcome: the plan decides what starts,
//! waits or is skipped; this file applies it, starts attempts as slots free up, follows gates and
//! cancellation (re-reading the run when poked and every second), renews the lease, and records
//! the outcome. It stops at once, writing nothing more, when the lease is lost.

use super::attempt::{self, AttemptEnd};
use super::{LOOK, RENEW};
use crate::models::events::Event;
use crate::models::pipelines::{
    ParameterValue, PipelineDefinition, RunState, StepState, TriggerKind,
};
use crate::server::catalog::{self, Project};
use crate::server::environments::{self, Resolved};
use crate::server::notifications::{self, NewNotification};
use crate::server::pipelines::entities::{pipeline_run, pipeline_step};
use crate::server::pipelines::plan::{self, Action};
use crate::server::pipelines::repo::{self, runs::Lease};
use crate::server::{stored, AppState};
use chrono::Utc;
use sea_orm::Set;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit};

/// What every attempt of a run shares.
#[derive(Debug)]
pub(super) struct RunCtx {
    /// The run as claimed.
    pub run: pipeline_run::Model,
    /// The claim.
    pub lease: Lease,
    /// The definition it runs (its snapshot).
    pub def: PipelineDefinition,
    /// Its parameter values.
    pub params: BTreeMap<String, ParameterValue>,
    /// The project.
    pub project: Project,
    /// The project's active environment, secrets decrypted (masked in every log).
    pub env: Resolved,
}

impl RunCtx {
    fn trigger(&self) -> TriggerKind {
        TriggerKind::parse(&self.run.trigger).unwrap_or(TriggerKind::Manual)
    }
}

/// The lease is gone: another instance took the run, or it was removed.
#[derive(Debug)]
pub(super) struct Lost;

/// Announces a run's state on the bus.
async fn announce(
    state: &AppState,
    run: &pipeline_run::Model,
    status: RunState,
    step: Option<(&str, StepState)>,
) {
    state
        .bus
        .publish(Event::PipelineRunChanged {
            run_id: run.id,
            pipeline_id: run.pipeline_id,
            project_id: run.project_id,
            number: run.number,
            status,
            step: step.map(|(name, _)| name.to_owned()),
            step_status: step.map(|(_, s)| s),
        })
        .await;
}

/// The name of a run in words: `ci #3`.
fn title(run: &pipeline_run::Model) -> String {
    let name = stored::decode::<PipelineDefinition>(
        "pipeline_runs",
        run.id,
        "definition",
        &run.definition,
    )
    .map(|d| d.name)
    .unwrap_or_else(|_| format!("pipeline {}", run.pipeline_id));
    format!("{name} #{}", run.number)
}

/// Tells everyone a run ended: the event, a timeline entry on the project, and a notification
/// when it failed or was interrupted.
pub(super) async fn conclude(
    state: &AppState,
    run: &pipeline_run::Model,
    outcome: RunState,
    message: Option<&str>,
) {
    announce(state, run, outcome, None).await;
    super::prune(state, run.pipeline_id).await;
    let took = run
        .started_at
        .map(|s| {
            let secs = (Utc::now() - s).num_milliseconds().max(0) as f64 / 1000.0;
            format!(" in {secs:.1} s")
        })
        .unwrap_or_default();
    let why = message.map(|m| format!(": {m}")).unwrap_or_default();
    let summary = format!("Pipeline `{}` {}{took}{why}", title(run), outcome.as_str());
    if let Err(e) =
        catalog::record_activity(&state.db, run.project_id, "pipeline", &summary, None).await
    {
        tracing::warn!(run.id = run.id, error = %e, "could not record a timeline entry");
    }
    let level = match outcome {
        RunState::Failed => "error",
        RunState::Interrupted => "warning",
        _ => return,
    };
    notifications::notify(
        state,
        NewNotification {
            level,
            kind: "pipeline_failed",
            title: format!("Pipeline {} {}", title(run), outcome.as_str()),
            body: message.unwrap_or_default().to_owned(),
            project_id: Some(run.project_id),
            service_id: None,
        },
    )
    .await;
}

/// What the run needs before any step starts.
async fn prepare(
    state: &AppState,
    run: &pipeline_run::Model,
    lease: Lease,
) -> Result<RunCtx, String> {
    let def: PipelineDefinition =
        stored::decode("pipeline_runs", run.id, "definition", &run.definition)
            .map_err(|e| e.to_string())?;
    let params = stored::decode("pipeline_runs", run.id, "parameters", &run.parameters)
        .map_err(|e| e.to_string())?;
    let project = catalog::find_project(&state.db, run.project_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("its project is gone")?;
    let env = environments::resolved(state, run.project_id)
        .await
        .map_err(|e| format!("cannot read the active environment: {e}"))?;
    Ok(RunCtx {
        run: run.clone(),
        lease,
        def,
        params,
        project,
        env,
    })
}

/// Drives a claimed run to its end (or until this instance loses it or stops).
pub(super) async fn drive(
    state: AppState,
    run: pipeline_run::Model,
    lease: Lease,
    bell: Arc<Notify>,
) {
    let mut claimed = run.clone();
    claimed.fence = lease.fence;
    claimed.owner = Some(lease.owner.clone());
    claimed.started_at = Some(Utc::now());
    announce(&state, &claimed, RunState::Running, None).await;
    let ctx = match prepare(&state, &claimed, lease.clone()).await {
        Ok(ctx) => Arc::new(ctx),
        Err(why) => {
            let message = format!("could not start: {why}");
            if let Ok(true) = repo::runs::set_state(
                &state.db,
                run.id,
                &lease,
                RunState::Failed,
                Some(&message),
                Utc::now(),
            )
            .await
            {
                conclude(&state, &claimed, RunState::Failed, Some(&message)).await;
            }
            return;
        }
    };
    let rows = match repo::runs::steps(&state.db, run.id).await {
        Ok(rows) if rows.len() == ctx.def.steps.len() => rows,
        Ok(_) | Err(_) => {
            tracing::warn!(run.id = run.id, "a claimed run's steps could not be read");
            return;
        }
    };
    let (ends_tx, ends) = mpsc::unbounded_channel();
    let mut driver = Driver {
        states: rows
            .iter()
            .map(|r| StepState::parse(&r.state).unwrap_or(StepState::Pending))
            .collect(),
        attempts: rows
            .iter()
            .map(|r| u32::try_from(r.attempt).unwrap_or(1))
            .collect(),
        rows,
        state,
        run: claimed,
        ctx,
        bell,
        running: HashMap::new(),
        ends_tx,
        ends,
        held: None,
        cancelling: false,
        shown: RunState::Running,
    };
    if driver.go().await.is_err() {
        driver.stop_all().await;
    }
}

struct Driver {
    state: AppState,
    /// The run as this instance holds it.
    run: pipeline_run::Model,
    ctx: Arc<RunCtx>,
    bell: Arc<Notify>,
    rows: Vec<pipeline_step::Model>,
    states: Vec<StepState>,
    attempts: Vec<u32>,
    /// The attempts running, each with its stop switch.
    running: HashMap<usize, watch::Sender<bool>>,
    ends_tx: mpsc::UnboundedSender<AttemptEnd>,
    ends: mpsc::UnboundedReceiver<AttemptEnd>,
    /// A slot taken while waiting for one, used by the next step to start.
    held: Option<OwnedSemaphorePermit>,
    /// Someone cancelled the run: its attempts are being stopped.
    cancelling: bool,
    /// The run state last written.
    shown: RunState,
}

impl Driver {
    async fn go(&mut self) -> Result<(), Lost> {
        let slots = self.state.pipelines.inner.slots.clone();
        let mut shutdown = self.state.jobs.shutdown_signal();
        let mut look = tokio::time::interval(LOOK);
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renew = tokio::time::interval(RENEW);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.reset();
        loop {
            if !self.cancelling {
                self.advance().await?;
            }
            if self.running.is_empty() {
                if self.cancelling {
                    let now = Utc::now();
                    if let Ok(true) = repo::runs::finish_cancelled(
                        &self.state.db,
                        self.run.id,
                        &self.ctx.lease,
                        now,
                    )
                    .await
                    {
                        let message = repo::runs::find(&self.state.db, self.run.id)
                            .await
                            .ok()
                            .flatten()
                            .and_then(|r| r.message);
                        conclude(
                            &self.state,
                            &self.run,
                            RunState::Cancelled,
                            message.as_deref(),
                        )
                        .await;
                    }
                    return Ok(());
                }
                if let Some(outcome) = plan::outcome(&self.ctx.def.steps, &self.states) {
                    return self.finish(outcome).await;
                }
            }
            if !self.cancelling {
                let now_state = plan::active_state(&self.states);
                if now_state != self.shown {
                    self.write_state(now_state).await?;
                }
            }
            let want_slot = !self.cancelling
                && self.held.is_none()
                && plan::next(
                    &self.ctx.def.steps,
                    &self.states,
                    self.ctx.trigger(),
                    self.run.branch.as_deref(),
                    1,
                )
                .iter()
                .any(|a| matches!(a, Action::Start(_)));
            tokio::select! {
                Some(end) = self.ends.recv() => self.ended(end).await?,
                permit = slots.clone().acquire_owned(), if want_slot => self.held = permit.ok(),
                _ = self.bell.notified() => self.check().await?,
                _ = look.tick() => self.check().await?,
                _ = renew.tick() => self.renew().await?,
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => {
                    self.stop_all().await;
                    let message = "Optimus stopped while running it";
                    if let Err(e) = super::interrupt(&self.state, &self.run, message, false).await {
                        tracing::warn!(run.id = self.run.id, error = %e, "could not mark the run interrupted; another instance will");
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Saves a step's change under the lease.
    async fn save(&self, idx: usize, change: pipeline_step::ActiveModel) -> Result<(), Lost> {
        match repo::runs::save_step(
            &self.state.db,
            self.run.id,
            self.rows[idx].id,
            &self.ctx.lease,
            change,
        )
        .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Lost),
            Err(e) => {
                // The database is away: the lease decides later whether this run is still ours.
                tracing::warn!(run.id = self.run.id, error = %e, "could not record a step's state");
                Ok(())
            }
        }
    }

    async fn announce_step(&self, idx: usize) {
        announce(
            &self.state,
            &self.run,
            self.shown,
            Some((&self.ctx.def.steps[idx].name, self.states[idx])),
        )
        .await;
    }

    async fn write_state(&mut self, to: RunState) -> Result<(), Lost> {
        match repo::runs::set_state(
            &self.state.db,
            self.run.id,
            &self.ctx.lease,
            to,
            None,
            Utc::now(),
        )
        .await
        {
            Ok(true) => {
                self.shown = to;
                announce(&self.state, &self.run, to, None).await;
                Ok(())
            }
            // Cancelled meanwhile, or taken: the next check tells which.
            Ok(false) => self.check().await,
            Err(e) => {
                tracing::warn!(run.id = self.run.id, error = %e, "could not record the run's state");
                Ok(())
            }
        }
    }

    /// Applies the plan's next decisions.
    async fn advance(&mut self) -> Result<(), Lost> {
        let slots = self.state.pipelines.inner.slots.clone();
        let free = usize::from(self.held.is_some()) + slots.available_permits();
        let actions = plan::next(
            &self.ctx.def.steps,
            &self.states,
            self.ctx.trigger(),
            self.run.branch.as_deref(),
            free,
        );
        for action in actions {
            let now = Utc::now();
            match action {
                Action::Skip(i, why) => {
                    self.states[i] = StepState::Skipped;
                    self.save(
                        i,
                        pipeline_step::ActiveModel {
                            state: Set(StepState::Skipped.as_str().to_owned()),
                            reason: Set(Some(why)),
                            finished_at: Set(Some(now)),
                            ..Default::default()
                        },
                    )
                    .await?;
                    self.announce_step(i).await;
                }
                Action::Wait(i) => {
                    self.states[i] = StepState::Waiting;
                    self.save(
                        i,
                        pipeline_step::ActiveModel {
                            state: Set(StepState::Waiting.as_str().to_owned()),
                            started_at: Set(Some(now)),
                            ..Default::default()
                        },
                    )
                    .await?;
                    self.rows[i].started_at = Some(now);
                    self.announce_step(i).await;
                    let prompt = self.ctx.def.steps[i]
                        .approval
                        .as_ref()
                        .map(|a| a.prompt.clone())
                        .unwrap_or_default();
                    notifications::notify(
                        &self.state,
                        NewNotification {
                            level: "warning",
                            kind: "pipeline_approval",
                            title: format!(
                                "Pipeline {} waits for approval at `{}`",
                                title(&self.run),
                                self.ctx.def.steps[i].name
                            ),
                            body: prompt,
                            project_id: Some(self.run.project_id),
                            service_id: None,
                        },
                    )
                    .await;
                }
                Action::Start(i) => {
                    let permit = match self.held.take() {
                        Some(p) => p,
                        None => match slots.clone().try_acquire_owned() {
                            Ok(p) => p,
                            // Another run took the slot: this step waits for the next.
                            Err(_) => continue,
                        },
                    };
                    self.states[i] = StepState::Running;
                    let (stop_tx, stop) = watch::channel(false);
                    self.running.insert(i, stop_tx);
                    let job = attempt::Attempt {
                        state: self.state.clone(),
                        ctx: self.ctx.clone(),
                        idx: i,
                        attempt: self.attempts[i],
                        step_id: self.rows[i].id,
                        stop,
                        permit,
                        done: self.ends_tx.clone(),
                    };
                    self.state.jobs.spawn(
                        format!(
                            "pipelines.step:{}:{}",
                            self.run.id, self.ctx.def.steps[i].name
                        ),
                        job.run(),
                    );
                }
            }
        }
        Ok(())
    }

    /// Records how an attempt ended: the step is over, or it runs again.
    async fn ended(&mut self, end: AttemptEnd) -> Result<(), Lost> {
        self.running.remove(&end.idx);
        if end.lost {
            return Err(Lost);
        }
        let i = end.idx;
        let step = &self.ctx.def.steps[i];
        let now = Utc::now();
        let tests = end.tests;
        let result = if end.stopped {
            Ok(StepState::Cancelled)
        } else {
            plan::after_attempt(step, end.attempt, end.exit_code)
        };
        let change = match result {
            Ok(final_state) => {
                self.states[i] = final_state;
                pipeline_step::ActiveModel {
                    state: Set(final_state.as_str().to_owned()),
                    exit_code: Set(end.exit_code),
                    signal: Set(end.signal),
                    reason: Set(end.reason.clone()),
                    finished_at: Set(Some(now)),
                    tests_passed: Set(tests.map(|t| i32::try_from(t.passed).unwrap_or(i32::MAX))),
                    tests_failed: Set(tests.map(|t| i32::try_from(t.failed).unwrap_or(i32::MAX))),
                    tests_skipped: Set(tests.map(|t| i32::try_from(t.skipped).unwrap_or(i32::MAX))),
                    ..Default::default()
                }
            }
            Err(next) => {
                self.states[i] = StepState::Pending;
                self.attempts[i] = next;
                let why = end.reason.clone().unwrap_or_else(|| "it failed".into());
                pipeline_step::ActiveModel {
                    state: Set(StepState::Pending.as_str().to_owned()),
                    attempt: Set(i32::try_from(next).unwrap_or(i32::MAX)),
                    exit_code: Set(end.exit_code),
                    signal: Set(end.signal),
                    reason: Set(Some(format!("attempt {} {why}; trying again", end.attempt))),
                    ..Default::default()
                }
            }
        };
        self.save(i, change).await?;
        self.announce_step(i).await;
        Ok(())
    }

    /// Re-reads the run: cancelled, taken, or a gate decided or timed out.
    async fn check(&mut self) -> Result<(), Lost> {
        let run = match repo::runs::find(&self.state.db, self.run.id).await {
            Ok(Some(run)) => run,
            Ok(None) => return Err(Lost),
            Err(e) => {
                tracing::warn!(run.id = self.run.id, error = %e, "could not re-read a run");
                return Ok(());
            }
        };
        if run.owner.as_deref() != Some(self.ctx.lease.owner.as_str())
            || run.fence != self.ctx.lease.fence
        {
            return Err(Lost);
        }
        if run.state == RunState::Cancelled.as_str() && !self.cancelling {
            self.cancelling = true;
            for stop in self.running.values() {
                let _ = stop.send(true);
            }
        }
        if self.cancelling || !self.states.contains(&StepState::Waiting) {
            return Ok(());
        }
        let Ok(rows) = repo::runs::steps(&self.state.db, self.run.id).await else {
            return Ok(());
        };
        let now = Utc::now();
        for (i, row) in rows.iter().enumerate() {
            if self.states[i] != StepState::Waiting {
                continue;
            }
            let stored = StepState::parse(&row.state).unwrap_or(StepState::Waiting);
            if stored != StepState::Waiting {
                self.states[i] = stored;
                self.announce_step(i).await;
                continue;
            }
            if let Some(expires) = plan::gate_expiry(&self.ctx.def, i, row.started_at) {
                if now >= expires {
                    let why = format!(
                        "no decision within {} s",
                        (expires - row.started_at.unwrap_or(expires)).num_seconds()
                    );
                    if let Ok(true) =
                        repo::runs::expire_gate(&self.state.db, row.id, &why, now).await
                    {
                        self.states[i] = StepState::Failed;
                        self.announce_step(i).await;
                    }
                }
            }
        }
        Ok(())
    }

    async fn renew(&mut self) -> Result<(), Lost> {
        let until = Utc::now() + chrono::Duration::from_std(super::LEASE).unwrap_or_default();
        match repo::runs::renew(
            &self.state.db,
            self.run.id,
            &self.ctx.lease.owner,
            self.ctx.lease.fence,
            until,
        )
        .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Lost),
            Err(e) => {
                tracing::warn!(run.id = self.run.id, error = %e, "could not renew a run's lease");
                Ok(())
            }
        }
    }

    /// Records the outcome once nothing is left to do.
    async fn finish(&mut self, outcome: RunState) -> Result<(), Lost> {
        let message = (outcome == RunState::Failed).then(|| {
            self.ctx
                .def
                .steps
                .iter()
                .zip(&self.states)
                .zip(&self.rows)
                .find(|((step, s), _)| **s == StepState::Failed && !step.allow_failure)
                .map(|((step, _), _)| format!("step `{}` failed", step.name))
                .unwrap_or_else(|| "a step failed".into())
        });
        match repo::runs::set_state(
            &self.state.db,
            self.run.id,
            &self.ctx.lease,
            outcome,
            message.as_deref(),
            Utc::now(),
        )
        .await
        {
            Ok(true) => {
                conclude(&self.state, &self.run, outcome, message.as_deref()).await;
                Ok(())
            }
            Ok(false) => {
                // Cancelled at the last moment (nothing runs any more), or taken.
                self.check().await?;
                if self.cancelling {
                    if let Ok(true) = repo::runs::finish_cancelled(
                        &self.state.db,
                        self.run.id,
                        &self.ctx.lease,
                        Utc::now(),
                    )
                    .await
                    {
                        conclude(&self.state, &self.run, RunState::Cancelled, None).await;
                    }
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(run.id = self.run.id, error = %e, "could not record a run's outcome; it will be marked interrupted");
                Ok(())
            }
        }
    }

    /// Stops every running attempt and waits until each has ended (their processes are gone).
    async fn stop_all(&mut self) {
        for stop in self.running.values() {
            let _ = stop.send(true);
        }
        while !self.running.is_empty() {
            match self.ends.recv().await {
                Some(end) => {
                    self.running.remove(&end.idx);
                }
                None => break,
            }
        }
    }
}
