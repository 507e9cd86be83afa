//! Runtime operations: define a project's services, start/stop/restart them (one or the whole
//! project, in dependency order), read their runs, logs and ports.

use super::audit;
use crate::error::AppError;
use crate::models::catalog::{CommandKind, PortSpec, ProbeSpec};
use crate::models::environments::SpecChange;
use crate::models::runtime::{
    CreateServiceRequest, HostMetricsQuery, HostSample, LogLine, LogQuery, MetricsQuery, PortEntry,
    Probe, ProbeCheck, Probes, ResourceSample, RestartMode, RestartPolicy, RunInfo, RunsQuery,
    RuntimeLogLine, RuntimeLogs, RuntimeLogsRequest, RuntimeRequest, RuntimeService, RuntimeStatus,
    ServiceDefinition, ServiceInfo, ServiceState, UpdateServiceRequest,
};
use crate::models::Operation;
use crate::server::auth::Caller;
use crate::server::entities::{project, service};
use crate::server::error::ServerResult;
use crate::server::repos;
use crate::server::runtime::{logs, ports, supervisor};
use crate::server::services::environments;
use crate::server::AppState;
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
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
                return Err(bad(
                    field,
                    "an http probe needs a port (set one or allocate one)",
                ));
            }
            if !path.starts_with('/') || path.len() > 500 || path.chars().any(char::is_whitespace) {
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
            if body.as_ref().is_some_and(|b| b.len() > 1000) {
                return Err(bad(
                    field,
                    "the expected body text must be at most 1000 bytes",
                ));
            }
        }
        ProbeCheck::Tcp => {
            if !has_port {
                return Err(bad(
                    field,
                    "a tcp probe needs a port (set one or allocate one)",
                ));
            }
        }
        ProbeCheck::Exec { command } => {
            if command.trim().is_empty() || command.len() > 4000 {
                return Err(bad(
                    field,
                    "the exec command must have 1 to 4000 characters",
                ));
            }
        }
        ProbeCheck::LogLine { pattern } => {
            if pattern.is_empty() || pattern.len() > 500 {
                return Err(bad(field, "the pattern must have 1 to 500 characters"));
            }
            regex::Regex::new(pattern).map_err(|e| {
                bad(
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
    let name_ok = !d.name.is_empty()
        && d.name.len() <= 40
        && d.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && d.name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !name_ok {
        return Err(bad(
            "name",
            "must be 1 to 40 of a-z 0-9 - _, starting with a letter or digit",
        ));
    }
    if d.command.trim().is_empty() || d.command.len() > 4000 {
        return Err(bad("command", "must have 1 to 4000 characters"));
    }
    let cwd = Path::new(&d.cwd);
    if d.cwd.len() > 500
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
        return Err(bad("port", "set a port or allocate_port, not both"));
    }
    if d.port == Some(0) {
        return Err(bad("port", "must be between 1 and 65535"));
    }
    if d.env.len() > 200 {
        return Err(bad("env", "at most 200 variables"));
    }
    for (k, v) in &d.env {
        let key_ok = !k.is_empty()
            && k.len() <= 128
            && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err(bad("env", format!("`{k}` is not a valid variable name")));
        }
        if v.len() > 32 * 1024 || v.contains('\0') {
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
        return Err(bad("depends_on", "a service cannot depend on itself"));
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
                other => other,
            })?;
        }
    }
    let r = &d.restart;
    if r.max_retries > 100 {
        return Err(bad("restart", "max_retries must be at most 100"));
    }
    if !(10..=3_600_000).contains(&r.backoff_ms)
        || r.max_backoff_ms < r.backoff_ms
        || r.max_backoff_ms > 3_600_000
    {
        return Err(bad(
            "restart",
            "backoff_ms must be 10–3600000 and max_backoff_ms between it and 3600000",
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
    Ok(())
}

/// Checks `depends_on` against the project's other services: names exist, no cycle.
fn check_dependencies(
    def: &ServiceDefinition,
    own_id: Option<i64>,
    siblings: &[service::Model],
) -> Result<(), AppError> {
    let mut graph: HashMap<String, Vec<String>> = siblings
        .iter()
        .filter(|s| Some(s.id) != own_id)
        .map(|s| (s.name.clone(), repos::services::definition(s).depends_on))
        .collect();
    if graph.contains_key(&def.name) {
        return Err(AppError::conflict(format!(
            "the project already has a service named `{}`",
            def.name
        )));
    }
    for d in &def.depends_on {
        if !graph.contains_key(d) {
            return Err(bad(
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
            return Err(bad("depends_on", "this would close a dependency cycle"));
        }
        if seen.insert(n.clone()) {
            stack.extend(graph.get(&n).cloned().unwrap_or_default());
        }
    }
    Ok(())
}

async fn project_of(state: &AppState, id: i64) -> ServerResult<project::Model> {
    Ok(repos::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?)
}

async fn service_of(state: &AppState, id: i64) -> ServerResult<service::Model> {
    Ok(repos::services::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("service"))?)
}

async fn info(state: &AppState, m: service::Model) -> ServerResult<ServiceInfo> {
    let last = repos::services::runs(&state.db, m.id, 1)
        .await?
        .into_iter()
        .next();
    let active = environments::resolved(state, m.project_id).await?;
    Ok(to_info(m, last, &active))
}

fn to_info(
    m: service::Model,
    last: Option<crate::server::entities::service_run::Model>,
    active: &environments::Resolved,
) -> ServiceInfo {
    let def = repos::services::definition(&m);
    let st = repos::services::state(&m);
    let port = ports::held_port(&m).0;
    let now = supervisor::spec_hash(&supervisor::run_spec(&def, port, active));
    let pending = st.is_live()
        && last
            .as_ref()
            .is_some_and(|r| r.ended_at.is_none() && r.spec_hash != now);
    ServiceInfo {
        id: m.id,
        project_id: m.project_id,
        origin: m.origin,
        definition: def,
        state: st,
        message: m.message,
        port,
        restarts: u32::try_from(m.restarts).unwrap_or(0),
        last_run: last.map(RunInfo::from),
        pending_changes: pending,
    }
}

/// A project's services with their state.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ReadRuntime)?;
    project_of(state, project_id).await?;
    let services = repos::services::of_project(&state.db, project_id).await?;
    let runs =
        repos::services::latest_runs(&state.db, services.iter().map(|s| s.id).collect()).await?;
    let mut by_service: HashMap<i64, _> = runs.into_iter().map(|r| (r.service_id, r)).collect();
    let active = environments::resolved(state, project_id).await?;
    Ok(services
        .into_iter()
        .map(|s| {
            let last = by_service.remove(&s.id);
            to_info(s, last, &active)
        })
        .collect())
}

fn masked(v: Option<&String>) -> Option<String> {
    v.map(|v| {
        if v.starts_with("secret:") {
            "•••••• (secret)".to_owned()
        } else {
            v.clone()
        }
    })
}

/// What a restart would change for a running service: command, folder, port and variables
/// (secret values masked). Empty when it is not running or nothing changed.
pub async fn pending_changes(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<Vec<SpecChange>> {
    caller.authorize(Operation::ReadRuntime)?;
    let m = service_of(state, id).await?;
    let Some(run) = repos::services::runs(&state.db, id, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.ended_at.is_none())
    else {
        return Ok(Vec::new());
    };
    let before: supervisor::RunSpec = serde_json::from_str(&run.spec).unwrap_or_default();
    let active = environments::resolved(state, m.project_id).await?;
    let def = repos::services::definition(&m);
    let after = supervisor::run_spec(&def, ports::held_port(&m).0, &active);
    let mut out = Vec::new();
    let mut field = |what: &str, b: Option<String>, a: Option<String>| {
        if b != a {
            out.push(SpecChange {
                what: what.to_owned(),
                before: b,
                after: a,
            });
        }
    };
    field(
        "command",
        Some(before.command.clone()),
        Some(after.command.clone()),
    );
    field("cwd", Some(before.cwd.clone()), Some(after.cwd.clone()));
    field(
        "port",
        before.port.map(|p| p.to_string()),
        after.port.map(|p| p.to_string()),
    );
    let limit = |l: &crate::models::runtime::ResourceLimits| {
        (!l.is_empty()).then(|| {
            [
                l.memory_mb.map(|m| format!("memory {m} MiB")),
                l.cpu_percent.map(|c| format!("cpu {c}%")),
                l.open_files.map(|n| format!("open files {n}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
    };
    field("limits", limit(&before.limits), limit(&after.limits));
    let keys: std::collections::BTreeSet<&String> =
        before.env.keys().chain(after.env.keys()).collect();
    for k in keys {
        field(
            &format!("env {k}"),
            masked(before.env.get(k)),
            masked(after.env.get(k)),
        );
    }
    // Two different secrets both read "•••••• (secret)": still a change.
    for k in before.env.keys().filter(|k| after.env.contains_key(*k)) {
        let (b, a) = (&before.env[k], &after.env[k]);
        if b != a && masked(Some(b)) == masked(Some(a)) {
            out.push(SpecChange {
                what: format!("env {k}"),
                before: masked(Some(b)),
                after: Some("•••••• (secret, changed)".to_owned()),
            });
        }
    }
    Ok(out)
}

/// One service.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ReadRuntime)?;
    let m = service_of(state, id).await?;
    info(state, m).await
}

/// Adds a service to a project.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreateServiceRequest,
) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::EditServices)?;
    check_definition(&req.definition)?;
    let p = project_of(state, req.project_id).await?;
    let siblings = repos::services::of_project(&state.db, p.id).await?;
    check_dependencies(&req.definition, None, &siblings)?;
    let m = repos::services::insert(&state.db, p.id, "user", &req.definition, Utc::now()).await?;
    audit::record(
        state,
        caller.into(),
        "services.create",
        &format!("service:{}:{}", p.path, m.name),
        "ok",
    )
    .await?;
    info(state, m).await
}

/// Replaces a service's definition. A running service keeps its process until restarted; its
/// info then shows `pending_changes`.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    req: UpdateServiceRequest,
) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::EditServices)?;
    check_definition(&req.definition)?;
    let m = service_of(state, req.id).await?;
    let siblings = repos::services::of_project(&state.db, m.project_id).await?;
    check_dependencies(&req.definition, Some(m.id), &siblings)?;
    if req.definition.name != m.name && repos::services::state(&m).is_active() {
        return Err(AppError::conflict("stop the service before renaming it").into());
    }
    if req.definition.allocate_port {
        // Keep the allocation.
    } else if m.allocated_port.is_some() {
        repos::services::set_allocated_port(&state.db, m.id, None).await?;
    }
    repos::services::update_definition(&state.db, m.id, &req.definition, Utc::now()).await?;
    audit::record(
        state,
        caller.into(),
        "services.update",
        &format!("service:{}:{}", m.id, req.definition.name),
        "ok",
    )
    .await?;
    get(state, caller, m.id).await
}

/// Removes a stopped service (its runs and logs go too; the project's files are untouched).
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::EditServices)?;
    let m = service_of(state, id).await?;
    if repos::services::state(&m).is_active() || state.runtime.is_supervising(id) {
        return Err(AppError::conflict("stop the service before removing it").into());
    }
    let siblings = repos::services::of_project(&state.db, m.project_id).await?;
    if let Some(dep) = siblings
        .iter()
        .find(|s| s.id != id && repos::services::definition(s).depends_on.contains(&m.name))
    {
        return Err(AppError::conflict(format!("`{}` depends on it", dep.name)).into());
    }
    let runs_root = state.settings.data_dir.join("runs");
    let dir = runs_root.join(id.to_string());
    repos::services::delete(&state.db, id).await?;
    if dir.starts_with(&runs_root) {
        let _ = std::fs::remove_dir_all(dir);
    }
    audit::record(
        state,
        caller.into(),
        "services.delete",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    Ok(())
}

