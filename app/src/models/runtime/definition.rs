//! Service definitions (what to run and how) and the requests that create, change and name them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{AlertRule, Probes, ResourceLimits, RestartPolicy};
use crate::models::deployments::DeployPolicy;

/// Where a service definition came from.
pub const SERVICE_ORIGINS: [&str; 3] = ["detected", "descriptor", "user"];

/// A service as defined (what to run and how).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceDefinition {
    /// Name, unique in the project (another service of that name: 409): 1–40 of
    /// `a-z 0-9 - _`, starting with a letter or digit.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z0-9][a-z0-9_-]{0,39}$"))]
    pub name: String,
    /// The command line, run by `sh -c` in its own process group: at most 4000 characters, not
    /// only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 4000,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub command: String,
    /// Working directory, relative to the project folder (default `.`): at most 500
    /// characters, not starting with `/`, no `..` segment.
    #[serde(default = "dot")]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 500,
            pattern = r"^((\.|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)(/(\.?|[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+))*)?$"
        )
    )]
    pub cwd: String,
    /// A fixed port, passed as `PORT` (1–65535; together with `allocate_port`: 422).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub port: Option<u16>,
    /// Allocate a free port from the registry instead (kept for the service from then on).
    #[serde(default)]
    pub allocate_port: bool,
    /// Environment variables added to the user's environment: at most 200; names are letters,
    /// digits and `_`, not starting with a digit (at most 128); values at most 32768 characters
    /// without a NUL.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::models::wire::env_vars))]
    pub env: BTreeMap<String, String>,
    /// Services of the same project that must be ready first (at most 50; itself, a name the
    /// project lacks, or a cycle: 422).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub depends_on: Vec<String>,
    /// Health probes.
    #[serde(default)]
    pub probes: Probes,
    /// Restart policy.
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Time between SIGTERM and SIGKILL on stop, in milliseconds (at most 300000, default
    /// 5000).
    #[serde(default = "grace")]
    #[cfg_attr(feature = "ssr", schema(maximum = 300_000))]
    pub grace_ms: u64,
    /// Ceilings on the whole process tree, enforced where the OS allows.
    #[serde(default)]
    pub limits: ResourceLimits,
    /// Threshold alerts: a notification when a resource stays above a level (at most 10).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub alerts: Vec<AlertRule>,
    /// Where deployments serve it to the public through `optimus-proxy` (1–65535; needs a
    /// port or `allocate_port`, and no other service of any project may use it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub public_port: Option<u16>,
    /// Host names its public port answers for, lower case without a port (at most 20; empty:
    /// any host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub public_hosts: Vec<String>,
    /// How deployments replace it.
    #[serde(default, skip_serializing_if = "DeployPolicy::is_default")]
    pub deploy: DeployPolicy,
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
            public_port: None,
            public_hosts: Vec::new(),
            deploy: DeployPolicy::default(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::runtime::RestartMode;

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
}
