//! What a run starts with: its environment, and the spec recorded with it (compared with the
//! current definition to tell what a restart would change).

use crate::models::runtime::{ResourceLimits, ServiceDefinition};
use crate::server::catalog::Project;
use crate::server::environments::Resolved;
use crate::server::runtime::entities::service;
use crate::server::runtime::ports;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The environment a run gets: Optimus's own (without its `OPTIMUS_*` settings), the ports of
/// the project's services as `<NAME>_PORT`, the active environment's variables, the service's
/// own variables, then `PORT`.
pub(super) fn environment(
    project: &Project,
    def: &ServiceDefinition,
    port: Option<u16>,
    siblings: &[service::Model],
    active: &Resolved,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("OPTIMUS_"))
        .collect();
    for s in siblings {
        if let (Some(p), _) = ports::held_port(s) {
            env.insert(
                port_var(crate::server::runtime::repo::services::base_name(s)),
                p.to_string(),
            );
        }
    }
    env.extend(active.vars.clone());
    env.extend(def.env.clone());
    if let Some(p) = port {
        env.insert("PORT".into(), p.to_string());
        env.insert(port_var(&def.name), p.to_string());
    }
    env.insert("OPTIMUS_SERVICE".into(), def.name.clone());
    env.insert("OPTIMUS_PROJECT".into(), project.name.clone());
    env
}

/// `web-api` → `WEB_API_PORT`.
pub fn port_var(name: &str) -> String {
    let mut v: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    v.push_str("_PORT");
    v
}

/// What a run starts with: compared with the current definition and environment to tell what a
/// restart would change. Secret values appear only as a hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunSpec {
    /// The command line.
    pub command: String,
    /// The folder, relative to the project.
    pub cwd: String,
    /// The port.
    pub port: Option<u16>,
    /// Variables from the environment and the definition.
    pub env: BTreeMap<String, String>,
    /// Resource ceilings.
    #[serde(default, skip_serializing_if = "ResourceLimits::is_empty")]
    pub limits: ResourceLimits,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spec of a run of `def` with `port` in the environment `resolved`.
pub fn run_spec(def: &ServiceDefinition, port: Option<u16>, resolved: &Resolved) -> RunSpec {
    let mut env = BTreeMap::new();
    for (k, v) in &resolved.vars {
        let shown = if resolved.secret_keys.contains(k) {
            format!("secret:{}", &hex(&Sha256::digest(v.as_bytes()))[..16])
        } else {
            v.clone()
        };
        env.insert(k.clone(), shown);
    }
    env.extend(def.env.clone());
    RunSpec {
        command: def.command.clone(),
        cwd: def.cwd.clone(),
        port,
        env,
        limits: def.limits.clone(),
    }
}

/// A hash of a spec.
pub fn spec_hash(spec: &RunSpec) -> String {
    hex(&Sha256::digest(
        serde_json::to_vec(spec).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_name_becomes_its_port_variable() {
        assert_eq!(port_var("web-api"), "WEB_API_PORT");
        assert_eq!(port_var("db.2"), "DB_2_PORT");
    }

    #[test]
    fn a_secret_value_appears_in_the_spec_only_as_a_hash() {
        let resolved = Resolved {
            vars: BTreeMap::from([
                ("TOKEN".to_owned(), "hunter2".to_owned()),
                ("MODE".to_owned(), "dev".to_owned()),
            ]),
            secret_keys: vec!["TOKEN".into()],
        };
        let def = ServiceDefinition::new("web", "serve");
        let spec = run_spec(&def, Some(8080), &resolved);
        assert_eq!(spec.env.get("MODE").map(String::as_str), Some("dev"));
        let token = spec.env.get("TOKEN").cloned().unwrap_or_default();
        assert!(
            token.starts_with("secret:") && !token.contains("hunter2"),
            "{token}"
        );
        assert_ne!(
            spec_hash(&spec),
            spec_hash(&run_spec(&def, Some(8081), &resolved))
        );
    }
}