/// A probe from its `optimus.toml` form.
fn probe_from_spec(p: &ProbeSpec) -> Option<Probe> {
    let check = if let Some(path) = &p.http {
        ProbeCheck::Http {
            path: if path.starts_with('/') {
                path.clone()
            } else {
                format!("/{path}")
            },
            status: p.status,
            body: p.body.clone(),
        }
    } else if p.tcp == Some(true) {
        ProbeCheck::Tcp
    } else if let Some(command) = &p.exec {
        ProbeCheck::Exec {
            command: command.clone(),
        }
    } else {
        ProbeCheck::LogLine {
            pattern: p.log.clone()?,
        }
    };
    Some(Probe {
        check,
        interval_ms: p.interval_ms.unwrap_or(500),
        timeout_ms: p.timeout_ms.unwrap_or(1000),
        failure_threshold: p.failure_threshold.unwrap_or(3),
    })
}

/// What detection proposes: the descriptor's services, else one per Procfile process, else the
/// project's run command.
pub fn detected(p: &project::Model) -> Vec<ServiceDefinition> {
    let info = crate::models::catalog::ProjectInfo::from(p.clone());
    if !info.services.is_empty() {
        return info
            .services
            .iter()
            .map(|s| ServiceDefinition {
                name: sanitize_name(&s.name),
                command: s.command.clone(),
                cwd: s.cwd.clone(),
                port: s.fixed_port(),
                allocate_port: matches!(&s.port, Some(PortSpec::Keyword(k)) if k == "auto"),
                env: s.env.clone(),
                depends_on: s.depends_on.iter().map(|d| sanitize_name(d)).collect(),
                probes: Probes {
                    startup: s.startup.as_ref().and_then(probe_from_spec),
                    readiness: s.readiness.as_ref().and_then(probe_from_spec),
                    liveness: s.liveness.as_ref().and_then(probe_from_spec),
                },
                restart: RestartPolicy {
                    mode: match s.restart.as_deref() {
                        Some("never") => RestartMode::Never,
                        Some("always") => RestartMode::Always,
                        _ => RestartMode::OnFailure,
                    },
                    ..Default::default()
                },
                grace_ms: 5000,
                limits: s.limits.clone(),
                alerts: s.alerts.clone(),
            })
            .collect();
    }
    let runs: Vec<_> = info
        .commands
        .iter()
        .filter(|c| c.kind == CommandKind::Run)
        .collect();
    let procfile: Vec<_> = runs
        .iter()
        .filter(|c| c.source.starts_with("Procfile "))
        .collect();
    let base = |name: String, command: String, cwd: String, port: Option<u16>| ServiceDefinition {
        cwd,
        port,
        ..ServiceDefinition::new(name, command)
    };
    if !procfile.is_empty() {
        return procfile
            .iter()
            .map(|c| {
                let name = sanitize_name(c.source.trim_start_matches("Procfile "));
                let port = (name == "web").then_some(info.port).flatten();
                base(name, c.command.clone(), c.cwd.clone(), port)
            })
            .collect();
    }
    runs.first()
        .map(|c| {
            vec![base(
                "app".into(),
                c.command.clone(),
                c.cwd.clone(),
                info.port,
            )]
        })
        .unwrap_or_default()
}

