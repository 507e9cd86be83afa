//! The runtime: a project's services, their runs, probes, restart policies and logs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProbeCheck {
    /// An HTTP GET to the service's port.
    Http {
        /// Request path, e.g. `/healthz`.
        #[serde(default = "slash")]
        path: String,
        /// The expected status (default: any 2xx or 3xx).
        #[serde(default)]
        status: Option<u16>,
        /// Text the body must contain.
        #[serde(default)]
        body: Option<String>,
    },
    /// A TCP connection to the service's port.
    Tcp,
    /// A command run in the service's folder; exit status 0 passes.
    Exec {
        /// The command line (run by `sh -c`).
        command: String,
    },
    /// A line of the service's output matching a regular expression.
    LogLine {
        /// The pattern.
        pattern: String,
    },
}

fn slash() -> String {
    "/".into()
}

/// A probe and its timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Probe {
    /// What it checks.
    pub check: ProbeCheck,
    /// Time between checks, in milliseconds (default 1000).
    #[serde(default = "probe_interval")]
    pub interval_ms: u64,
    /// Time one check may take (default 1000).
    #[serde(default = "probe_interval")]
    pub timeout_ms: u64,
    /// Consecutive failures before the probe counts as failed (default 3).
    #[serde(default = "three")]
    pub failure_threshold: u32,
}

fn probe_interval() -> u64 {
    1000
}

fn three() -> u32 {
    3
}

/// A service's probes (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// Must pass once before the others start; failing it (after the threshold) fails the run.
    #[serde(default)]
    pub startup: Option<Probe>,
    /// Decides when the service counts as ready (dependents wait for it).
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// Failing it restarts the service per its policy.
    #[serde(default)]
    pub liveness: Option<Probe>,
}

/// When a service that ended is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    /// Never.
    Never,
    /// When it exits with a non-zero status, is killed by a signal, or fails its liveness probe.
    #[default]
    OnFailure,
    /// Whenever it ends, unless a user stopped it.
    Always,
}

impl RestartMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartMode::Never => "never",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Always => "always",
        }
    }
}

/// Restart policy: mode, retry budget and exponential backoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    /// When to restart.
    #[serde(default)]
    pub mode: RestartMode,
    /// Restarts in a row (without a stable run in between) before the service is left in
    /// `crash_loop` (default 5).
    #[serde(default = "five")]
    pub max_retries: u32,
    /// The first delay; each further retry doubles it (default 500 ms).
    #[serde(default = "half_second")]
    pub backoff_ms: u64,
    /// The longest delay (default 30 s).
    #[serde(default = "thirty_seconds")]
    pub max_backoff_ms: u64,
}

fn five() -> u32 {
    5
}

fn half_second() -> u64 {
    500
}

fn thirty_seconds() -> u64 {
    30_000
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::OnFailure,
            max_retries: five(),
            backoff_ms: half_second(),
            max_backoff_ms: thirty_seconds(),
        }
    }
}

impl RestartPolicy {
    /// Whether a run that ended (as a failure or not) is started again.
    pub fn restarts_after(&self, failure: bool) -> bool {
        match self.mode {
            RestartMode::Never => false,
            RestartMode::OnFailure => failure,
            RestartMode::Always => true,
        }
    }

    /// The delay before restart number `attempt` (1-based): `backoff · 2^(attempt-1)`, capped.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let factor = 1u64
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.backoff_ms
            .saturating_mul(factor)
            .min(self.max_backoff_ms)
    }
}

/// Where a service definition came from.
pub const SERVICE_ORIGINS: [&str; 3] = ["detected", "descriptor", "user"];

