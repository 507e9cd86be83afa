//! Health probes: what a probe checks, its timing, and the three a service may have.

use serde::{Deserialize, Serialize};

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