fn sanitize_name(raw: &str) -> String {
    let s: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        "app".into()
    } else {
        s
    }
}

/// Brings the project's services in line with detection: adds the proposed services it lacks
/// and refreshes those that came from `optimus.toml` when the file changed (a running one
/// shows the change as pending until restarted). Services a user edited are left alone.
/// Returns how many were added.
pub async fn sync_detected(state: &AppState, p: &project::Model) -> ServerResult<u32> {
    let existing = repos::services::of_project(&state.db, p.id).await?;
    let from_descriptor = !crate::models::catalog::ProjectInfo::from(p.clone())
        .services
        .is_empty();
    let origin = if from_descriptor {
        "descriptor"
    } else {
        "detected"
    };
    let mut added = 0;
    for def in detected(p) {
        if check_definition(&def).is_err() {
            continue;
        }
        match existing.iter().find(|s| s.name == def.name) {
            None => {
                repos::services::insert(&state.db, p.id, origin, &def, Utc::now()).await?;
                added += 1;
            }
            Some(s) if s.origin == "descriptor" && repos::services::definition(s) != def => {
                repos::services::replace_from_descriptor(&state.db, s.id, &def, Utc::now()).await?;
            }
            Some(_) => {}
        }
    }
    Ok(added)
}

/// Adds the detected services the project does not have yet (by name).
pub async fn import_detected(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::EditServices)?;
    let p = project_of(state, project_id).await?;
    let added = sync_detected(state, &p).await?;
    if added > 0 {
        audit::record(
            state,
            caller.into(),
            "services.import",
            &format!("project:{}:{added}", p.path),
            "ok",
        )
        .await?;
    }
    list(state, caller, project_id).await
}