/// A service as defined (what to run and how).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceDefinition {
    /// Name, unique in the project: 1–40 of `a-z 0-9 - _`.
    pub name: String,
    /// The command line, run by `sh -c` in its own process group.
    pub command: String,
    /// Working directory, relative to the project folder (default `.`).
    #[serde(default = "dot")]
    pub cwd: String,
    /// A fixed port, passed as `PORT`.
    #[serde(default)]
    pub port: Option<u16>,
    /// Allocate a free port from the registry instead (kept for the service from then on).
    #[serde(default)]
    pub allocate_port: bool,
    /// Environment variables added to the user's environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Services of the same project that must be ready first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Health probes.
    #[serde(default)]
    pub probes: Probes,
    /// Restart policy.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Time between SIGTERM and SIGKILL on stop, in milliseconds (default 5000).
    #[serde(default = "grace")]
    pub grace_ms: u64,
    /// Ceilings on the whole process tree, enforced where the OS allows.
    #[serde(default)]
    pub limits: ResourceLimits,
    /// Threshold alerts: a notification when a resource stays above a level.
    #[serde(default)]
    pub alerts: Vec<AlertRule>,
}

/// Ceilings on a service's resources. Each is enforced by the best means the machine allows:
/// a cgroup (v2, else v1) when Optimus may create one, else a resource limit (rlimit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    /// Memory of the whole tree, in MiB (16–1048576). Without a cgroup: the address space of
    /// each process (`ulimit -v`), which programs that reserve much virtual memory may dislike.
    #[serde(default)]
    pub memory_mb: Option<u64>,
    /// CPU of the whole tree; 100 is one core (1–25600). Needs a cgroup.
    #[serde(default)]
    pub cpu_percent: Option<u32>,
    /// Open files per process (16–1048576), as `ulimit -n`.
    #[serde(default)]
    pub open_files: Option<u64>,
}

impl ResourceLimits {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.memory_mb.is_none() && self.cpu_percent.is_none() && self.open_files.is_none()
    }

    /// Checks the ranges; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let within = |v: u64, lo: u64, hi: u64| (lo..=hi).contains(&v);
        if let Some(m) = self.memory_mb.filter(|m| !within(*m, 16, 1_048_576)) {
            return Err((
                "limits.memory_mb",
                format!("must be 16–1048576 MiB, not {m}"),
            ));
        }
        if let Some(c) = self
            .cpu_percent
            .filter(|c| !within(u64::from(*c), 1, 25_600))
        {
            return Err((
                "limits.cpu_percent",
                format!("must be 1–25600 (100 is one core), not {c}"),
            ));
        }
        if let Some(n) = self.open_files.filter(|n| !within(*n, 16, 1_048_576)) {
            return Err(("limits.open_files", format!("must be 16–1048576, not {n}")));
        }
        Ok(())
    }
}

/// How one limit of a run is enforced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LimitEnforcement {
    /// `memory`, `cpu` or `open_files`.
    pub limit: String,
    /// The value asked for (MiB, percent of a core, files).
    pub value: u64,
    /// `cgroup v2`, `cgroup v1`, `rlimit` or `not enforced`.
    pub method: String,
    /// Why it is not enforced, or how (e.g. `address space per process`).
    pub detail: Option<String>,
}

/// A resource an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// CPU of the whole tree; 100 is one core.
    Cpu,
    /// Resident memory of the whole tree, in MiB.
    Memory,
}

impl AlertMetric {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertMetric::Cpu => "cpu",
            AlertMetric::Memory => "memory",
        }
    }

    /// The unit of `above`.
    pub fn unit(self) -> &'static str {
        match self {
            AlertMetric::Cpu => "%",
            AlertMetric::Memory => " MiB",
        }
    }

    /// The sample's value in this metric's unit.
    pub fn of(self, sample: &ResourceSample) -> f64 {
        match self {
            AlertMetric::Cpu => sample.cpu_percent,
            AlertMetric::Memory => sample.rss_bytes as f64 / 1_048_576.0,
        }
    }
}

/// "Notify when `metric` stays above `above` for `for_secs` seconds."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// What is watched.
    pub metric: AlertMetric,
    /// The threshold (percent of a core for `cpu`, MiB for `memory`).
    pub above: f64,
    /// How long it must stay above before the alert fires (default 30 s; 0 fires at once).
    #[serde(default = "thirty")]
    pub for_secs: u64,
}

fn thirty() -> u64 {
    30
}

impl Eq for AlertRule {}

