//! A pipeline as defined: typed parameters, steps that form a DAG, and what starts it. The same
//! shape comes from `[[pipelines]]` in a project's `optimus.toml`, the dashboard and the API.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pipeline: steps run as a DAG in the project's folder, started by its triggers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PipelineDefinition {
    /// Name, unique in the project: 1–40 of `a-z 0-9 - _`, starting with a letter or digit.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z0-9][a-z0-9_-]{0,39}$"))]
    pub name: String,
    /// One line about it (at most 200 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub description: String,
    /// Values a run is started with (at most 30), available to steps as `PARAM_<NAME>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 30))]
    pub parameters: Vec<Parameter>,
    /// The steps (1 to 100).
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 100))]
    pub steps: Vec<Step>,
    /// What starts a run besides a person (`manual` is always possible).
    #[serde(default, skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Triggers,
    /// What a new run does while another run of this pipeline is active.
    #[serde(default, skip_serializing_if = "Concurrency::is_default")]
    pub concurrency: Concurrency,
    /// What becomes of a run whose Optimus instance died while running it: it is marked
    /// `interrupted` either way, and `requeue` starts it again as a new run.
    #[serde(default, skip_serializing_if = "OnInterrupt::is_default")]
    pub on_interrupt: OnInterrupt,
}

/// What becomes of an interrupted run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnInterrupt {
    /// It stays interrupted (default): a person decides whether to run it again.
    #[default]
    Fail,
    /// A new run with the same parameters is queued once.
    Requeue,
}

impl OnInterrupt {
    /// The default.
    pub fn is_default(&self) -> bool {
        *self == Self::Fail
    }
}

/// A typed value a run is started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Name: 1–40 of `a-z 0-9 _`, starting with a letter (the step sees `PARAM_<NAME>`).
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z][a-z0-9_]{0,39}$"))]
    pub name: String,
    /// `string`, `choice`, `boolean` or `number`.
    #[serde(rename = "type")]
    pub kind: ParameterKind,
    /// For `choice`: the values allowed (1 to 50, each 1–100 characters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub choices: Vec<String>,
    /// The value used when a run gives none; it must fit the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<ParameterValue>,
    /// A run must give a value (or the parameter must have a default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Shown beside the field in the run form (at most 200 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub description: String,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// Free text (at most 1000 characters).
    String,
    /// One of `choices`.
    Choice,
    /// `true` or `false`.
    Boolean,
    /// A finite number.
    Number,
}

impl ParameterKind {
    /// How the type is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Choice => "choice",
            Self::Boolean => "boolean",
            Self::Number => "number",
        }
    }
}

/// A parameter's value, as JSON gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ParameterValue {
    /// `true` / `false`.
    Boolean(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

impl ParameterValue {
    /// The value as the step's environment carries it.
    pub fn to_env(&self) -> String {
        match self {
            Self::Boolean(b) => b.to_string(),
            Self::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Self::Number(n) => n.to_string(),
            Self::Text(s) => s.clone(),
        }
    }
}

/// One step: a command run by the shell, or an approval gate that waits for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name, unique in the pipeline: 1–40 of `a-z 0-9 - _`, starting with a letter or digit.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z0-9][a-z0-9_-]{0,39}$"))]
    pub name: String,
    /// The command line, run by `sh -c`: 1 to 4000 characters, not only spaces. A step has a
    /// command or an approval, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 4000,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub command: Option<String>,
    /// Working directory, relative to the project folder (default `.`; no `..`).
    #[serde(default = "dot", skip_serializing_if = "is_dot")]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub cwd: String,
    /// Variables added to the project's active environment for this step (at most 200).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::models::wire::env_vars))]
    pub env: BTreeMap<String, String>,
    /// Steps that must end first (at most 50): an unknown name or a cycle is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub depends_on: Vec<String>,
    /// Seconds the step may run before it is stopped and fails (1 to 86400; default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 86_400))]
    pub timeout_secs: Option<u64>,
    /// Run it again when it fails.
    #[serde(default, skip_serializing_if = "Retry::is_none")]
    pub retry: Retry,
    /// Its failure does not fail the run, and its dependents still run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_failure: bool,
    /// Run only for these triggers and branches (empty: always).
    #[serde(default, skip_serializing_if = "Condition::is_always")]
    pub when: Condition,
    /// Files kept with the run when the step succeeds: globs relative to `cwd` (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub artifacts: Vec<String>,
    /// A JUnit XML file (relative to `cwd`) whose passed, failed and skipped counts are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub test_report: Option<String>,
    /// Makes the step a gate that waits for a person's approval instead of running a command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

fn dot() -> String {
    ".".into()
}

fn is_dot(s: &str) -> bool {
    s == "."
}

impl Step {
    /// A step running `command` in the project folder, every other setting at its default.
    pub fn command(name: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            command: Some(command.into()),
            cwd: dot(),
            env: BTreeMap::new(),
            depends_on: Vec::new(),
            timeout_secs: None,
            retry: Retry::default(),
            allow_failure: false,
            when: Condition::default(),
            artifacts: Vec::new(),
            test_report: None,
            approval: None,
        }
    }

    /// Seconds it may run (the default when unset).
    pub fn timeout(&self) -> u64 {
        self.timeout_secs.unwrap_or(DEFAULT_STEP_TIMEOUT_SECS)
    }
}

