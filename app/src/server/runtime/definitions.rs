//! Checks a service definition field by field, naming the field at fault.

use crate::error::AppError;
use crate::models::deployments::DeployTarget;
use crate::models::runtime::{Probe, ProbeCheck, ServiceDefinition};
use crate::server::runtime::entities::service;
use crate::server::runtime::repo;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

pub(super) fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

/// A 422: a rule the API document cannot state (across fields, or against other services).
fn refused(field: &str, message: impl Into<String>) -> AppError {
    AppError::unprocessable(field, message)
}

fn check_probe(field: &str, p: &Probe, has_port: bool) -> Result<(), AppError> {
    if !(50..=3_600_000).contains(&p.interval_ms) {
        return Err(bad(field, "interval_ms must be between 50 and 3600000"));
    }
    if !(10..=60_000).contains(&p.timeout_ms) {
        return Err(bad(field, "timeout_ms must be between 10 and 60000"));
    }
    if !(1..=100).contains(&p.failure_threshold) {
        return Err(bad(field, "failure_threshold must be between 1 and 100"));
    }
    match &p.check {
        ProbeCheck::Http { path, status, body } => {
            if !has_port {
                return Err(refused(
                    field,
                    "an http probe needs a port (set one or allocate one)",
                ));
            }
            if !path.starts_with('/')
                || path.chars().count() > 500
                || path.chars().any(char::is_whitespace)
            {
                return Err(bad(
                    field,
                    "the http path must start with / and hold no spaces",
                ));
            }
            if status.is_some_and(|s| !(100..=599).contains(&s)) {
                return Err(bad(
                    field,
                    "the expected status must be between 100 and 599",
                ));
            }
            if body.as_ref().is_some_and(|b| b.chars().count() > 1000) {
                return Err(bad(
                    field,
                    "the expected body text must be at most 1000 characters",
                ));
            }
        }
        ProbeCheck::Tcp => {
            if !has_port {
                return Err(refused(
                    field,
                    "a tcp probe needs a port (set one or allocate one)",
                ));
            }
        }
        ProbeCheck::Exec { command } => {
            if command.trim().is_empty() || command.chars().count() > 4000 {
                return Err(bad(
                    field,
                    "the exec command must have 1 to 4000 characters",
                ));
            }
        }
        ProbeCheck::LogLine { pattern } => {
            if pattern.is_empty() || pattern.chars().count() > 500 {
                return Err(bad(field, "the pattern must have 1 to 500 characters"));
            }
            regex::Regex::new(pattern).map_err(|e| {
                refused(
                    field,
                    format!("the pattern is not a valid regular expression: {e}"),
                )
            })?;
        }
    }
    Ok(())
}

/// Checks a definition on its own (names, paths, numbers, probes).
pub fn check_definition(d: &ServiceDefinition) -> Result<(), AppError> {
    if !crate::models::names::is_slug(&d.name, 40) {
        return Err(bad(
            "name",
            "must be 1 to 40 of a-z 0-9 - _, starting with a letter or digit",
        ));
    }
    if d.command.trim().is_empty() || d.command.chars().count() > 4000 {
        return Err(bad("command", "must have 1 to 4000 characters"));
    }
    let cwd = Path::new(&d.cwd);
    if d.cwd.chars().count() > 500
        || cwd.is_absolute()
        || cwd.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        })
    {
        return Err(bad(
            "cwd",
            "must be a folder inside the project (relative, no ..)",
        ));
    }
    if d.port.is_some() && d.allocate_port {
        return Err(refused("port", "set a port or allocate_port, not both"));
    }
    if d.port == Some(0) {
        return Err(bad("port", "must be between 1 and 65535"));
    }
    if d.env.len() > 200 {
        return Err(bad("env", "at most 200 variables"));
    }
    for (k, v) in &d.env {
        // The same rules as an environment's variables.
        if !crate::server::environments::valid_key(k) {
            return Err(bad("env", format!("`{k}` is not a valid variable name")));
        }
        if !crate::server::environments::valid_value(v) {
            return Err(bad(
                "env",
                format!("the value of `{k}` is too long or holds a NUL"),
            ));
        }
    }
    if d.depends_on.len() > 50 {
        return Err(bad("depends_on", "at most 50 services"));
    }
    if d.depends_on.contains(&d.name) {
        return Err(refused("depends_on", "a service cannot depend on itself"));
    }
    let has_port = d.port.is_some() || d.allocate_port;
    for (field, p) in [
        ("probes.startup", &d.probes.startup),
        ("probes.readiness", &d.probes.readiness),
        ("probes.liveness", &d.probes.liveness),
    ] {
        if let Some(p) = p {
            check_probe(field, p, has_port).map_err(|e| match e {
                AppError::Validation { message, .. } => {
                    bad("probes", format!("{field}: {message}"))
                }
                AppError::Unprocessable { message, .. } => {
                    refused("probes", format!("{field}: {message}"))
                }
                other => other,
            })?;
        }
    }
    let r = &d.restart;
    if r.max_retries > 100 {
        return Err(bad("restart", "max_retries must be at most 100"));
    }
    if !(10..=3_600_000).contains(&r.backoff_ms) || !(10..=3_600_000).contains(&r.max_backoff_ms) {
        return Err(bad(
            "restart",
            "backoff_ms and max_backoff_ms must be 10–3600000",
        ));
    }
    if r.max_backoff_ms < r.backoff_ms {
        return Err(refused(
            "restart",
            "max_backoff_ms must be at least backoff_ms",
        ));
    }
    if d.grace_ms > 300_000 {
        return Err(bad("grace_ms", "must be at most 300000 (5 minutes)"));
    }
    d.limits
        .check()
        .map_err(|(field, message)| bad(field, message))?;
    if d.alerts.len() > 10 {
        return Err(bad("alerts", "at most 10 alerts per service"));
    }
    for a in &d.alerts {
        a.check().map_err(|(field, message)| bad(field, message))?;
    }
    check_public(d, has_port)?;
    d.deploy
        .check()
        .map_err(|(field, message)| bad(&format!("deploy.{field}"), message))?;
    d.deploy
        .check_rules()
        .map_err(|(field, message)| refused(&format!("deploy.{field}"), message))?;
    if d.deploy.target == DeployTarget::Docker && !has_port && d.deploy.container_port.is_none() {
        return Err(refused(
            "deploy.target",
            "a docker target needs a port to publish: set port, allocate_port or deploy.container_port",
        ));
    }
    Ok(())
}