/// Refuses a start that cannot work now: a port another service or process holds.
async fn preflight(state: &AppState, m: &service::Model) -> ServerResult<()> {
    let def = repos::services::definition(m);
    if let Some(port) = def
        .port
        .or_else(|| m.allocated_port.and_then(|p| u16::try_from(p).ok()))
    {
        if let Some(why) = ports::conflict(state, m.id, port).await? {
            return Err(AppError::conflict(why).into());
        }
    }
    Ok(())
}

async fn start_one(state: &AppState, m: &service::Model) -> ServerResult<bool> {
    if state.runtime.is_supervising(m.id) {
        return Ok(false);
    }
    preflight(state, m).await?;
    repos::services::set_state(
        &state.db,
        m.id,
        ServiceState::Waiting,
        Some("starting"),
        Some(0),
    )
    .await?;
    Ok(state.runtime.supervise(state, m.id, None))
}

/// Starts a service (after its dependencies are ready). 409 when it runs already or its port
/// is taken.
pub async fn start(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    if !start_one(state, &m).await? {
        return Err(AppError::conflict(format!("`{}` is already running", m.name)).into());
    }
    audit::record(
        state,
        caller.into(),
        "services.start",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

/// Stops a service: SIGTERM to its whole process tree, SIGKILL after its grace period.
pub async fn stop(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    stop_one(state, &m).await?;
    audit::record(
        state,
        caller.into(),
        "services.stop",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

async fn stop_one(state: &AppState, m: &service::Model) -> ServerResult<()> {
    let grace = repos::services::definition(m).grace_ms;
    let wait = Duration::from_millis(grace) + Duration::from_secs(10);
    if !state.runtime.stop(m.id, wait).await {
        // Not supervised here (e.g. crash loop or failed): just make the state plain.
        let st = repos::services::state(m);
        if st.is_active() {
            repos::services::set_state(
                &state.db,
                m.id,
                ServiceState::Stopped,
                Some("stopped"),
                Some(0),
            )
            .await?;
        }
    }
    Ok(())
}

/// Stops, then starts, a service; applies a changed definition.
pub async fn restart(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ServiceInfo> {
    caller.authorize(Operation::ControlServices)?;
    let m = service_of(state, id).await?;
    stop_one(state, &m).await?;
    let m = service_of(state, id).await?;
    start_one(state, &m).await?;
    audit::record(
        state,
        caller.into(),
        "services.restart",
        &format!("service:{id}:{}", m.name),
        "ok",
    )
    .await?;
    get(state, caller, id).await
}

/// The project's services in dependency order (dependencies first).
fn ordered(services: Vec<service::Model>) -> Vec<service::Model> {
    let mut placed: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut left = services;
    while !left.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = left.into_iter().partition(|s| {
            repos::services::definition(s)
                .depends_on
                .iter()
                .all(|d| placed.contains(d))
        });
        if ready.is_empty() {
            // A cycle or a missing name: keep the rest in name order.
            out.extend(rest);
            break;
        }
        for s in &ready {
            placed.insert(s.name.clone());
        }
        out.extend(ready);
        left = rest;
    }
    out
}

/// Starts `services` (in dependency order); every port is checked first, so a conflict starts
/// nothing. Services already running are left as they are.
async fn start_all(state: &AppState, services: &[service::Model]) -> ServerResult<()> {
    for m in services {
        if !state.runtime.is_supervising(m.id) {
            preflight(state, m).await?;
        }
    }
    for m in services {
        start_one(state, m).await?;
    }
    Ok(())
}

/// Stops `services` (given in dependency order) dependents first.
async fn stop_all(state: &AppState, services: &[service::Model]) -> ServerResult<()> {
    for m in services.iter().rev() {
        stop_one(state, m).await?;
    }
    Ok(())
}

/// Starts every service of a project (each waits for its dependencies).
pub async fn start_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repos::services::of_project(&state.db, p.id).await?);
    if services.is_empty() {
        return Err(AppError::conflict("the project has no services yet").into());
    }
    start_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.start_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}

/// Stops every service of a project, dependents first.
pub async fn stop_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repos::services::of_project(&state.db, p.id).await?);
    stop_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.stop_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}

