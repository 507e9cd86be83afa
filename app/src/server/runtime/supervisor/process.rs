//! A run's processes: whether they are still there, and stopping the whole tree.

use crate::server::runtime::entities::service_run;
use crate::server::runtime::{proc, processes};

/// Whether the run's main process or its shim still exists.
pub(super) fn run_alive(run: &service_run::Model) -> bool {
    let shim = run
        .shim_pid
        .and_then(|p| u32::try_from(p).ok())
        .is_some_and(|p| proc::start_time(p).is_some());
    main_alive(run) || shim
}

/// Whether the run's main process is still the one it started (same pid and start time).
pub(super) fn main_alive(run: &service_run::Model) -> bool {
    match (run.pid, run.pid_start) {
        (Some(p), Some(s)) => u32::try_from(p)
            .ok()
            .zip(u64::try_from(s).ok())
            .is_some_and(|(p, s)| proc::is_same_process(p, s)),
        _ => false,
    }
}

/// Stops a run's whole process tree (see [`processes::terminate`]).
pub(super) async fn terminate(run: &service_run::Model, grace_ms: u64) {
    let Some(pid) = run.pid.and_then(|p| u32::try_from(p).ok()) else {
        return;
    };
    let process = processes::Process {
        pid,
        shim_pid: run.shim_pid.and_then(|p| u32::try_from(p).ok()),
        run_dir: std::path::PathBuf::from(&run.run_dir),
    };
    processes::terminate(&process, grace_ms).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pid: Option<i32>, pid_start: Option<i64>) -> service_run::Model {
        service_run::Model {
            id: 1,
            service_id: 1,
            attempt: 0,
            pid,
            pid_start,
            shim_pid: None,
            port: None,
            run_dir: String::new(),
            spec_hash: String::new(),
            started_at: chrono::Utc::now(),
            ready_at: None,
            ended_at: None,
            exit_code: None,
            signal: None,
            reason: None,
            spec: "{}".into(),
            limits: "[]".into(),
            log_trouble: None,
            owner: None,
        }
    }

    #[test]
    fn a_run_is_alive_only_while_its_process_is_the_one_it_started() {
        let me = std::process::id();
        let start = proc::start_time(me).and_then(|s| i64::try_from(s).ok());
        let pid = i32::try_from(me).ok();
        assert!(run_alive(&run(pid, start)));
        assert!(!main_alive(&run(pid, start.map(|s| s + 1))), "a reused pid");
        assert!(!run_alive(&run(None, None)));
    }
}
