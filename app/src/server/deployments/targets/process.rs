//! The process target: each instance is a runtime slot, supervised like any service (logs,
//! probes, restarts, limits, adoption after an Optimus restart) in the release's folder.

use super::{succeeded, tail, variables, Handle, Launch, Seen};
use crate::server::runtime::slots;
use crate::server::AppState;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub(super) async fn start(state: &AppState, launch: &Launch<'_>) -> Result<Handle, String> {
    let slot = slots::create(
        state,
        launch.project_id,
        launch.deployment_id,
        launch.def,
        launch.folder,
        launch.beside,
    )
    .await
    .map_err(|e| e.to_string())?;
    if let Err(e) = slots::start(state, slot.id).await {
        let _ = slots::remove(state, slot.id).await;
        return Err(e.to_string());
    }
    Ok(Handle::Slot(slot.id))
}

pub(super) async fn seen(state: &AppState, id: i64) -> Result<Option<Seen>, String> {
    Ok(slots::get(state, id)
        .await
        .map_err(|e| e.to_string())?
        .map(|s| Seen {
            state: s.state,
            message: s.message,
            port: s.port,
            restarts: i64::from(s.restarts),
            self_checked: false,
        }))
}

pub(super) async fn stop(state: &AppState, id: i64) -> Result<(), String> {
    slots::stop(state, id).await.map_err(|e| e.to_string())
}

pub(super) async fn resume(state: &AppState, id: i64) -> Result<(), String> {
    slots::start(state, id).await.map_err(|e| e.to_string())
}

pub(super) async fn remove(state: &AppState, id: i64) -> Result<(), String> {
    slots::remove(state, id).await.map_err(|e| e.to_string())
}

/// Runs `command` by `sh -c` in the release's folder (the service's `cwd`) with the service's
/// variables on top of Optimus's own environment (without its settings); on timeout its whole
/// process group is killed.
pub(super) async fn run_once(
    state: &AppState,
    launch: &Launch<'_>,
    command: &str,
    timeout: Duration,
) -> Result<String, String> {
    let env = variables(state, launch).await?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(launch.folder.join(&launch.def.cwd))
        .env_clear()
        .envs(std::env::vars().filter(|(k, _)| !k.starts_with("OPTIMUS_")))
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("could not run it: {e}"))?;
    let group = child.id().and_then(|p| i32::try_from(p).ok());
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let printed = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.success() {
                Ok(succeeded(started.elapsed(), "", &printed))
            } else {
                Err(format!("it ended with {}: {}", out.status, tail(&printed)))
            }
        }
        Ok(Err(e)) => Err(format!("could not wait for it: {e}")),
        Err(_) => {
            if let Some(g) = group {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(g),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            Err(format!(
                "still running after {} s: stopped",
                timeout.as_secs()
            ))
        }
    }
}
