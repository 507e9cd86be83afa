//! One attempt of one step: its process started through the runtime's shim (process group,
//! log capture with the environment's secrets masked), its log published live, stopped (whole
//! tree) on cancel or timeout, then its artifacts kept and its test report read.

use super::driver::RunCtx;
use crate::models::events::Event;
use crate::models::pipelines::{StepLogLine, StepState, TestCounts};
use crate::server::jobs::Jobs;
use crate::server::pipelines::entities::{pipeline_artifact, pipeline_step};
use crate::server::pipelines::{repo, reports};
use crate::server::runtime::logs::Tail;
use crate::server::runtime::processes::{self, Process};
use crate::server::runtime::shim::{ShimExit, ShimSpec};
use crate::server::AppState;
use chrono::Utc;
use sea_orm::Set;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};

/// A step log segment: a step keeps two, so up to 128 MiB of output is stored.
pub const LOG_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// How long a stopped step's processes get between SIGTERM and SIGKILL.
const GRACE_MS: u64 = 3000;
/// How often the log is read for live followers.
const TAIL: Duration = Duration::from_millis(100);
/// Lines per live event at most.
const LINES_PER_EVENT: usize = 1000;

/// How an attempt ended.
#[derive(Debug, Clone, Default)]
pub(super) struct AttemptEnd {
    /// The step.
    pub idx: usize,
    /// Which attempt.
    pub attempt: u32,
    /// Its exit status (none: killed, timed out, or never started).
    pub exit_code: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// Why it failed, in words.
    pub reason: Option<String>,
    /// What its test report counted.
    pub tests: Option<TestCounts>,
    /// Stopped because the run was cancelled (or Optimus stops).
    pub stopped: bool,
    /// The run's lease was lost: nothing more may be written.
    pub lost: bool,
}

/// One attempt, ready to run.
pub(super) struct Attempt {
    pub state: AppState,
    pub ctx: Arc<RunCtx>,
    pub idx: usize,
    pub attempt: u32,
    pub step_id: i64,
    pub stop: watch::Receiver<bool>,
    pub permit: OwnedSemaphorePermit,
    pub done: mpsc::UnboundedSender<AttemptEnd>,
}

/// `my-param` → `MY_PARAM`.
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The environment a step gets: Optimus's own (without its `OPTIMUS_*` settings), the
/// project's active environment, `PARAM_<NAME>` for each parameter, the step's own variables,
/// then `CI` and the `OPTIMUS_*` facts about the run.
fn environment(ctx: &RunCtx, idx: usize, attempt: u32) -> BTreeMap<String, String> {
    let step = &ctx.def.steps[idx];
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("OPTIMUS_"))
        .collect();
    env.extend(ctx.env.vars.clone());
    for (name, value) in &ctx.params {
        env.insert(format!("PARAM_{}", env_name(name)), value.to_env());
    }
    env.extend(step.env.clone());
    let run = &ctx.run;
    for (k, v) in [
        ("CI", "true".to_owned()),
        ("OPTIMUS_PROJECT", ctx.project.name.clone()),
        ("OPTIMUS_PIPELINE", ctx.def.name.clone()),
        ("OPTIMUS_RUN_ID", run.id.to_string()),
        ("OPTIMUS_RUN_NUMBER", run.number.to_string()),
        ("OPTIMUS_STEP", step.name.clone()),
        ("OPTIMUS_ATTEMPT", attempt.to_string()),
        ("OPTIMUS_TRIGGER", run.trigger.clone()),
    ] {
        env.insert(k.to_owned(), v);
    }
    if let Some(b) = &run.branch {
        env.insert("OPTIMUS_BRANCH".into(), b.clone());
    }
    if let Some(c) = &run.commit {
        env.insert("OPTIMUS_COMMIT".into(), c.clone());
    }
    env
}

/// Where a run's files live under the data folder.
pub fn run_folder(state: &AppState, run_id: i64) -> PathBuf {
    state
        .settings
        .data_dir
        .join("pipelines")
        .join(run_id.to_string())
}