/// The public side of a service: a public port needs a port to forward to, and its host names
/// are plain lower-case names.
fn check_public(d: &ServiceDefinition, has_port: bool) -> Result<(), AppError> {
    if d.public_port == Some(0) {
        return Err(bad("public_port", "must be between 1 and 65535"));
    }
    if d.public_port.is_some() && !has_port {
        return Err(refused(
            "public_port",
            "the service needs a port (or allocate_port) for the proxy to forward to",
        ));
    }
    if d.public_port.is_some() && d.public_port == d.port {
        return Err(refused(
            "public_port",
            "must differ from the service's own port (the proxy listens on it)",
        ));
    }
    if d.public_hosts.len() > 20 {
        return Err(bad("public_hosts", "at most 20 host names"));
    }
    for h in &d.public_hosts {
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        if !ok {
            return Err(refused(
                "public_hosts",
                format!("`{h}` is not a host name in lower case without a port"),
            ));
        }
    }
    if !d.public_hosts.is_empty() && d.public_port.is_none() {
        return Err(refused("public_hosts", "set public_port too"));
    }
    Ok(())
}

/// Checks `depends_on` against the project's other services: names exist, no cycle.
pub(super) fn check_dependencies(
    def: &ServiceDefinition,
    own_id: Option<i64>,
    siblings: &[service::Model],
) -> Result<(), AppError> {
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for s in siblings.iter().filter(|s| Some(s.id) != own_id) {
        let depends_on = repo::services::definition(s)
            .map_err(|e| AppError::conflict(format!("{e}; fix or delete that service first")))?
            .depends_on;
        graph.insert(s.name.clone(), depends_on);
    }
    if graph.contains_key(&def.name) {
        return Err(AppError::conflict(format!(
            "the project already has a service named `{}`",
            def.name
        )));
    }
    for d in &def.depends_on {
        if !graph.contains_key(d) {
            return Err(refused(
                "depends_on",
                format!("no service `{d}` in this project"),
            ));
        }
    }
    graph.insert(def.name.clone(), def.depends_on.clone());
    // A path from any dependency back to this service closes a cycle.
    let mut stack: Vec<String> = def.depends_on.clone();
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == def.name {
            return Err(refused("depends_on", "this would close a dependency cycle"));
        }
        if seen.insert(n.clone()) {
            stack.extend(graph.get(&n).cloned().unwrap_or_default());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str) -> ServiceDefinition {
        ServiceDefinition::new(name, "true")
    }

    /// The field at fault, with the status it is refused with (400 or 422).
    fn refusal(r: Result<(), AppError>) -> Option<(String, u16)> {
        let e = r.err()?;
        let status = e.status();
        match e {
            AppError::Validation { field, .. } | AppError::Unprocessable { field, .. } => {
                Some((field, status))
            }
            _ => None,
        }
    }

    fn field(r: Result<(), AppError>) -> Option<String> {
        refusal(r).map(|(field, _)| field)
    }

    fn status(r: Result<(), AppError>) -> Option<u16> {
        refusal(r).map(|(_, status)| status)
    }

    #[test]
    fn definitions_are_checked_field_by_field() {
        assert_eq!(field(check_definition(&def("web"))), None);
        assert_eq!(
            field(check_definition(&def("Web App"))).as_deref(),
            Some("name")
        );
        let mut d = def("web");
        d.cwd = "../elsewhere".into();
        assert_eq!(field(check_definition(&d)).as_deref(), Some("cwd"));
        let mut d = def("web");
        d.port = Some(3000);
        d.allocate_port = true;
        assert_eq!(field(check_definition(&d)).as_deref(), Some("port"));
        assert_eq!(status(check_definition(&d)), Some(422), "across fields");
        let mut d = def("web");
        d.env.insert("BAD-NAME".into(), "x".into());
        assert_eq!(field(check_definition(&d)).as_deref(), Some("env"));
        let mut d = def("web");
        d.probes.readiness =
            serde_json::from_value(serde_json::json!({"check": {"kind": "tcp"}})).ok();
        assert_eq!(
            field(check_definition(&d)).as_deref(),
            Some("probes"),
            "tcp needs a port"
        );
        assert_eq!(status(check_definition(&d)), Some(422));
        let mut d = def("web");
        d.probes.liveness = serde_json::from_value(
            serde_json::json!({"check": {"kind": "log_line", "pattern": "("}}),
        )
        .ok();
        assert_eq!(field(check_definition(&d)).as_deref(), Some("probes"));
        assert_eq!(
            status(check_definition(&d)),
            Some(422),
            "a regex that does not compile"
        );
        let mut d = def("web");
        d.restart.backoff_ms = 1000;
        d.restart.max_backoff_ms = 100;
        assert_eq!(status(check_definition(&d)), Some(422));
        let mut d = def("web");
        d.command = "é".repeat(4000);
        assert_eq!(field(check_definition(&d)), None, "characters, not bytes");
        assert_eq!(status(check_definition(&def("Web App"))), Some(400));
    }
}