/// A step's time limit when it sets none: one hour.
pub const DEFAULT_STEP_TIMEOUT_SECS: u64 = 3600;

/// Runs a failed step again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Further attempts after the first (0 to 10).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(maximum = 10))]
    pub count: u32,
    /// Retry only on these exit codes (empty: on any failure, timeouts included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub on_exit_codes: Vec<i32>,
}

impl Retry {
    /// No retries.
    pub fn is_none(&self) -> bool {
        self.count == 0 && self.on_exit_codes.is_empty()
    }

    /// Whether an attempt that ended with `exit_code` (None: killed or timed out) is retried,
    /// given `attempt` (1 for the first).
    pub fn again(&self, attempt: u32, exit_code: Option<i32>) -> bool {
        attempt <= self.count
            && (self.on_exit_codes.is_empty()
                || exit_code.is_some_and(|c| self.on_exit_codes.contains(&c)))
    }
}

/// When a step runs: for which triggers and on which branches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Only when the run was started by one of these (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<TriggerKind>,
    /// Only when the run's branch is one of these (`*` matches within a segment; empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub branches: Vec<String>,
}

impl Condition {
    /// No condition: the step always runs.
    pub fn is_always(&self) -> bool {
        self.triggers.is_empty() && self.branches.is_empty()
    }

    /// Whether a run started by `trigger` on `branch` (None: not known) runs the step.
    pub fn allows(&self, trigger: TriggerKind, branch: Option<&str>) -> bool {
        let trigger_ok = self.triggers.is_empty() || self.triggers.contains(&trigger);
        let branch_ok = self.branches.is_empty()
            || branch.is_some_and(|b| self.branches.iter().any(|p| branch_matches(p, b)));
        trigger_ok && branch_ok
    }
}

/// `release/*` matches `release/1.2` but not `release/1/2`; `*` alone matches any one segment.
pub fn branch_matches(pattern: &str, branch: &str) -> bool {
    let (p, b): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), branch.split('/').collect());
    p.len() == b.len()
        && p.iter().zip(&b).all(|(p, b)| match p.split_once('*') {
            None => p == b,
            Some((head, tail)) => {
                b.len() >= head.len() + tail.len() && b.starts_with(head) && b.ends_with(tail)
            }
        })
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A person, from the dashboard or the API.
    Manual,
    /// A schedule's fire time.
    Schedule,
    /// A new head commit on the followed branch.
    Git,
    /// A signed webhook delivery.
    Webhook,
}

impl TriggerKind {
    /// How it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
            Self::Git => "git",
            Self::Webhook => "webhook",
        }
    }

    /// Parses how it is written.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Manual, Self::Schedule, Self::Git, Self::Webhook]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A gate: the run waits here until a person approves (or rejects, or it times out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The least role that may decide: `operator` (default), `admin` or `owner`.
    #[serde(default = "operator")]
    pub min_role: crate::models::Role,
    /// The person who started the run may not approve it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_triggerer: bool,
    /// Seconds to wait before the gate fails (1 to 604800; default 86400, a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 604_800))]
    pub timeout_secs: Option<u64>,
    /// What the approver is asked (at most 500 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub prompt: String,
}

fn operator() -> crate::models::Role {
    crate::models::Role::Operator
}

/// What starts runs besides a person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Cron schedules (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub schedules: Vec<Schedule>,
    /// Follow a branch of the project's repository: each new head commit starts one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitTrigger>,
    /// Accept signed deliveries at `POST /api/v1/hooks/<id>` (the secret is set separately).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub webhook: bool,
}

impl Triggers {
    /// Only manual runs.
    pub fn is_empty(&self) -> bool {
        self.schedules.is_empty() && self.git.is_none() && !self.webhook
    }
}

