//! Service definitions from what the catalog detected (optimus.toml, Procfile, run command).

use super::definitions::check_definition;
use super::services::{list, project_of};
use crate::models::catalog::{CommandKind, PortSpec, ProbeSpec, ProjectInfo};
use crate::models::runtime::{
    Probe, ProbeCheck, Probes, RestartMode, RestartPolicy, ServiceDefinition, ServiceInfo,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog::Project;
use crate::server::error::ServerResult;
use crate::server::runtime::repo;
use crate::server::stored::Undecodable;
use crate::server::AppState;
use chrono::Utc;
use sea_orm::ConnectionTrait;

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
/// project's run command. Fails naming the project's column that cannot be read.
pub fn detected(p: &Project) -> Result<Vec<ServiceDefinition>, Undecodable> {
    let info = crate::server::catalog::project_info(p)?;
    Ok(proposed(&info))
}

fn proposed(info: &ProjectInfo) -> Vec<ServiceDefinition> {
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
                public_port: s.public_port,
                public_hosts: s.public_hosts.clone(),
                deploy: s.deploy.clone(),
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
pub async fn sync_detected(db: &impl ConnectionTrait, p: &Project) -> ServerResult<u32> {
    let existing = repo::services::of_project(db, p.id).await?;
    let info = crate::server::catalog::project_info(p)?;
    let from_descriptor = !info.services.is_empty();
    let origin = if from_descriptor {
        "descriptor"
    } else {
        "detected"
    };
    let mut added = 0;
    for def in proposed(&info) {
        if check_definition(&def).is_err() {
            continue;
        }
        match existing.iter().find(|s| s.name == def.name) {
            None => {
                repo::services::insert(db, p.id, origin, &def, Utc::now()).await?;
                added += 1;
            }
            Some(s)
                if s.origin == "descriptor"
                    && repo::services::definition(s).ok() != Some(def.clone()) =>
            {
                repo::services::replace_from_descriptor(db, s.id, &def, Utc::now()).await?;
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
    let txn = crate::server::db::begin(&state.db).await?;
    let added = sync_detected(&txn, &p).await?;
    if added > 0 {
        audit::commit(
            txn,
            &state.bus,
            caller.into(),
            "services.import",
            &format!("project:{}:{added}", p.path),
        )
        .await?;
    } else {
        txn.commit().await?;
    }
    list(state, caller, project_id).await
}