impl AlertRule {
    /// Checks the rule; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !self.above.is_finite() || self.above < 0.0 {
            return Err(("alerts.above", "must be a number of at least 0".to_owned()));
        }
        if self.for_secs > 86_400 {
            return Err((
                "alerts.for_secs",
                "must be at most 86400 (a day)".to_owned(),
            ));
        }
        Ok(())
    }

    /// The rule in words: `memory above 512 MiB for 30 s`.
    pub fn describe(&self) -> String {
        format!(
            "{} above {}{} for {} s",
            self.metric.as_str(),
            self.above,
            self.metric.unit(),
            self.for_secs
        )
    }
}

fn dot() -> String {
    ".".into()
}

fn grace() -> u64 {
    5000
}

impl ServiceDefinition {
    /// A service running `command` in the project folder, with every other setting at its
    /// default (no port, no probes, restart on failure, 5 s grace, no limits or alerts).
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            command: command.into(),
            cwd: dot(),
            port: None,
            allocate_port: false,
            env: BTreeMap::new(),
            depends_on: Vec::new(),
            probes: Probes::default(),
            restart: RestartPolicy::default(),
            grace_ms: grace(),
            limits: ResourceLimits::default(),
            alerts: Vec::new(),
        }
    }
}

/// The life of a service, as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Not running (never started, or stopped by a user).
    #[default]
    Stopped,
    /// Waiting for dependencies to become ready.
    Waiting,
    /// Running, not yet ready (startup or readiness probe pending).
    Starting,
    /// Running and ready.
    Ready,
    /// Running, but its readiness probe fails.
    Unhealthy,
    /// Being stopped.
    Stopping,
    /// Ended on its own with status 0.
    Exited,
    /// Ended with a non-zero status or a signal, or could not start.
    Failed,
    /// Waiting to be restarted.
    Backoff,
    /// Restarted too often in a row; left stopped until a user starts it.
    CrashLoop,
}

impl ServiceState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Stopped => "stopped",
            ServiceState::Waiting => "waiting",
            ServiceState::Starting => "starting",
            ServiceState::Ready => "ready",
            ServiceState::Unhealthy => "unhealthy",
            ServiceState::Stopping => "stopping",
            ServiceState::Exited => "exited",
            ServiceState::Failed => "failed",
            ServiceState::Backoff => "backoff",
            ServiceState::CrashLoop => "crash_loop",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        use ServiceState::*;
        [
            Stopped, Waiting, Starting, Ready, Unhealthy, Stopping, Exited, Failed, Backoff,
            CrashLoop,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether a process of the service is (or may be) alive.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ServiceState::Starting
                | ServiceState::Ready
                | ServiceState::Unhealthy
                | ServiceState::Stopping
        )
    }

    /// Whether the supervisor is still responsible for it (live, waiting or about to restart).
    pub fn is_active(self) -> bool {
        self.is_live() || matches!(self, ServiceState::Waiting | ServiceState::Backoff)
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunInfo {
    /// Run id.
    pub id: i64,
    /// The service.
    pub service_id: i64,
    /// Restart number within the current streak (0 for a start by a user).
    pub attempt: u32,
    /// Main process id.
    pub pid: Option<u32>,
    /// The port it was given.
    pub port: Option<u16>,
    /// When it was started.
    pub started_at: DateTime<Utc>,
    /// When it became ready.
    pub ready_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Exit status, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Why it ended, in words (`stopped by owner`, `exited with status 1`, `liveness failed`, …).
    pub reason: Option<String>,
    /// How each of the service's limits was enforced for this run.
    #[serde(default)]
    pub limits: Vec<LimitEnforcement>,
}

/// A service with its definition and current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceInfo {
    /// Service id.
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// `detected`, `descriptor` or `user`.
    pub origin: String,
    /// What to run and how.
    pub definition: ServiceDefinition,
    /// Current state.
    pub state: ServiceState,
    /// The state in words (why it failed, which dependency it waits for, …).
    pub message: Option<String>,
    /// The port the current or next run gets.
    pub port: Option<u16>,
    /// Restarts in the current streak.
    pub restarts: u32,
    /// The latest run.
    pub last_run: Option<RunInfo>,
    /// Environment changed since the running process started; applies on the next restart.
    pub pending_changes: bool,
}

