//! Processes Optimus starts through the log shim, whatever they are for (a service's run, and
//! next a pipeline step's attempt): starting one, reading how it ended, and stopping its whole
//! tree. One way of starting processes, with the shim's process group, limits, log capture and
//! secret masking.

use crate::server::jobs::Jobs;
use crate::server::runtime::proc;
use crate::server::runtime::shim::{self, ShimExit, ShimSpec, ShimStarted};
use crate::server::AppState;
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A started process: its main pid (also its process group), its shim, and its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// The main process.
    pub pid: u32,
    /// The shim that owns its output.
    pub shim_pid: Option<u32>,
    /// Where its log, state and exit files are.
    pub run_dir: PathBuf,
}

/// How the process in `run_dir` ended, once its shim has recorded it.
pub fn exit_of(run_dir: &Path) -> Option<ShimExit> {
    shim::read_json::<ShimExit>(run_dir, shim::EXIT_FILE)
}

/// The shim executable: the setting, else `optimus-shim` beside this executable, else this
/// executable (run as `optimus shim`).
fn shim_path(state: &AppState) -> Result<PathBuf, String> {
    if let Some(p) = &state.settings.shim_path {
        return Ok(p.clone());
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the optimus executable: {e}"))?;
    let beside = exe.with_file_name("optimus-shim");
    Ok(if beside.is_file() { beside } else { exe })
}

/// Starts the log shim, hands it `spec`, and waits until the process exists (at most 10 s). The
/// shim is reaped whenever it ends; at shutdown it is let go (it and its process keep running).
pub async fn spawn(state: &AppState, spec: &ShimSpec) -> Result<ShimStarted, String> {
    spawn_watched(state, spec).await.map(|(started, _)| started)
}

/// Fires when the shim has ended (so its exit file is written), or is dropped at shutdown.
pub type Ended = tokio::sync::oneshot::Receiver<()>;

/// [`spawn`], also telling the caller the moment the shim ends, so it need not poll for the
/// exit file.
pub async fn spawn_watched(
    state: &AppState,
    spec: &ShimSpec,
) -> Result<(ShimStarted, Ended), String> {
    use tokio::io::AsyncWriteExt;
    let exe = shim_path(state)?;
    let mut child = tokio::process::Command::new(&exe)
        .arg("shim")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the log shim {}: {e}", exe.display()))?;
    let body = serde_json::to_vec(spec).map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&body)
            .await
            .map_err(|e| format!("cannot hand the spec to the shim: {e}"))?;
    }
    // The shim outlives this call; reap it whenever it ends. At shutdown it is let go, not
    // waited for: it and the service belong to the user and keep running (the next start adopts
    // them), and waiting would hold the exit for the whole shutdown grace.
    let mut shutdown = state.jobs.shutdown_signal();
    let (ended, on_end) = tokio::sync::oneshot::channel();
    state.jobs.spawn(
        format!("runtime.reap_shim:{}", spec.run_dir.display()),
        async move {
            tokio::select! {
                _ = child.wait() => { let _ = ended.send(()); }
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        },
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = shim::read_json::<ShimStarted>(&spec.run_dir, shim::STATE_FILE) {
            return Ok((s, on_end));
        }
        if let Some(e) = exit_of(&spec.run_dir) {
            return Err(e
                .error
                .unwrap_or_else(|| "the process ended at once".into()));
        }
        if Instant::now() > deadline {
            return Err("the log shim did not start the process within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// Stops a process's whole tree: SIGTERM to its process group and to every process below
/// its shim, then SIGKILL to whatever is left after `grace_ms`. Waits for the shim to record
/// the exit.
pub async fn terminate(process: &Process, grace_ms: u64) {
    let (pid, shim_pid, dir) = (process.pid, process.shim_pid, process.run_dir.clone());
    let tree = move || proc::ProcTable::read().tree(pid, shim_pid);
    // A failed read of the process table must not look like "nothing left": keep signalling the
    // main process, whose pid we know.
    let fallback = vec![pid];
    let remaining = Jobs::blocking("runtime.process_tree", tree)
        .await
        .unwrap_or_else(|_| fallback.clone());
    proc::signal_all(pid, &remaining, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_millis(grace_ms);
    loop {
        let left = Jobs::blocking("runtime.process_tree", tree)
            .await
            .unwrap_or_else(|_| fallback.clone());
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            proc::signal_all(pid, &left, Signal::SIGKILL);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The shim notices the end and writes the exit file.
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until
        && exit_of(&dir).is_none()
        && shim_pid.is_some_and(|s| proc::start_time(s).is_some())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