/// Publishes new log lines for live followers.
async fn publish(state: &AppState, ctx: &RunCtx, idx: usize, attempt: u32, tail: &mut Tail) {
    let lines = tail.read(0, 0);
    if lines.is_empty() {
        return;
    }
    let lines: Vec<StepLogLine> = lines
        .into_iter()
        .map(|l| StepLogLine {
            seq: l.seq,
            at: l.at,
            stream: l.stream,
            text: l.text,
        })
        .collect();
    for chunk in lines.chunks(LINES_PER_EVENT) {
        state
            .bus
            .publish(Event::StepLogLines {
                run_id: ctx.run.id,
                step: ctx.def.steps[idx].name.clone(),
                attempt,
                lines: chunk.to_vec(),
            })
            .await;
    }
}

/// Why a process ended, in words (none when it succeeded).
fn describe(exit: &ShimExit) -> Option<String> {
    if let Some(e) = &exit.error {
        return Some(format!("could not start: {e}"));
    }
    match (exit.code, exit.signal) {
        (Some(0), _) => None,
        (Some(c), _) => Some(format!("exited with status {c}")),
        (None, Some(s)) => Some(format!("killed by signal {s}")),
        (None, None) => Some("ended without an exit status".into()),
    }
}

impl Attempt {
    fn end(&self) -> AttemptEnd {
        AttemptEnd {
            idx: self.idx,
            attempt: self.attempt,
            ..Default::default()
        }
    }

    /// Runs the attempt and reports how it ended to the driver.
    pub async fn run(self) {
        let end = self.execute().await;
        let Attempt { permit, done, .. } = self;
        // The slot is free before the driver hears of the end, so the next step can take it.
        drop(permit);
        let _ = done.send(end);
    }

    async fn execute(&self) -> AttemptEnd {
        let (state, ctx, idx) = (&self.state, &self.ctx, self.idx);
        let step = &ctx.def.steps[idx];
        let mut end = self.end();
        let cwd = Path::new(&ctx.project.path).join(&step.cwd);
        let dir = run_folder(state, ctx.run.id).join(format!("{idx}-{}", self.attempt));
        let Some(command) = step.command.clone() else {
            end.reason = Some("the step has no command".into());
            return end;
        };
        if !cwd.is_dir() {
            end.reason = Some(format!("working folder {} does not exist", cwd.display()));
            return end;
        }
        if let Err(e) = std::fs::create_dir_all(&dir) {
            end.reason = Some(format!("cannot create {}: {e}", dir.display()));
            return end;
        }
        let spec = ShimSpec {
            command,
            cwd: cwd.clone(),
            env: environment(ctx, idx, self.attempt).into_iter().collect(),
            run_dir: dir.clone(),
            secrets: ctx.env.secret_values(),
            segment_bytes: LOG_SEGMENT_BYTES,
            limits: optimus_shim::Limits::default(),
        };
        let (started, ended) = match processes::spawn_watched(state, &spec).await {
            Ok(s) => s,
            Err(why) => {
                end.reason = Some(format!("could not start: {why}"));
                return end;
            }
        };
        // When the process exists: what queue-to-start latency is measured to.
        let started_at = Utc::now();
        let process = Process {
            pid: started.pid,
            shim_pid: Some(started.shim_pid),
            run_dir: dir.clone(),
        };
        let saved = repo::runs::save_step(
            &state.db,
            ctx.run.id,
            self.step_id,
            &ctx.lease,
            pipeline_step::ActiveModel {
                state: Set(StepState::Running.as_str().to_owned()),
                attempt: Set(i32::try_from(self.attempt).unwrap_or(i32::MAX)),
                pid: Set(i32::try_from(started.pid).ok()),
                pid_start: Set(i64::try_from(started.pid_start).ok()),
                shim_pid: Set(i32::try_from(started.shim_pid).ok()),
                run_dir: Set(Some(dir.to_string_lossy().into_owned())),
                exit_code: Set(None),
                signal: Set(None),
                reason: Set(None),
                started_at: Set(Some(started_at)),
                finished_at: Set(None),
                ..Default::default()
            },
        )
        .await;
        if let Ok(false) = saved {
            processes::terminate(&process, GRACE_MS).await;
            end.lost = true;
            return end;
        }
        state
            .bus
            .publish(Event::PipelineRunChanged {
                run_id: ctx.run.id,
                pipeline_id: ctx.run.pipeline_id,
                project_id: ctx.run.project_id,
                number: ctx.run.number,
                status: crate::models::pipelines::RunState::Running,
                step: Some(step.name.clone()),
                step_status: Some(StepState::Running),
            })
            .await;
        let (timed_out, stopped) = self.follow(&process, ended, &dir).await;
        let exit = processes::exit_of(&dir).unwrap_or_else(|| ShimExit {
            code: None,
            signal: None,
            at: Utc::now(),
            error: None,
        });
        end.exit_code = exit.code;
        end.signal = exit.signal;
        end.stopped = stopped;
        end.reason = if timed_out {
            end.exit_code = None;
            Some(format!("timed out after {} s", step.timeout()))
        } else if stopped {
            Some("stopped: the run was cancelled".into())
        } else {
            describe(&exit)
        };
        if !stopped {
            let problems = self.keep_outputs(&cwd, &mut end).await;
            if !problems.is_empty() {
                let joined = problems.join("; ");
                end.reason = Some(match end.reason.take() {
                    Some(r) => format!("{r}; {joined}"),
                    None => joined,
                });
            }
        }
        end
    }

