//! What a restart would change: the running spec against the definition now.

use super::services::service_of;
use crate::models::environments::SpecChange;
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::environments;
use crate::server::error::ServerResult;
use crate::server::runtime::repo;
use crate::server::runtime::{ports, supervisor};
use crate::server::AppState;

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
    let Some(run) = repo::services::runs(&state.db, id, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.ended_at.is_none())
    else {
        return Ok(Vec::new());
    };
    let before: supervisor::RunSpec =
        crate::server::stored::decode("service_runs", run.id, "spec", &run.spec)?;
    let active = environments::resolved(state, m.project_id).await?;
    let def = repo::services::definition(&m)?;
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