/// Restarts every service of a project: stop all (dependents first), then start all.
pub async fn restart_project(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<Vec<ServiceInfo>> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, project_id).await?;
    let services = ordered(repos::services::of_project(&state.db, p.id).await?);
    stop_all(state, &services).await?;
    start_all(state, &services).await?;
    audit::record(
        state,
        caller.into(),
        "services.restart_project",
        &format!("project:{}", p.path),
        "ok",
    )
    .await?;
    list(state, caller, project_id).await
}

/// A service's runs, newest first.
pub async fn runs(state: &AppState, caller: &Caller, q: RunsQuery) -> ServerResult<Vec<RunInfo>> {
    caller.authorize(Operation::ReadRuntime)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 100").into());
    }
    service_of(state, q.id).await?;
    Ok(repos::services::runs(&state.db, q.id, u64::from(limit))
        .await?
        .into_iter()
        .map(RunInfo::from)
        .collect())
}

/// Log history of one or more services merged by time, newest last.
pub async fn log_history(
    state: &AppState,
    caller: &Caller,
    q: LogQuery,
) -> ServerResult<Vec<LogLine>> {
    caller.authorize(Operation::ReadRuntime)?;
    if q.service_ids.is_empty() || q.service_ids.len() > 20 {
        return Err(bad("service_ids", "name 1 to 20 services").into());
    }
    let limit = usize::try_from(q.limit.unwrap_or(500)).unwrap_or(500);
    if !(1..=5000).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 5000").into());
    }
    let search = q.search.clone().unwrap_or_default();
    if search.len() > 500 {
        return Err(bad("search", "must be at most 500 characters").into());
    }
    let matcher: Box<dyn Fn(&str) -> bool + Send> = if search.is_empty() {
        Box::new(|_| true)
    } else if q.regex {
        let re = regex::RegexBuilder::new(&search)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| bad("search", format!("not a valid regular expression: {e}")))?;
        Box::new(move |t| re.is_match(t))
    } else {
        let needle = search.to_lowercase();
        Box::new(move |t| t.to_lowercase().contains(&needle))
    };
    let mut dirs: Vec<(i64, i64, PathBuf)> = Vec::new();
    for id in &q.service_ids {
        service_of(state, *id).await?;
        // The newest runs first, until enough lines are found.
        for r in repos::services::runs(&state.db, *id, u64::from(state.settings.keep_runs)).await? {
            dirs.push((*id, r.id, PathBuf::from(r.run_dir)));
        }
    }
    let stream = q.stream;
    let lines = tokio::task::spawn_blocking(move || {
        let mut per_service: HashMap<i64, Vec<LogLine>> = HashMap::new();
        for (sid, rid, dir) in dirs {
            let have = per_service.get(&sid).map(Vec::len).unwrap_or(0);
            if have >= limit {
                continue;
            }
            let mut found: Vec<LogLine> = logs::read_run(&dir, sid, rid)
                .into_iter()
                .filter(|l| stream.is_none_or(|s| s == l.stream) && matcher(&l.text))
                .collect();
            let entry = per_service.entry(sid).or_default();
            // Runs come newest first: older lines go in front.
            found.append(entry);
            *entry = found;
        }
        let mut all: Vec<LogLine> = per_service.into_values().flatten().collect();
        all.sort_by_key(|l| (l.at, l.run_id, l.seq));
        let skip = all.len().saturating_sub(limit);
        all.split_off(skip)
    })
    .await
    .map_err(|e| crate::server::error::ServerError::Other(e.to_string()))?;
    Ok(lines)
}