/// Asks for a project's services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectServicesRequest {
    /// The project.
    pub project_id: i64,
}

/// Adds a service to a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateServiceRequest {
    /// The project.
    pub project_id: i64,
    /// The service.
    pub definition: ServiceDefinition,
}

/// Replaces a service's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateServiceRequest {
    /// The service.
    pub id: i64,
    /// Its new definition.
    pub definition: ServiceDefinition,
}

/// Acts on one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceRequest {
    /// The service.
    pub id: i64,
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a service's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// The service.
    pub service_id: i64,
    /// The run.
    pub run_id: i64,
    /// Position in the run's log (increasing).
    pub seq: u64,
    /// When it was read.
    pub at: DateTime<Utc>,
    /// Which stream.
    pub stream: LogStream,
    /// The text (ANSI colour codes kept; `\r` progress collapsed; known secrets masked).
    pub text: String,
}

/// Asks for log history, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogQuery {
    /// Services whose lines are merged into one time-ordered view (1–20).
    pub service_ids: Vec<i64>,
    /// `stdout`, `stderr` or absent for both.
    #[serde(default)]
    pub stream: Option<LogStream>,
    /// Only lines containing this text (case-insensitive), or matching it when `regex` is set.
    #[serde(default)]
    pub search: Option<String>,
    /// Treat `search` as a regular expression.
    #[serde(default)]
    pub regex: bool,
    /// At most this many lines (1–5000, default 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Service runs of a service, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunsQuery {
    /// The service.
    pub id: i64,
    /// At most this many (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A port held in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortEntry {
    /// The port.
    pub port: u16,
    /// The service holding it.
    pub service_id: i64,
    /// Its name.
    pub service: String,
    /// Its project.
    pub project_id: i64,
    /// Whether it was allocated (true) or fixed in the definition.
    pub allocated: bool,
    /// Whether the service is running.
    pub live: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RestartPolicy {
            backoff_ms: 100,
            max_backoff_ms: 1000,
            ..Default::default()
        };
        assert_eq!(p.delay_ms(1), 100);
        assert_eq!(p.delay_ms(2), 200);
        assert_eq!(p.delay_ms(4), 800);
        assert_eq!(p.delay_ms(5), 1000);
        assert_eq!(p.delay_ms(200), 1000);
    }

    #[test]
    fn definitions_fill_defaults_and_refuse_unknown_probe_fields() {
        let d: Result<ServiceDefinition, _> = serde_json::from_str(
            r#"{"name":"web","command":"npm start","probes":{"readiness":{"check":{"kind":"http","path":"/health"}}}}"#,
        );
        assert!(d.is_ok(), "{d:?}");
        let Ok(d) = d else { return };
        assert_eq!(d.cwd, ".");
        assert_eq!(d.grace_ms, 5000);
        assert_eq!(d.restart.mode, RestartMode::OnFailure);
        assert_eq!(d.probes.readiness.map(|r| r.failure_threshold), Some(3));
        assert!(serde_json::from_str::<Probes>(r#"{"ready":{}}"#).is_err());
    }

    #[test]
    fn states_round_trip() {
        for s in [
            ServiceState::Ready,
            ServiceState::CrashLoop,
            ServiceState::Stopped,
        ] {
            assert_eq!(ServiceState::parse(s.as_str()), Some(s));
        }
        assert!(ServiceState::Ready.is_live());
        assert!(!ServiceState::CrashLoop.is_active());
    }
}

/// One service's whole process tree at one moment, or averaged over a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceSample {
    /// The service.
    pub service_id: i64,
    /// Its project.
    pub project_id: i64,
    /// The service's name.
    #[serde(default)]
    pub name: String,
    /// When (a bucket's start for averages).
    pub at: DateTime<Utc>,
    /// CPU use; 100 is one core busy.
    pub cpu_percent: f64,
    /// Resident memory.
    pub rss_bytes: u64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub open_files: u64,
    /// Storage reads per second.
    pub read_bps: f64,
    /// Storage writes per second.
    pub write_bps: f64,
}

