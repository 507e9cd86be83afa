//! What the pipelines API takes and answers about runs: starting one, reading it with its steps,
//! cancelling, rerunning, deciding a gate, and a step's log.

use super::{ParameterValue, RunState, StepState, TriggerKind};
use crate::models::runtime::LogStream;
use crate::models::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Starts a run of a pipeline by hand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunPipelineRequest {
    /// The pipeline.
    pub pipeline_id: i64,
    /// Parameter values by name; those left out take their default. A name the pipeline lacks,
    /// a value of the wrong type or a missing required value is refused, naming `params.<name>`.
    #[serde(default)]
    pub params: BTreeMap<String, ParameterValue>,
}

/// Acts on one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunRequest {
    /// The run.
    pub id: i64,
}

/// Runs again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RerunRequest {
    /// The run to run again (it must be over).
    pub id: i64,
    /// Keep the steps that succeeded (with everything they depend on) and start from the
    /// failed ones; otherwise every step runs again.
    #[serde(default)]
    pub from_failed: bool,
}

/// Lists runs, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunsRequest {
    /// One pipeline's runs.
    #[serde(default)]
    pub pipeline_id: Option<i64>,
    /// One project's runs (all its pipelines).
    #[serde(default)]
    pub project_id: Option<i64>,
    /// At most this many (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// Approves or rejects a gate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DecideRequest {
    /// The run.
    pub run_id: i64,
    /// The gate step's name.
    pub step: String,
    /// Approve (the run goes on) or reject (the gate fails).
    pub approve: bool,
    /// Why (at most 1000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
    pub comment: String,
}

/// Asks for a step's output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepLogRequest {
    /// The run.
    pub run_id: i64,
    /// The step's name.
    pub step: String,
    /// Only the last this many lines (1–100000); all kept lines when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100000))]
    pub tail: Option<u32>,
    /// Which attempt (default: the latest).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub attempt: Option<u32>,
}

/// One line a step wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepLogLine {
    /// Position in the attempt's log (increasing).
    pub seq: u64,
    /// When it was read.
    pub at: DateTime<Utc>,
    /// `stdout` or `stderr`.
    pub stream: LogStream,
    /// The text (ANSI colour codes kept; `\r` progress collapsed; the environment's secrets
    /// masked).
    pub text: String,
}

/// A step's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepLog {
    /// The run.
    pub run_id: i64,
    /// The step.
    pub step: String,
    /// The attempt these lines are from.
    pub attempt: u32,
    /// The lines, oldest first.
    pub lines: Vec<StepLogLine>,
    /// Lines the log could not keep (rotation dropped the oldest, or writing failed).
    pub dropped: u64,
}

/// A file a run kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactInfo {
    /// The step that made it.
    pub step: String,
    /// Its path relative to the step's folder.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256 of its content.
    pub sha256: String,
}

/// Test counts read from a step's JUnit report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TestCounts {
    /// Passed.
    pub passed: u32,
    /// Failed or in error.
    pub failed: u32,
    /// Skipped.
    pub skipped: u32,
}

/// A gate's rule and decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GateInfo {
    /// The lowest role that may decide.
    pub min_role: Role,
    /// Whether the person who started the run may not decide.
    pub not_triggerer: bool,
    /// What the person is asked.
    pub prompt: String,
    /// When it stops waiting (and fails).
    pub expires_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Their comment.
    pub comment: Option<String>,
}

/// A step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepInfo {
    /// Its name.
    pub name: String,
    /// Where it stands.
    pub status: StepState,
    /// The steps it waits for.
    pub depends_on: Vec<String>,
    /// The current (or last) attempt, from 1.
    pub attempt: u32,
    /// The last attempt's exit status.
    pub exit_code: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// Why it failed, was skipped or cancelled, in words.
    pub reason: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it ran (so far, while running), in milliseconds.
    pub duration_ms: Option<u64>,
    /// What its test report counted.
    pub tests: Option<TestCounts>,
    /// When it is a gate: its rule and decision.
    pub gate: Option<GateInfo>,
}

/// A run of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipelineRunInfo {
    /// Run id.
    pub id: i64,
    /// The pipeline.
    pub pipeline_id: i64,
    /// Its name.
    pub pipeline: String,
    /// The project.
    pub project_id: i64,
    /// 1, 2, 3… per pipeline.
    pub number: i64,
    /// Where it stands.
    pub status: RunState,
    /// What started it.
    pub trigger: TriggerKind,
    /// Which start it was, unique per pipeline: `manual:<uuid>`, `schedule:<n>:<fire time>`,
    /// `git:<commit>`, `webhook:<delivery id>`, `rerun:<uuid>`, `requeue:<run id>`.
    pub trigger_key: String,
    /// Who started it, when a person did.
    pub triggered_by: Option<String>,
    /// The branch it ran for.
    pub branch: Option<String>,
    /// The commit.
    pub commit: Option<String>,
    /// The parameter values it runs with.
    pub params: BTreeMap<String, ParameterValue>,
    /// Why it ended as it did, in words.
    pub message: Option<String>,
    /// The run this one runs again.
    pub rerun_of: Option<i64>,
    /// The Optimus instance running it.
    pub owner: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When an instance took it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it ran (so far, while running), in milliseconds.
    pub duration_ms: Option<u64>,
    /// Its steps, in definition order.
    pub steps: Vec<StepInfo>,
    /// The files it kept.
    pub artifacts: Vec<ArtifactInfo>,
}

/// Lists schedules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SchedulesRequest {
    /// One project's (all projects' when absent).
    #[serde(default)]
    pub project_id: Option<i64>,
}

/// One schedule of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScheduleInfo {
    /// The pipeline.
    pub pipeline_id: i64,
    /// Its name.
    pub pipeline: String,
    /// Its project.
    pub project_id: i64,
    /// The schedule's position in the pipeline's `triggers.schedules`.
    pub index: u32,
    /// Its cron expression.
    pub cron: String,
    /// Its time zone.
    pub timezone: String,
    /// What happens to fire times missed while Optimus was down.
    pub missed: super::Missed,
    /// Paused: it starts nothing until resumed.
    pub paused: bool,
    /// The next five fire times (none while paused).
    pub next: Vec<DateTime<Utc>>,
    /// The latest fire time that started a run.
    pub last_fire_at: Option<DateTime<Utc>>,
}

/// Pauses or resumes a schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PauseScheduleRequest {
    /// The pipeline.
    pub pipeline_id: i64,
    /// The schedule's position in its `triggers.schedules`.
    pub index: u32,
    /// Pause (true) or resume (false). Time spent paused is not owed as missed runs.
    pub paused: bool,
}

/// Asks for a pipeline's webhook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookRequest {
    /// The pipeline (its `triggers.webhook` must be true).
    pub pipeline_id: i64,
    /// Make a new secret (the old one stops working).
    #[serde(default)]
    pub rotate: bool,
}

/// Where to send a pipeline's webhooks and how to sign them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    /// The pipeline.
    pub pipeline_id: i64,
    /// The path to POST deliveries to (`/api/v1/hooks/<pipeline id>`).
    pub path: String,
    /// The HMAC-SHA256 key: sign the body and send `X-Hub-Signature-256: sha256=<hex>`.
    pub secret: String,
}