/// One run's whole log as text for a download (`<time> <stream> <text>` per line), with a file
/// name; the latest run when `run_id` is absent.
pub async fn log_download(
    state: &AppState,
    caller: &Caller,
    service_id: i64,
    run_id: Option<i64>,
) -> ServerResult<(String, String)> {
    caller.authorize(Operation::ReadRuntime)?;
    let svc = service_of(state, service_id).await?;
    let runs =
        repos::services::runs(&state.db, service_id, u64::from(state.settings.keep_runs)).await?;
    let run = match run_id {
        Some(id) => runs.into_iter().find(|r| r.id == id).ok_or_else(|| {
            bad(
                "run_id",
                format!("service {service_id} has no kept run {id}"),
            )
        })?,
        None => runs
            .into_iter()
            .next()
            .ok_or_else(|| bad("service_id", "the service has not run yet"))?,
    };
    let (sid, rid, dir) = (service_id, run.id, PathBuf::from(&run.run_dir));
    let text = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        for l in logs::read_run(&dir, sid, rid) {
            let stream = match l.stream {
                crate::models::runtime::LogStream::Stdout => "stdout",
                crate::models::runtime::LogStream::Stderr => "stderr",
            };
            out.push_str(&format!(
                "{} {stream} {}\n",
                l.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                l.text
            ));
        }
        out
    })
    .await
    .map_err(|e| crate::server::error::ServerError::Other(e.to_string()))?;
    Ok((format!("{}-run-{rid}.log", svc.name), text))
}

