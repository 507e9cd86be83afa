//! Optimus's side of `optimus-proxy`: starting it when it is not running (it then outlives
//! Optimus, so restarts drop no proxied request), pointing a deployed service's public port at
//! an instance, and reading its counters.

use crate::server::AppState;
use optimus_proxy::client;
use optimus_proxy::{RouteSpec, RouteStatus, TargetStats};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The proxy's folder: its routes, lock, control socket and log.
pub fn dir(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("proxy")
}

/// The route of a project's service.
pub fn route_name(project_id: i64, service: &str) -> String {
    format!("p{project_id}-{service}")
}

/// The proxy executable: the setting, else `optimus-proxy` beside this executable, else this
/// executable (run as `optimus proxy`).
fn executable(state: &AppState) -> Result<PathBuf, String> {
    if let Some(p) = &state.settings.proxy_path {
        return Ok(p.clone());
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the optimus executable: {e}"))?;
    let beside = exe.with_file_name("optimus-proxy");
    Ok(if beside.is_file() { beside } else { exe })
}

/// Makes sure the proxy runs: asks it, and starts it (in its own process group, its output
/// appended to `proxy.log`) when nothing answers. Another Optimus starting it at the same time
/// is harmless: one proxy holds the folder's lock, the other exits.
pub async fn ensure(state: &AppState) -> Result<(), String> {
    let dir = dir(state);
    if client::status(&dir).await.is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("proxy.log"))
        .map_err(|e| format!("cannot open the proxy's log: {e}"))?;
    let exe = executable(state)?;
    let mut child = tokio::process::Command::new(&exe)
        .arg("proxy")
        .arg("--dir")
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start optimus-proxy ({}): {e}", exe.display()))?;
    // Reap it if it ends while Optimus runs (e.g. another proxy held the lock); at shutdown it is
    // let go: it keeps serving.
    let mut shutdown = state.jobs.shutdown_signal();
    state.jobs.spawn("deployments.reap_proxy", async move {
        tokio::select! {
            _ = child.wait() => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
    for _ in 0..250 {
        if client::status(&dir).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!(
        "optimus-proxy did not answer within 5 s (see {})",
        dir.join("proxy.log").display()
    ))
}

/// Points the public port of a project's service at `target` (the proxy switches at once;
/// requests under way finish where they are).
pub async fn switch(
    state: &AppState,
    route: &str,
    public_port: u16,
    hosts: &[String],
    target: SocketAddr,
) -> Result<RouteStatus, String> {
    ensure(state).await?;
    let spec = RouteSpec {
        listen: SocketAddr::new(state.settings.public_bind, public_port),
        hosts: hosts.to_vec(),
        target: Some(target),
    };
    client::set_route(&dir(state), route, &spec)
        .await
        .map_err(|e| e.to_string())
}

/// The counters of `target` on `route`, if the proxy has them.
pub async fn stats(state: &AppState, route: &str, target: SocketAddr) -> Option<TargetStats> {
    let r = client::route(&dir(state), route).await.ok().flatten()?;
    let t = target.to_string();
    r.targets.into_iter().find(|s| s.target == t)
}

/// Removes a route (the project no longer serves that port).
pub async fn remove(state: &AppState, route: &str) -> Result<(), String> {
    client::remove_route(&dir(state), route)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
