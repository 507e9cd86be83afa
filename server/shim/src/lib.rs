//! The log shim and what it needs, kept apart from the server so the `optimus-shim` binary stays
//! small: process facts from `/proc` ([`proc`]), resource limits ([`limits`]), the run-log line
//! format ([`log`]) and the shim itself ([`shim`]). The server uses the same modules.

pub mod limits;
pub mod log;
pub mod proc;
pub mod shim;

use serde::{Deserialize, Serialize};

/// Ceilings on a run's resources, as the shim receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory of the whole tree, MiB.
    #[serde(default)]
    pub memory_mb: Option<u64>,
    /// CPU of the whole tree; 100 is one core.
    #[serde(default)]
    pub cpu_percent: Option<u32>,
    /// Open files per process.
    #[serde(default)]
    pub open_files: Option<u64>,
}

impl Limits {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.memory_mb.is_none() && self.cpu_percent.is_none() && self.open_files.is_none()
    }
}

/// How one limit of a run is enforced (the server reads it as its `LimitEnforcement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// `memory`, `cpu` or `open_files`.
    pub limit: String,
    /// The value asked for.
    pub value: u64,
    /// `cgroup v2`, `cgroup v1`, `rlimit` or `not enforced`.
    pub method: String,
    /// Where, or why not.
    pub detail: Option<String>,
}