/// Every port held by a service.
pub async fn port_registry(state: &AppState, caller: &Caller) -> ServerResult<Vec<PortEntry>> {
    caller.authorize(Operation::ReadRuntime)?;
    Ok(ports::entries(state).await?)
}

async fn service_named(
    state: &AppState,
    project_id: i64,
    name: &str,
) -> ServerResult<service::Model> {
    Ok(repos::services::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| AppError::not_found(format!("service `{name}`")))?)
}

/// `runtime/status`: the project's services (set up from `optimus.toml` or detection on first
/// use) with the contract's coarser states.
pub async fn contract_status(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ReadRuntime)?;
    let p = project_of(state, project_id).await?;
    sync_detected(state, &p).await?;
    let services = list(state, caller, project_id).await?;
    Ok(RuntimeStatus {
        services: services
            .into_iter()
            .map(|s| RuntimeService {
                name: s.definition.name,
                state: s.state.contract_name().to_owned(),
                pid: s
                    .last_run
                    .as_ref()
                    .filter(|r| r.ended_at.is_none())
                    .and_then(|r| r.pid),
                port: s.port.or_else(|| s.last_run.as_ref().and_then(|r| r.port)),
                restarts: s.restarts,
            })
            .collect(),
    })
}

/// `runtime/start`: starts one service by name or the whole project (dependencies first);
/// services already running are left as they are.
pub async fn contract_start(
    state: &AppState,
    caller: &Caller,
    req: RuntimeRequest,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, req.project_id).await?;
    sync_detected(state, &p).await?;
    let targets = match &req.service {
        Some(name) => vec![service_named(state, p.id, name).await?],
        None => ordered(repos::services::of_project(&state.db, p.id).await?),
    };
    if targets.is_empty() {
        return Err(AppError::conflict(
            "the project has no services (add them, or an optimus.toml)",
        )
        .into());
    }
    start_all(state, &targets).await?;
    audit::record(
        state,
        caller.into(),
        "runtime.start",
        &format!(
            "project:{}:{}",
            p.path,
            req.service.as_deref().unwrap_or("*")
        ),
        "ok",
    )
    .await?;
    contract_status(state, caller, p.id).await
}

/// `runtime/stop`: stops one service by name or the whole project (dependents first).
pub async fn contract_stop(
    state: &AppState,
    caller: &Caller,
    req: RuntimeRequest,
) -> ServerResult<RuntimeStatus> {
    caller.authorize(Operation::ControlServices)?;
    let p = project_of(state, req.project_id).await?;
    let targets = match &req.service {
        Some(name) => vec![service_named(state, p.id, name).await?],
        None => ordered(repos::services::of_project(&state.db, p.id).await?),
    };
    stop_all(state, &targets).await?;
    audit::record(
        state,
        caller.into(),
        "runtime.stop",
        &format!(
            "project:{}:{}",
            p.path,
            req.service.as_deref().unwrap_or("*")
        ),
        "ok",
    )
    .await?;
    contract_status(state, caller, p.id).await
}

/// `runtime/logs`: the newest `tail` lines of one service, oldest first.
pub async fn contract_logs(
    state: &AppState,
    caller: &Caller,
    req: RuntimeLogsRequest,
) -> ServerResult<RuntimeLogs> {
    caller.authorize(Operation::ReadRuntime)?;
    let tail = req.tail.unwrap_or(100);
    if !(1..=5000).contains(&tail) {
        return Err(bad("tail", "must be between 1 and 5000").into());
    }
    let p = project_of(state, req.project_id).await?;
    let m = service_named(state, p.id, &req.service).await?;
    let lines = log_history(
        state,
        caller,
        LogQuery {
            service_ids: vec![m.id],
            limit: Some(tail),
            ..Default::default()
        },
    )
    .await?;
    Ok(RuntimeLogs {
        lines: lines
            .into_iter()
            .map(|l| RuntimeLogLine {
                stream: l.stream,
                text: l.text,
                ts: l.at,
            })
            .collect(),
    })
}

