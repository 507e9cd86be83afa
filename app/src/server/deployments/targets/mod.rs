//! Where a deployed release's services run. A target starts one service of a release as a new
//! instance, tells how that instance is doing, and stops, starts again or removes it; the
//! driver does everything else (readiness, switching the proxy, watching, rolling back) the
//! same way for every target.
//!
//! - [`process`]: a process supervised by Optimus's runtime, in the release's folder (a
//!   runtime "slot");
//! - [`docker`]: a container on the Docker Engine, from an image built from the release's
//!   Dockerfile (kept per release, so a rollback never rebuilds) or the image named.
//!
//! Another target (Kubernetes, say) is a module with the same six functions (start, run once,
//! seen, stop, resume, remove) and an arm in each of the functions here; [`Handle`] names its
//! instances.

pub mod docker;
mod process;

use super::entities::release;
use crate::models::deployments::DeployTarget;
use crate::models::runtime::{ServiceDefinition, ServiceState};
use crate::server::AppState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// One instance, as the target knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handle {
    /// A runtime slot (a service row of its own).
    Slot(i64),
    /// A Docker container, by id.
    Container(String),
}

impl Handle {
    /// How the steps name it.
    pub fn describe(&self) -> String {
        match self {
            Handle::Slot(id) => format!("instance #{id}"),
            Handle::Container(id) => {
                format!("container {}", id.chars().take(12).collect::<String>())
            }
        }
    }
}

/// How an instance is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub state: ServiceState,
    /// Why it is in that state, when the target says.
    pub message: Option<String>,
    /// The port on this host that reaches it, once known.
    pub port: Option<u16>,
    /// How often it was restarted after a crash.
    pub restarts: i64,
    /// Whether the target checks its readiness itself (a container whose health check is the
    /// service's command probe): then the driver reads `state` instead of probing.
    pub self_checked: bool,
}

/// What a new instance is started from.
pub struct Launch<'a> {
    pub project_id: i64,
    pub deployment_id: i64,
    pub release: &'a release::Model,
    /// The release's folder.
    pub folder: &'a Path,
    pub def: &'a ServiceDefinition,
    /// Whether it must run beside the serving instance (blue-green): on a fresh port.
    pub beside: bool,
}

/// Starts a new instance; nothing is left behind when it cannot be started.
pub async fn start(state: &AppState, launch: &Launch<'_>) -> Result<Handle, String> {
    match launch.def.deploy.target {
        DeployTarget::Process => process::start(state, launch).await,
        DeployTarget::Docker => docker::start(state, launch).await,
    }
}

/// Runs `command` once for a release (a pre-deploy step) within `timeout`: the last lines it
/// printed, or why it failed with them.
pub async fn run_once(
    state: &AppState,
    launch: &Launch<'_>,
    command: &str,
    timeout: Duration,
) -> Result<String, String> {
    match launch.def.deploy.target {
        DeployTarget::Process => process::run_once(state, launch, command, timeout).await,
        DeployTarget::Docker => docker::run_once(state, launch, command, timeout).await,
    }
}

/// The variables a release's service gets wherever it runs: the active environment's, the
/// service's own, and which service and release it is.
async fn variables(
    state: &AppState,
    launch: &Launch<'_>,
) -> Result<BTreeMap<String, String>, String> {
    let mut env = crate::server::environments::resolved(state, launch.project_id)
        .await
        .map_err(|e| e.to_string())?
        .vars;
    env.extend(launch.def.env.clone());
    env.insert("OPTIMUS_SERVICE".into(), launch.def.name.clone());
    env.insert("OPTIMUS_RELEASE".into(), launch.release.number.to_string());
    Ok(env)
}

/// How a run that succeeded is described: how long it took, where, and what it said last.
fn succeeded(took: Duration, place: &str, printed: &str) -> String {
    let said = tail(printed);
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    format!("exit 0 after {:.1} s{place}{said}", took.as_secs_f64())
}

/// The last lines of what a command printed, on one line (at most 10 lines of 300 characters).
fn tail(printed: &str) -> String {
    let lines: Vec<&str> = printed
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let from = lines.len().saturating_sub(10);
    lines[from..]
        .iter()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// How an instance is doing now (`None`: it is gone).
pub async fn seen(state: &AppState, h: &Handle) -> Result<Option<Seen>, String> {
    match h {
        Handle::Slot(id) => process::seen(state, *id).await,
        Handle::Container(id) => docker::seen(id).await,
    }
}

/// Stops an instance, keeping it to start again.
pub async fn stop(state: &AppState, h: &Handle, grace_ms: u64) -> Result<(), String> {
    match h {
        Handle::Slot(id) => process::stop(state, *id).await,
        Handle::Container(id) => docker::stop(id, grace_ms).await,
    }
}

/// Starts a stopped instance again.
pub async fn resume(state: &AppState, h: &Handle) -> Result<(), String> {
    match h {
        Handle::Slot(id) => process::resume(state, *id).await,
        Handle::Container(id) => docker::resume(id).await,
    }
}

/// Stops an instance and removes it (a gone one is fine).
pub async fn remove(state: &AppState, h: &Handle, grace_ms: u64) -> Result<(), String> {
    match h {
        Handle::Slot(id) => process::remove(state, *id).await,
        Handle::Container(id) => docker::remove(id, grace_ms).await,
    }
}
