//! A service's life: its state, its runs, the service as shown, and the ports it holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LimitEnforcement, ServiceDefinition};

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
    /// Output the log could not keep (a full disk, a file-size limit), once there was any.
    #[serde(default)]
    pub log_trouble: Option<LogTrouble>,
    /// The Optimus instance that started or adopted it (its id, as its `/readyz` gives it).
    #[serde(default)]
    pub owner: Option<String>,
}

/// Output of a run that its log could not keep. The service is not stopped for it: its output
/// is still read (it never blocks on a full pipe), but the lost lines are gone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogTrouble {
    /// Lines lost so far.
    pub lost_lines: u64,
    /// Their size in bytes.
    pub lost_bytes: u64,
    /// The write error while writing fails (`No space left on device`); none once lines are
    /// written again.
    pub error: Option<String>,
    /// When writing first failed.
    pub since: Option<DateTime<Utc>>,
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

/// Service runs of a service, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunsQuery {
    /// The service.
    pub id: i64,
    /// At most this many (1–100, default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
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