/// A cron schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Cron expression with 5 or 6 fields (seconds first when 6): `0 30 2 * * *`.
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub cron: String,
    /// IANA time zone the expression is read in (default `UTC`): `Europe/Paris`.
    #[serde(default = "utc", skip_serializing_if = "is_utc")]
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub timezone: String,
    /// Fire times missed while no instance ran: `none` (default), `last` or `all` (capped).
    #[serde(default, skip_serializing_if = "Missed::is_none")]
    pub missed: Missed,
    /// For `all`: the most missed runs started (1 to 100; default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub missed_cap: Option<u32>,
    /// Parameter values for its runs (the others take their defaults).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, ParameterValue>,
}

fn utc() -> String {
    "UTC".into()
}

fn is_utc(s: &str) -> bool {
    s == "UTC"
}

/// What happens to fire times missed while no instance was running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Skip them.
    #[default]
    None,
    /// Run once for the latest of them.
    Last,
    /// Run each of them, oldest first, up to the cap.
    All,
}

impl Missed {
    /// The default.
    pub fn is_none(&self) -> bool {
        *self == Self::None
    }
}

/// Follows a branch of the project's git repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GitTrigger {
    /// The branch (`main`).
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub branch: String,
}

/// What a new run does while another run of the pipeline is active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Concurrency {
    /// Run alongside it (default).
    #[default]
    Allow,
    /// Do not start (the trigger is recorded as skipped).
    Skip,
    /// Wait until it ends.
    Queue,
    /// Cancel it, then start.
    Cancel,
}

impl Concurrency {
    /// The default.
    pub fn is_default(&self) -> bool {
        *self == Self::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_patterns_match_within_one_segment() {
        assert!(branch_matches("main", "main"));
        assert!(!branch_matches("main", "mainline"));
        assert!(branch_matches("release/*", "release/1.2"));
        assert!(!branch_matches("release/*", "release/1/2"));
        assert!(branch_matches("feat-*-x", "feat-abc-x"));
        assert!(!branch_matches("feat-*-x", "feat-x"));
        assert!(branch_matches("*", "anything"));
    }

    #[test]
    fn retries_count_attempts_and_filter_exit_codes() {
        let r = Retry {
            count: 2,
            on_exit_codes: vec![75],
        };
        assert!(r.again(1, Some(75)));
        assert!(r.again(2, Some(75)));
        assert!(!r.again(3, Some(75)), "two retries: three attempts in all");
        assert!(!r.again(1, Some(1)), "another exit code is not retried");
        assert!(!r.again(1, None), "a timeout has no exit code");
        let any = Retry {
            count: 1,
            on_exit_codes: vec![],
        };
        assert!(any.again(1, None));
    }

    #[test]
    fn conditions_filter_by_trigger_and_branch() {
        let c = Condition {
            triggers: vec![TriggerKind::Git],
            branches: vec!["main".into()],
        };
        assert!(c.allows(TriggerKind::Git, Some("main")));
        assert!(!c.allows(TriggerKind::Manual, Some("main")));
        assert!(!c.allows(TriggerKind::Git, None));
        assert!(Condition::default().allows(TriggerKind::Schedule, None));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_definition_reads_from_toml_with_defaults() {
        let text = r#"
            name = "ci"
            concurrency = "skip"
            [[parameters]]
            name = "target"
            type = "choice"
            choices = ["staging", "production"]
            default = "staging"
            [[steps]]
            name = "test"
            command = "cargo test"
            artifacts = ["target/*.xml"]
            retry = { count = 2 }
            [[steps]]
            name = "ship"
            depends_on = ["test"]
            approval = { min_role = "admin", not_triggerer = true }
            [[triggers.schedules]]
            cron = "0 30 2 * * *"
            timezone = "Europe/Paris"
            missed = "last"
        "#;
        let d: PipelineDefinition = match toml::from_str(text) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(d.concurrency, Concurrency::Skip);
        assert_eq!(d.steps[0].cwd, ".");
        assert_eq!(d.steps[0].timeout(), DEFAULT_STEP_TIMEOUT_SECS);
        assert_eq!(
            d.steps[1].approval.as_ref().map(|a| a.min_role),
            Some(crate::models::Role::Admin)
        );
        assert_eq!(d.triggers.schedules[0].missed, Missed::Last);
        assert_eq!(
            d.parameters[0].default,
            Some(ParameterValue::Text("staging".into()))
        );
        let wrong = toml::from_str::<PipelineDefinition>("name = \"x\"\nstep = []\n");
        assert!(wrong.is_err(), "unknown keys are refused");
    }
}
