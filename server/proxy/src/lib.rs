//! `optimus-proxy`: the reverse proxy in front of deployed services.
//!
//! It is a separate small process so that restarting or upgrading Optimus drops no proxied
//! request. Optimus tells it, over a Unix socket in its folder, which public address
//! (optionally which host names) forwards to which target; it switches a route's target
//! atomically (requests already under way finish on the old one), counts requests and
//! responses per target so Optimus can watch a new release's 5xx ratio and an old one's drain,
//! and keeps its routes in a file so they survive its own restart.
//!
//! - [`routes`]: the route table, its checks and the file it is kept in;
//! - [`forward`]: the data path (HTTP/1.1, HTTP/2 without TLS, upgrades such as WebSockets);
//! - [`control`]: the control API on `control.sock`;
//! - [`client`]: how Optimus (and tests) talk to that API.

pub mod client;
pub mod control;
pub mod forward;
pub mod routes;

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The control socket, in the proxy's folder.
pub const CONTROL_SOCKET: &str = "control.sock";
/// The routes, as last set (JSON).
pub const ROUTES_FILE: &str = "routes.json";
/// Held (flock) by the running proxy: one proxy per folder.
pub const LOCK_FILE: &str = "proxy.lock";
/// The running proxy's process id.
pub const PID_FILE: &str = "proxy.pid";

/// What a route is: where it listens, for which host names, and where it forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSpec {
    /// The public address, e.g. `0.0.0.0:8080`. Several routes may share one when each names
    /// its host names (at most one of them without any: it takes the rest).
    pub listen: SocketAddr,
    /// Host names this route answers (lower case, no port); empty: any.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Where requests go; none: the route answers 503.
    #[serde(default)]
    pub target: Option<SocketAddr>,
}

/// Counters of one target of a route since the proxy started (or the target was first set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetStats {
    pub target: String,
    /// Requests forwarded (or tried).
    pub requests: u64,
    /// Requests whose response has not finished yet.
    pub in_flight: u64,
    /// Upgraded connections (WebSockets) still open.
    pub tunnels: u64,
    /// Responses by status class.
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Requests the target never answered (refused, reset, timed out): the proxy answered 502.
    pub failed: u64,
}

/// A route as the proxy holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStatus {
    pub name: String,
    #[serde(flatten)]
    pub spec: RouteSpec,
    /// Whether its address is being listened on; `error` says why not.
    pub listening: bool,
    #[serde(default)]
    pub error: Option<String>,
    /// The current target first, then earlier ones still counted (draining or recently left).
    pub targets: Vec<TargetStats>,
}

/// The proxy's answer to `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    pub routes: Vec<RouteStatus>,
}

/// An error the control API answers with (`{"error": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlError {
    pub error: String,
}

/// The control socket of the proxy whose folder is `dir`.
pub fn control_socket(dir: &Path) -> PathBuf {
    dir.join(CONTROL_SOCKET)
}

/// Runs the proxy as a program: `optimus-proxy --dir DIR` (a leading `proxy` is ignored, so it
/// is started exactly like `optimus proxy --dir DIR`). Returns the exit code.
pub fn run() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = None;
    let mut it = args.iter().filter(|a| a.as_str() != "proxy");
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = it.next().map(PathBuf::from),
            other => {
                if let Some(d) = other.strip_prefix("--dir=") {
                    dir = Some(PathBuf::from(d));
                } else {
                    eprintln!("optimus-proxy: unknown argument `{other}` (usage: optimus-proxy --dir DIR)");
                    return 2;
                }
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!(
            "optimus-proxy: --dir DIR is required (its routes, lock and control socket live there)"
        );
        return 2;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("optimus-proxy: cannot start: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        // Installed before the proxy listens, so a stop asked for at once still drains.
        use tokio::signal::unix::{signal, SignalKind};
        let signals = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        let stop = async move {
            match signals {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        match control::serve(&dir, stop).await {
            Ok(()) => 0,
            Err(e) => {
                log(&format!("stopped: {e}"));
                1
            }
        }
    })
}

/// One line on the proxy's standard error (its log file when Optimus starts it).
pub(crate) fn log(message: &str) {
    eprintln!(
        "{} optimus-proxy: {message}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
}