/// The span and storage tier of a chart range.
fn range_of(raw: Option<&str>) -> Result<(chrono::TimeDelta, i16), AppError> {
    use crate::server::runtime::sampler::{MINUTE, QUARTER, RAW};
    use chrono::TimeDelta;
    Ok(match raw.unwrap_or("1h") {
        "15m" => (TimeDelta::minutes(15), RAW),
        "1h" => (TimeDelta::hours(1), RAW),
        "6h" => (TimeDelta::hours(6), MINUTE),
        "24h" => (TimeDelta::hours(24), MINUTE),
        "7d" => (TimeDelta::days(7), MINUTE),
        "30d" => (TimeDelta::days(30), QUARTER),
        "90d" => (TimeDelta::days(90), QUARTER),
        _ => {
            return Err(bad(
                "range",
                format!(
                    "must be one of {}",
                    crate::models::runtime::RANGES.join(", ")
                ),
            ))
        }
    })
}

/// Resource history of services over a range: raw samples for short ranges, minute or
/// quarter-hour averages for long ones (with the newest raw samples after the last average).
pub async fn service_metrics(
    state: &AppState,
    caller: &Caller,
    q: MetricsQuery,
) -> ServerResult<Vec<ResourceSample>> {
    caller.authorize(Operation::ReadRuntime)?;
    if q.service_ids.is_empty() || q.service_ids.len() > 50 {
        return Err(bad("service_ids", "name 1 to 50 services").into());
    }
    let (span, tier) = range_of(q.range.as_deref())?;
    let mut projects = HashMap::new();
    for id in &q.service_ids {
        let m = service_of(state, *id).await?;
        projects.insert(*id, (m.project_id, m.name));
    }
    let from = Utc::now() - span;
    let mut rows =
        repos::samples::services_since(&state.db, q.service_ids.clone(), tier, from).await?;
    if tier != crate::server::runtime::sampler::RAW {
        let after = rows
            .iter()
            .map(|r| r.at)
            .max()
            .map(|t| t + crate::server::runtime::sampler::bucket(tier))
            .unwrap_or(from);
        rows.extend(
            repos::samples::services_since(
                &state.db,
                q.service_ids.clone(),
                crate::server::runtime::sampler::RAW,
                after,
            )
            .await?,
        );
    }
    Ok(rows
        .iter()
        .map(|r| {
            let (project, name) = projects.get(&r.service_id).cloned().unwrap_or_default();
            repos::samples::to_sample(r, project, &name)
        })
        .collect())
}

/// The host's history over a range.
pub async fn host_metrics(
    state: &AppState,
    caller: &Caller,
    q: HostMetricsQuery,
) -> ServerResult<Vec<HostSample>> {
    caller.authorize(Operation::ReadRuntime)?;
    let (span, tier) = range_of(q.range.as_deref())?;
    let from = Utc::now() - span;
    let mut rows = repos::samples::host_since(&state.db, tier, from).await?;
    if tier != crate::server::runtime::sampler::RAW {
        let after = rows
            .iter()
            .map(|r| r.at)
            .max()
            .map(|t| t + crate::server::runtime::sampler::bucket(tier))
            .unwrap_or(from);
        rows.extend(
            repos::samples::host_since(&state.db, crate::server::runtime::sampler::RAW, after)
                .await?,
        );
    }
    Ok(rows.iter().map(repos::samples::to_host).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str) -> ServiceDefinition {
        ServiceDefinition::new(name, "true")
    }

    fn field(r: Result<(), AppError>) -> Option<String> {
        match r {
            Err(AppError::Validation { field, .. }) => Some(field),
            _ => None,
        }
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
        let mut d = def("web");
        d.probes.liveness = serde_json::from_value(
            serde_json::json!({"check": {"kind": "log_line", "pattern": "("}}),
        )
        .ok();
        assert_eq!(field(check_definition(&d)).as_deref(), Some("probes"));
    }
}
