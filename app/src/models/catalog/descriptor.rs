//! A project's `optimus.toml`: the services, ports and probes it declares, and writing it.

use serde::{Deserialize, Serialize};

/// A service declared in a project's `optimus.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Service name, unique in the project.
    pub name: String,
    /// The command line.
    pub command: String,
    /// Working directory relative to the project root.
    #[serde(default = "dot")]
    pub cwd: String,
    /// The port it listens on: a number, or `"auto"` for one from the registry (`$PORT`).
    #[serde(default)]
    pub port: Option<PortSpec>,
    /// Environment variables.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Services that must be ready first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Must pass once before the others count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<ProbeSpec>,
    /// When the service counts as ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ProbeSpec>,
    /// Failing it restarts the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<ProbeSpec>,
    /// `never`, `on-failure` (default) or `always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Resource ceilings (`memory_mb`, `cpu_percent`, `open_files`).
    #[serde(
        default,
        skip_serializing_if = "crate::models::runtime::ResourceLimits::is_empty"
    )]
    pub limits: crate::models::runtime::ResourceLimits,
    /// Threshold alerts (`[[services.alerts]]` with `metric`, `above`, `for_secs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::models::runtime::AlertRule>,
    /// Where deployments serve it to the public, through `optimus-proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    /// Host names its public port answers for (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_hosts: Vec<String>,
    /// How deployments replace it (`[services.deploy]`: `strategy`, `watch_secs`, …).
    #[serde(
        default,
        skip_serializing_if = "crate::models::deployments::DeployPolicy::is_default"
    )]
    pub deploy: crate::models::deployments::DeployPolicy,
}

impl ServiceSpec {
    /// The fixed port, if the service declares one.
    pub fn fixed_port(&self) -> Option<u16> {
        match self.port {
            Some(PortSpec::Number(p)) => Some(p),
            _ => None,
        }
    }
}

/// A declared port: a number, or a word (only `"auto"` is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PortSpec {
    /// A fixed port.
    Number(u16),
    /// `"auto"`: allocate one.
    Keyword(String),
}

/// A probe as written in `optimus.toml`: exactly one of `http`, `tcp`, `exec`, `log`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// GET this path on the service's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// Connect to the service's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<bool>,
    /// Run this command; exit 0 passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
    /// An output line matching this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The expected HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Text the HTTP body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Milliseconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Milliseconds one check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Failures in a row before it counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

impl ProbeSpec {
    /// How many checks it names (exactly one is valid).
    pub fn kinds(&self) -> usize {
        usize::from(self.http.is_some())
            + usize::from(self.tcp == Some(true))
            + usize::from(self.exec.is_some())
            + usize::from(self.log.is_some())
    }
}

fn dot() -> String {
    ".".into()
}

/// The `optimus.toml` Optimus wrote into a project folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DescriptorWritten {
    /// The file written.
    pub path: String,
    /// Its content.
    pub content: String,
}