/// The machine's totals at one moment, or averaged over a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostSample {
    /// When.
    pub at: DateTime<Utc>,
    /// CPU use of the whole machine, 0–100.
    pub cpu_percent: f64,
    /// CPU cores.
    pub cpus: u32,
    /// Memory in use (total minus available).
    pub memory_used_bytes: u64,
    /// Memory in all.
    pub memory_total_bytes: u64,
    /// One-minute load average.
    pub load_1m: f64,
    /// Network bytes received per second (all interfaces but loopback).
    pub net_rx_bps: f64,
    /// Network bytes sent per second.
    pub net_tx_bps: f64,
}

/// A time range for charts: `15m`, `1h`, `6h`, `24h`, `7d`, `30d` or `90d`.
pub const RANGES: [&str; 7] = ["15m", "1h", "6h", "24h", "7d", "30d", "90d"];

/// Asks for resource history of services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricsQuery {
    /// Services (1–50); several overlay on one chart.
    pub service_ids: Vec<i64>,
    /// See [`RANGES`] (default `1h`).
    #[serde(default)]
    pub range: Option<String>,
}

/// Asks for the host's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostMetricsQuery {
    /// See [`RANGES`] (default `1h`).
    #[serde(default)]
    pub range: Option<String>,
}

/// The contract API's project-level request (`runtime/start`, `runtime/stop`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeRequest {
    /// The project.
    pub project_id: i64,
    /// One service by name; absent means every service of the project.
    #[serde(default)]
    pub service: Option<String>,
}

/// Asks for a project's runtime status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeStatusRequest {
    /// The project.
    pub project_id: i64,
}

/// One service in the runtime status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeService {
    /// Its name.
    pub name: String,
    /// `starting`, `running`, `ready`, `stopping`, `stopped`, `crashed` or `crash_loop`.
    pub state: String,
    /// Main process id while it runs.
    pub pid: Option<u32>,
    /// Its port.
    pub port: Option<u16>,
    /// Restarts in the current streak.
    pub restarts: u32,
}

/// A project's services and their state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeStatus {
    /// By name.
    pub services: Vec<RuntimeService>,
}

/// Asks for the last lines of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeLogsRequest {
    /// The project.
    pub project_id: i64,
    /// The service's name.
    pub service: String,
    /// How many of the newest lines (1–5000, default 100).
    #[serde(default)]
    pub tail: Option<u32>,
}

/// One line in the contract's log shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeLogLine {
    /// `stdout` or `stderr`.
    pub stream: LogStream,
    /// The text.
    pub text: String,
    /// When.
    pub ts: DateTime<Utc>,
}

/// The newest lines of a service, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeLogs {
    /// The lines.
    pub lines: Vec<RuntimeLogLine>,
}

/// Asks for per-project service counts (`services/summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeSummaryQuery {
    /// Only these projects (at most 1000); absent means every project.
    // Left out rather than sent as `null` when absent: the API guard types an optional list as
    // an array only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_ids: Option<Vec<i64>>,
}

/// One project's services at a glance, as the project cards show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectRuntimeSummary {
    /// The project.
    pub project_id: i64,
    /// Services it defines.
    pub total: u32,
    /// Of which a process is alive (starting, ready, unhealthy or stopping).
    pub running: u32,
    /// Of which restarted too often in a row and were left stopped.
    pub crash_looping: u32,
}

impl ServiceState {
    /// The coarser state of the `runtime/status` contract.
    pub fn contract_name(self) -> &'static str {
        match self {
            ServiceState::Waiting | ServiceState::Starting => "starting",
            ServiceState::Ready => "ready",
            ServiceState::Unhealthy => "running",
            ServiceState::Stopping => "stopping",
            ServiceState::Stopped | ServiceState::Exited => "stopped",
            ServiceState::Failed | ServiceState::Backoff => "crashed",
            ServiceState::CrashLoop => "crash_loop",
        }
    }
}
