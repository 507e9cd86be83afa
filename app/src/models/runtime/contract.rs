//! The script contract API (`runtime/start`, `runtime/stop`, `runtime/status`, `runtime/logs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LogStream, ServiceState};

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
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 5000))]
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