    /// Follows the process until it ends, is stopped, or times out: `(timed out, stopped)`.
    async fn follow(&self, process: &Process, ended: processes::Ended, dir: &Path) -> (bool, bool) {
        let (state, ctx) = (&self.state, &self.ctx);
        let step = &ctx.def.steps[self.idx];
        let mut tail = Tail::new(dir, false);
        let mut stop = self.stop.clone();
        let mut ended = Some(ended);
        let mut tick = tokio::time::interval(TAIL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(step.timeout());
        let (mut timed_out, mut stopped) = (false, false);
        loop {
            tokio::select! {
                res = async {
                    match ended.as_mut() {
                        Some(e) => e.await,
                        None => std::future::pending().await,
                    }
                } => {
                    if res.is_ok() {
                        break;
                    }
                    // The reaper let go of the shim (Optimus is stopping): watch the file.
                    ended = None;
                }
                _ = tick.tick() => {
                    publish(state, ctx, self.idx, self.attempt, &mut tail).await;
                    if processes::exit_of(dir).is_some() {
                        break;
                    }
                }
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        processes::terminate(process, GRACE_MS).await;
                        stopped = true;
                        break;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    processes::terminate(process, GRACE_MS).await;
                    timed_out = true;
                    break;
                }
            }
        }
        // The shim writes the exit file as it ends; give it a moment.
        for _ in 0..200 {
            if processes::exit_of(dir).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        publish(state, ctx, self.idx, self.attempt, &mut tail).await;
        (timed_out, stopped)
    }

    /// Keeps the step's artifacts and reads its test report; returns what went wrong.
    async fn keep_outputs(&self, cwd: &Path, end: &mut AttemptEnd) -> Vec<String> {
        let (state, ctx) = (&self.state, &self.ctx);
        let step = ctx.def.steps[self.idx].clone();
        let mut problems = Vec::new();
        if !step.artifacts.is_empty() {
            let (from, into) = (
                cwd.to_path_buf(),
                run_folder(state, ctx.run.id).join("artifacts"),
            );
            let globs = step.artifacts.clone();
            match Jobs::blocking("pipelines.artifacts", move || {
                reports::keep_artifacts(&from, &globs, &into)
            })
            .await
            {
                Ok((kept, trouble)) => {
                    problems.extend(trouble);
                    for k in kept {
                        let row = pipeline_artifact::Model {
                            id: 0,
                            run_id: ctx.run.id,
                            step: step.name.clone(),
                            path: k.path,
                            size: i64::try_from(k.size).unwrap_or(i64::MAX),
                            sha256: k.sha256,
                            stored: k.stored.to_string_lossy().into_owned(),
                            created_at: Utc::now(),
                        };
                        if let Err(e) = repo::artifacts::upsert(&state.db, row).await {
                            problems.push(format!("an artifact could not be recorded: {e}"));
                        }
                    }
                }
                Err(e) => problems.push(format!("artifacts could not be kept: {e}")),
            }
        }
        if let Some(report) = &step.test_report {
            let path = cwd.join(report);
            match Jobs::blocking("pipelines.junit", move || reports::junit_counts(&path)).await {
                Ok(Ok(counts)) => end.tests = Some(counts),
                Ok(Err(why)) => problems.push(why),
                Err(e) => problems.push(format!("the test report could not be read: {e}")),
            }
        }
        problems
    }
}
