//! One service's life: wait for dependencies, launch through the shim, watch logs, probes and
//! exit, restart per policy, stop on request.

use super::logs::Tail;
use super::shim::{self, ShimExit, ShimSpec, ShimStarted};
use super::{ports, probes, proc, Runtime};
use crate::models::events::Event;
use crate::models::runtime::{
    LogLine, Probe, ProbeCheck, ResourceLimits, ServiceDefinition, ServiceState,
};
use crate::server::bus::DomainEvent;
use crate::server::catalog::Project;
use crate::server::environments::{self, Resolved};
use crate::server::jobs::Jobs;
use crate::server::notifications;
use crate::server::notifications::NewNotification;
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::repo;
use crate::server::AppState;
use chrono::Utc;
use nix::sys::signal::Signal;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// A run that lasted this long resets the restart streak.
const STABLE: Duration = Duration::from_secs(30);
/// How often a run's log and exit are checked.
const TICK: Duration = Duration::from_millis(100);

/// How a run ended.
enum Outcome {
    /// A user stopped it.
    Stopped,
    /// It ended (or was ended by a failed probe).
    Ended { reason: String, failure: bool },
}

/// Records and announces a state change.
async fn announce(
    state: &AppState,
    svc: &service::Model,
    st: ServiceState,
    message: Option<String>,
    run: Option<&service_run::Model>,
    restarts: Option<u32>,
) {
    if let Err(e) =
        repo::services::set_state(&state.db, svc.id, st, message.as_deref(), restarts).await
    {
        tracing::warn!(service.id = svc.id, error = %e, "could not record service state");
    }
    tracing::info!(service.id = svc.id, service = %svc.name, state = st.as_str(), message = message.as_deref().unwrap_or(""), "service state");
    state
        .bus
        .publish(Event::ServiceChanged {
            id: svc.id,
            project_id: svc.project_id,
            name: svc.name.clone(),
            state: st,
            message,
            pid: run.and_then(|r| r.pid).and_then(|p| u32::try_from(p).ok()),
            port: run.and_then(|r| r.port).and_then(|p| u16::try_from(p).ok()),
        })
        .await;
}

/// Adds an entry to the project's activity timeline.
async fn timeline(state: &AppState, svc: &service::Model, kind: &str, summary: String) {
    if let Err(e) =
        crate::server::catalog::record_activity(&state.db, svc.project_id, kind, &summary, None)
            .await
    {
        tracing::warn!(service.id = svc.id, error = %e, "could not record a timeline entry");
    }
}

/// Supervises one service until it is stopped, ends for good, or the task is aborted.
pub async fn drive(
    state: AppState,
    service_id: i64,
    mut stop: watch::Receiver<bool>,
    mut adopt: Option<service_run::Model>,
) {
    let mut streak: u32 = 0;
    loop {
        let Ok(Some(svc)) = repo::services::find(&state.db, service_id).await else {
            return;
        };
        let Ok(Some(project)) =
            crate::server::catalog::find_project(&state.db, svc.project_id).await
        else {
            return;
        };
        let def = match repo::services::definition(&svc) {
            Ok(d) => d,
            Err(e) => {
                // Never launch a guess: the service fails with the reason until it is fixed.
                announce(
                    &state,
                    &svc,
                    ServiceState::Failed,
                    Some(e.to_string()),
                    None,
                    None,
                )
                .await;
                return;
            }
        };
        let adopted = adopt.is_some();
        let mut run = match adopt.take() {
            Some(run) => run,
            None => {
                if !wait_for_dependencies(&state, &svc, &def, &mut stop).await {
                    announce(&state, &svc, ServiceState::Stopped, None, None, Some(0)).await;
                    return;
                }
                match launch(&state, &svc, &def, &project, streak).await {
                    Ok(run) => {
                        let port = run.port.map(|p| format!(", port {p}")).unwrap_or_default();
                        let pid = run.pid.unwrap_or_default();
                        timeline(
                            &state,
                            &svc,
                            "started",
                            format!("Started `{}` (pid {pid}{port})", svc.name),
                        )
                        .await;
                        run
                    }
                    Err(message) => {
                        announce(
                            &state,
                            &svc,
                            ServiceState::Failed,
                            Some(message),
                            None,
                            None,
                        )
                        .await;
                        return;
                    }
                }
            }
        };
        announce(&state, &svc, ServiceState::Starting, None, Some(&run), None).await;
        let began = Instant::now();
        let outcome = watch_run(&state, &svc, &def, &mut run, &mut stop, adopted).await;
        let ran = began.elapsed();
        match outcome {
            Outcome::Stopped => {
                timeline(&state, &svc, "stopped", format!("Stopped `{}`", svc.name)).await;
                announce(
                    &state,
                    &svc,
                    ServiceState::Stopped,
                    Some("stopped".into()),
                    None,
                    Some(0),
                )
                .await;
                return;
            }
            Outcome::Ended { reason, failure } => {
                if ran >= STABLE {
                    streak = 0;
                }
                if failure {
                    state.bus.emit(DomainEvent::RunFailed {
                        project_id: project.id,
                        project_name: project.name.clone(),
                        service_id: svc.id,
                        service_name: svc.name.clone(),
                        run_id: run.id,
                        reason: reason.clone(),
                    });
                }
                let restart = def.restart.restarts_after(failure);
                let ended = if failure {
                    ServiceState::Failed
                } else {
                    ServiceState::Exited
                };
                if !restart {
                    let kind = if failure { "crashed" } else { "exited" };
                    timeline(&state, &svc, kind, format!("`{}` {reason}", svc.name)).await;
                    announce(&state, &svc, ended, Some(reason), None, None).await;
                    return;
                }
                streak += 1;
                if streak > def.restart.max_retries {
                    let message = format!(
                        "restarted {} times in a row; last run: {reason}",
                        def.restart.max_retries
                    );
                    timeline(
                        &state,
                        &svc,
                        "crash_loop",
                        format!("`{}` {message}", svc.name),
                    )
                    .await;
                    notifications::notify(
                        &state,
                        NewNotification {
                            level: "error",
                            kind: "crash_loop",
                            title: format!("{} is in a crash loop", svc.name),
                            body: format!("`{}` of {}: {message}", svc.name, project.name),
                            project_id: Some(svc.project_id),
                            service_id: Some(svc.id),
                        },
                    )
                    .await;
                    announce(
                        &state,
                        &svc,
                        ServiceState::CrashLoop,
                        Some(message),
                        None,
                        Some(streak - 1),
                    )
                    .await;
                    return;
                }
                let delay = def.restart.delay_ms(streak);
                let message = format!(
                    "{reason}; restart {streak} of {} in {delay} ms",
                    def.restart.max_retries
                );
                announce(
                    &state,
                    &svc,
                    ServiceState::Backoff,
                    Some(message),
                    None,
                    Some(streak),
                )
                .await;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
                    _ = stop.changed() => {
                        announce(&state, &svc, ServiceState::Stopped, Some("stopped".into()), None, Some(0)).await;
                        return;
                    }
                }
            }
        }
    }
}

/// Waits until every service named in `depends_on` is ready. False when stopped meanwhile.
async fn wait_for_dependencies(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut announced = String::new();
    loop {
        if *stop.borrow() {
            return false;
        }
        if def.depends_on.is_empty() {
            return true;
        }
        let siblings = repo::services::of_project(&state.db, svc.project_id)
            .await
            .unwrap_or_default();
        let waiting: Vec<String> = def
            .depends_on
            .iter()
            .filter(|d| {
                !siblings
                    .iter()
                    .any(|s| &s.name == *d && repo::services::state(s) == ServiceState::Ready)
            })
            .cloned()
            .collect();
        if waiting.is_empty() {
            return true;
        }
        let message = format!("waiting for {}", waiting.join(", "));
        if message != announced {
            announce(
                state,
                svc,
                ServiceState::Waiting,
                Some(message.clone()),
                None,
                None,
            )
            .await;
            announced = message;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The environment a run gets: Optimus's own (without its `OPTIMUS_*` settings), the ports of
/// the project's services as `<NAME>_PORT`, the active environment's variables, the service's
/// own variables, then `PORT`.
fn environment(
    project: &Project,
    def: &ServiceDefinition,
    port: Option<u16>,
    siblings: &[service::Model],
    active: &Resolved,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("OPTIMUS_"))
        .collect();
    for s in siblings {
        if let (Some(p), _) = ports::held_port(s) {
            env.insert(port_var(&s.name), p.to_string());
        }
    }
    env.extend(active.vars.clone());
    env.extend(def.env.clone());
    if let Some(p) = port {
        env.insert("PORT".into(), p.to_string());
        env.insert(port_var(&def.name), p.to_string());
    }
    env.insert("OPTIMUS_SERVICE".into(), def.name.clone());
    env.insert("OPTIMUS_PROJECT".into(), project.name.clone());
    env
}

/// `web-api` → `WEB_API_PORT`.
pub fn port_var(name: &str) -> String {
    let mut v: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    v.push_str("_PORT");
    v
}

/// What a run starts with: compared with the current definition and environment to tell what a
/// restart would change. Secret values appear only as a hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunSpec {
    /// The command line.
    pub command: String,
    /// The folder, relative to the project.
    pub cwd: String,
    /// The port.
    pub port: Option<u16>,
    /// Variables from the environment and the definition.
    pub env: BTreeMap<String, String>,
    /// Resource ceilings.
    #[serde(default, skip_serializing_if = "ResourceLimits::is_empty")]
    pub limits: ResourceLimits,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spec of a run of `def` with `port` in the environment `resolved`.
pub fn run_spec(def: &ServiceDefinition, port: Option<u16>, resolved: &Resolved) -> RunSpec {
    let mut env = BTreeMap::new();
    for (k, v) in &resolved.vars {
        let shown = if resolved.secret_keys.contains(k) {
            format!("secret:{}", &hex(&Sha256::digest(v.as_bytes()))[..16])
        } else {
            v.clone()
        };
        env.insert(k.clone(), shown);
    }
    env.extend(def.env.clone());
    RunSpec {
        command: def.command.clone(),
        cwd: def.cwd.clone(),
        port,
        env,
        limits: def.limits.clone(),
    }
}

/// A hash of a spec.
pub fn spec_hash(spec: &RunSpec) -> String {
    hex(&Sha256::digest(
        serde_json::to_vec(spec).unwrap_or_default(),
    ))
}

/// The shim to start: the configured one, else `optimus-shim` beside this executable, else
/// this executable itself (`optimus shim`).
fn shim_path(state: &AppState) -> Result<PathBuf, String> {
    if let Some(p) = &state.settings.shim_path {
        return Ok(p.clone());
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the optimus executable: {e}"))?;
    let beside = exe.with_file_name("optimus-shim");
    Ok(if beside.is_file() { beside } else { exe })
}

/// Starts a run: records it, starts the shim with the spec, waits for the process to exist.
async fn launch(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    project: &Project,
    attempt: u32,
) -> Result<service_run::Model, String> {
    let cwd = Path::new(&project.path).join(&def.cwd);
    if !cwd.is_dir() {
        return Err(format!("working folder {} does not exist", cwd.display()));
    }
    if def.command.trim().is_empty() {
        return Err("the service has no command".into());
    }
    let port = ports::port_for(state, svc).await?;
    if let Some(p) = port {
        if let Some(why) = ports::conflict(state, svc.id, p)
            .await
            .map_err(|e| e.to_string())?
        {
            return Err(why);
        }
    }
    let siblings = repo::services::of_project(&state.db, svc.project_id)
        .await
        .map_err(|e| e.to_string())?;
    let active = environments::resolved(state, svc.project_id)
        .await
        .map_err(|e| format!("cannot read the active environment: {e}"))?;
    let env = environment(project, def, port, &siblings, &active);
    let spec = run_spec(def, port, &active);
    let spec_json = serde_json::to_string(&spec).unwrap_or_default();
    let mut run = repo::services::insert_run(
        &state.db,
        svc.id,
        attempt,
        port,
        (&spec_hash(&spec), &spec_json),
        Utc::now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let dir = state
        .settings
        .data_dir
        .join("runs")
        .join(svc.id.to_string())
        .join(run.id.to_string());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Err(format!("cannot create {}: {e}", dir.display()));
    }
    run.run_dir = dir.to_string_lossy().into_owned();
    let spec = ShimSpec {
        command: def.command.clone(),
        cwd,
        env: env.into_iter().collect(),
        run_dir: dir.clone(),
        secrets: active.secret_values(),
        segment_bytes: state.settings.log_segment_bytes,
        limits: optimus_shim::Limits {
            memory_mb: def.limits.memory_mb,
            cpu_percent: def.limits.cpu_percent,
            open_files: def.limits.open_files,
        },
    };
    let started = match start_shim(state, &spec).await {
        Ok(s) => s,
        Err(why) => {
            run.ended_at = Some(Utc::now());
            run.exit_code = Some(127);
            run.reason = Some(why.clone());
            let _ = repo::services::save_run(&state.db, run).await;
            return Err(why);
        }
    };
    run.pid = i32::try_from(started.pid).ok();
    run.pid_start = i64::try_from(started.pid_start).ok();
    run.shim_pid = i32::try_from(started.shim_pid).ok();
    run.limits = serde_json::to_string(&started.limits).unwrap_or_else(|_| "[]".into());
    let run = repo::services::save_run(&state.db, run)
        .await
        .map_err(|e| e.to_string())?;
    prune_runs(state, svc.id).await;
    Ok(run)
}

/// Starts `optimus shim`, hands it the spec, and waits until the service process exists.
async fn start_shim(state: &AppState, spec: &ShimSpec) -> Result<ShimStarted, String> {
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
    // The shim outlives this call; reap it whenever it ends.
    state.jobs.spawn(
        format!("runtime.reap_shim:{}", spec.run_dir.display()),
        async move {
            let _ = child.wait().await;
        },
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = shim::read_json::<ShimStarted>(&spec.run_dir, shim::STATE_FILE) {
            return Ok(s);
        }
        if let Some(e) = shim::read_json::<ShimExit>(&spec.run_dir, shim::EXIT_FILE) {
            return Err(e
                .error
                .unwrap_or_else(|| "the process ended at once".into()));
        }
        if Instant::now() > deadline {
            return Err("the log shim did not start the process within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Removes the folders of runs beyond the newest `keep_runs` (Optimus created them).
async fn prune_runs(state: &AppState, service_id: i64) {
    let keep = u64::from(state.settings.keep_runs);
    let Ok(old) = repo::services::runs_beyond(&state.db, service_id, keep).await else {
        return;
    };
    let runs_root = state.settings.data_dir.join("runs");
    let mut ids = Vec::new();
    for r in old {
        let dir = PathBuf::from(&r.run_dir);
        // Only ever inside Optimus's own runs folder.
        if dir.starts_with(&runs_root) {
            let _ = std::fs::remove_dir_all(&dir);
        }
        ids.push(r.id);
    }
    let _ = repo::services::delete_runs(&state.db, ids).await;
}

/// Which probe reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Startup,
    Readiness,
    Liveness,
}

/// What every probe task of a run shares.
#[derive(Clone)]
struct ProbeContext {
    http: reqwest::Client,
    port: Option<u16>,
    cwd: PathBuf,
    matched: Arc<AtomicBool>,
    tx: mpsc::Sender<(Kind, Result<(), String>)>,
}

fn spawn_probe(set: &mut tokio::task::JoinSet<()>, kind: Kind, probe: Probe, ctx: ProbeContext) {
    let ProbeContext {
        http,
        port,
        cwd,
        matched,
        tx,
    } = ctx;
    set.spawn(async move {
        let interval = Duration::from_millis(probe.interval_ms.max(50));
        loop {
            let target = probes::Target {
                port,
                cwd: &cwd,
                log_matched: matched.load(Ordering::Relaxed),
            };
            let result = probes::check(&probe, &http, &target).await;
            if tx.send((kind, result)).await.is_err() {
                return;
            }
            tokio::time::sleep(interval).await;
        }
    });
}

/// Watches a live run until it ends or a user stops it.
async fn watch_run(
    state: &AppState,
    svc: &service::Model,
    def: &ServiceDefinition,
    run: &mut service_run::Model,
    stop: &mut watch::Receiver<bool>,
    adopted: bool,
) -> Outcome {
    let dir = PathBuf::from(&run.run_dir);
    let port = run.port.and_then(|p| u16::try_from(p).ok());
    let cwd = crate::server::catalog::find_project(&state.db, svc.project_id)
        .await
        .ok()
        .flatten()
        .map(|p| Path::new(&p.path).join(&def.cwd))
        .unwrap_or_else(|| dir.clone());
    // Adopted runs continue from the end of their log: the history is on disk already.
    let mut tail = Tail::new(&dir, adopted);

    // Log-line patterns (checked here, reported by the probe tasks).
    let matched = Arc::new(AtomicBool::new(false));
    let patterns: Vec<regex::Regex> = [
        &def.probes.startup,
        &def.probes.readiness,
        &def.probes.liveness,
    ]
    .into_iter()
    .flatten()
    .filter_map(|p| match &p.check {
        ProbeCheck::LogLine { pattern } => regex::Regex::new(pattern).ok(),
        _ => None,
    })
    .collect();

    // Without a readiness probe, a service with a port is ready once the port accepts
    // connections; one without a port is ready once its startup probe (if any) passes.
    let readiness = def.probes.readiness.clone().or_else(|| {
        port.map(|_| Probe {
            check: ProbeCheck::Tcp,
            interval_ms: 200,
            timeout_ms: 1000,
            failure_threshold: u32::MAX,
        })
    });
    let (tx, mut rx) = mpsc::channel(16);
    let mut probe_tasks = tokio::task::JoinSet::new();
    let ctx = ProbeContext {
        http: state.runtime.http().clone(),
        port,
        cwd,
        matched: matched.clone(),
        tx,
    };
    for (kind, probe) in [
        (Kind::Startup, def.probes.startup.clone()),
        (Kind::Readiness, readiness.clone()),
        (Kind::Liveness, def.probes.liveness.clone()),
    ] {
        if let Some(p) = probe {
            spawn_probe(&mut probe_tasks, kind, p, ctx.clone());
        }
    }
    drop(ctx);

    let mut started_ok = def.probes.startup.is_none();
    let mut ready = false;
    let (mut startup_fails, mut ready_fails, mut live_fails) = (0u32, 0u32, 0u32);
    if started_ok && readiness.is_none() {
        ready = true;
        mark_ready(state, svc, run).await;
    }
    let threshold = |p: &Option<Probe>| p.as_ref().map(|p| p.failure_threshold.max(1)).unwrap_or(1);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut probe_kill: Option<String> = None;
        tokio::select! {
            _ = ticker.tick() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    announce(state, svc, ServiceState::Stopping, None, Some(run), None).await;
                    terminate(run, def.grace_ms).await;
                    publish_lines(state, svc.id, tail.read(svc.id, run.id), &patterns, &matched).await;
                    finish_run(state, run, &dir, Some("stopped by a user".into())).await;
                    return Outcome::Stopped;
                }
            }
            Some((kind, result)) = rx.recv() => {
                match (kind, result) {
                    (Kind::Startup, Ok(())) if !started_ok => {
                        started_ok = true;
                        if readiness.is_none() {
                            ready = true;
                            mark_ready(state, svc, run).await;
                        }
                    }
                    (Kind::Startup, Err(why)) if !started_ok => {
                        startup_fails += 1;
                        if startup_fails >= threshold(&def.probes.startup) {
                            probe_kill = Some(format!("startup probe failed: {why}"));
                        }
                    }
                    (Kind::Readiness, Ok(())) if started_ok => {
                        ready_fails = 0;
                        if !ready {
                            ready = true;
                            mark_ready(state, svc, run).await;
                        }
                    }
                    (Kind::Readiness, Err(why)) if started_ok => {
                        ready_fails += 1;
                        if ready && ready_fails >= threshold(&readiness) {
                            ready = false;
                            announce(state, svc, ServiceState::Unhealthy, Some(format!("readiness probe failed: {why}")), Some(run), None).await;
                        }
                    }
                    (Kind::Liveness, Ok(())) => live_fails = 0,
                    // Liveness counts once the service has been ready: a service still booting is
                    // not hung.
                    (Kind::Liveness, Err(why)) if started_ok && run.ready_at.is_some() => {
                        live_fails += 1;
                        if live_fails >= threshold(&def.probes.liveness) {
                            probe_kill = Some(format!("liveness probe failed: {why}"));
                        }
                    }
                    _ => {}
                }
            }
        }
        publish_lines(
            state,
            svc.id,
            tail.read(svc.id, run.id),
            &patterns,
            &matched,
        )
        .await;
        if let Some(reason) = probe_kill {
            terminate(run, def.grace_ms).await;
            publish_lines(
                state,
                svc.id,
                tail.read(svc.id, run.id),
                &patterns,
                &matched,
            )
            .await;
            finish_run(state, run, &dir, Some(reason.clone())).await;
            return Outcome::Ended {
                reason,
                failure: true,
            };
        }
        if let Some(exit) = shim::read_json::<ShimExit>(&dir, shim::EXIT_FILE) {
            publish_lines(
                state,
                svc.id,
                tail.read(svc.id, run.id),
                &patterns,
                &matched,
            )
            .await;
            let (reason, failure) = describe_exit(&exit);
            finish_run(state, run, &dir, Some(reason.clone())).await;
            return Outcome::Ended { reason, failure };
        }
        if !run_alive(run) {
            // Check once more: the shim may have written the exit file just now.
            if shim::read_json::<ShimExit>(&dir, shim::EXIT_FILE).is_some() {
                continue;
            }
            let reason = "the process and its log shim are gone (no exit status)".to_owned();
            finish_run(state, run, &dir, Some(reason.clone())).await;
            return Outcome::Ended {
                reason,
                failure: true,
            };
        }
    }
}

async fn mark_ready(state: &AppState, svc: &service::Model, run: &mut service_run::Model) {
    if run.ready_at.is_none() {
        run.ready_at = Some(Utc::now());
        if let Ok(saved) = repo::services::save_run(&state.db, run.clone()).await {
            *run = saved;
        }
    }
    announce(state, svc, ServiceState::Ready, None, Some(run), None).await;
}

async fn publish_lines(
    state: &AppState,
    service_id: i64,
    lines: Vec<LogLine>,
    patterns: &[regex::Regex],
    matched: &AtomicBool,
) {
    if lines.is_empty() {
        return;
    }
    if !patterns.is_empty() && !matched.load(Ordering::Relaxed) {
        let hit = lines
            .iter()
            .any(|l| patterns.iter().any(|p| p.is_match(&l.text)));
        if hit {
            matched.store(true, Ordering::Relaxed);
        }
    }
    for chunk in lines.chunks(500) {
        state
            .bus
            .publish(Event::LogLines {
                service_id,
                lines: chunk.to_vec(),
            })
            .await;
    }
}

/// The words for an exit, and whether it counts as a failure.
fn describe_exit(exit: &ShimExit) -> (String, bool) {
    if let Some(e) = &exit.error {
        return (e.clone(), true);
    }
    match (exit.code, exit.signal) {
        (Some(0), _) => ("exited with status 0".into(), false),
        (Some(c), _) => (format!("exited with status {c}"), true),
        (None, Some(s)) => {
            let name = Signal::try_from(s).map(|s| s.as_str()).unwrap_or("unknown");
            (format!("killed by signal {s} ({name})"), true)
        }
        (None, None) => ("ended (status unknown)".into(), true),
    }
}

/// Whether the run's main process or its shim still exists.
fn run_alive(run: &service_run::Model) -> bool {
    let shim = run
        .shim_pid
        .and_then(|p| u32::try_from(p).ok())
        .is_some_and(|p| proc::start_time(p).is_some());
    main_alive(run) || shim
}

/// Whether the run's main process is still the one it started (same pid and start time).
fn main_alive(run: &service_run::Model) -> bool {
    match (run.pid, run.pid_start) {
        (Some(p), Some(s)) => u32::try_from(p)
            .ok()
            .zip(u64::try_from(s).ok())
            .is_some_and(|(p, s)| proc::is_same_process(p, s)),
        _ => false,
    }
}

/// Records how a run ended (from the shim's exit file when there is one).
async fn finish_run(
    state: &AppState,
    run: &mut service_run::Model,
    dir: &Path,
    reason: Option<String>,
) {
    let exit = shim::read_json::<ShimExit>(dir, shim::EXIT_FILE);
    run.ended_at = Some(exit.as_ref().map(|e| e.at).unwrap_or_else(Utc::now));
    run.exit_code = exit.as_ref().and_then(|e| e.code);
    run.signal = exit.as_ref().and_then(|e| e.signal);
    run.reason = reason;
    match repo::services::save_run(&state.db, run.clone()).await {
        Ok(saved) => *run = saved,
        Err(e) => tracing::warn!(run.id = run.id, error = %e, "could not record the end of a run"),
    }
}

/// Stops a run's whole process tree: SIGTERM to its process group and to every process below
/// its shim, then SIGKILL to whatever is left after `grace_ms`. Waits for the shim to record
/// the exit.
async fn terminate(run: &service_run::Model, grace_ms: u64) {
    let Some(pid) = run.pid.and_then(|p| u32::try_from(p).ok()) else {
        return;
    };
    let shim_pid = run.shim_pid.and_then(|p| u32::try_from(p).ok());
    let dir = PathBuf::from(&run.run_dir);
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
        && shim::read_json::<ShimExit>(&dir, shim::EXIT_FILE).is_none()
        && shim_pid.is_some_and(|s| proc::start_time(s).is_some())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// See [`Runtime::reconcile`].
pub async fn reconcile(state: &AppState, runtime: &Runtime) -> Result<(u32, u32), sea_orm::DbErr> {
    let (mut adopted, mut ended) = (0, 0);
    for svc in repo::services::all(&state.db).await? {
        let st = repo::services::state(&svc);
        if !st.is_active() {
            continue;
        }
        let latest = repo::services::runs(&state.db, svc.id, 1)
            .await?
            .into_iter()
            .next();
        match latest {
            Some(run) if run.ended_at.is_none() && run_alive(&run) && run.pid.is_some() => {
                if main_alive(&run) {
                    tracing::info!(
                        service.id = svc.id,
                        pid = run.pid,
                        "re-adopted a running service"
                    );
                    runtime.supervise(state, svc.id, Some(run));
                    adopted += 1;
                    continue;
                }
                // Only the shim is left; it is finishing. Treat as ended below.
                ended += 1;
                end_while_away(state, runtime, &svc, run).await;
            }
            Some(run) if run.ended_at.is_none() => {
                ended += 1;
                end_while_away(state, runtime, &svc, run).await;
            }
            _ => {
                // Waiting or about to restart when Optimus stopped: carry on.
                runtime.supervise(state, svc.id, None);
            }
        }
    }
    Ok((adopted, ended))
}

async fn end_while_away(
    state: &AppState,
    runtime: &Runtime,
    svc: &service::Model,
    mut run: service_run::Model,
) {
    let dir = PathBuf::from(&run.run_dir);
    let exit = shim::read_json::<ShimExit>(&dir, shim::EXIT_FILE);
    let (reason, failure) = match &exit {
        Some(e) => describe_exit(e),
        None => ("ended (status unknown)".into(), true),
    };
    let reason = format!("{reason} while Optimus was not running");
    finish_run(state, &mut run, &dir, Some(reason.clone())).await;
    let restart =
        repo::services::definition(svc).is_ok_and(|def| def.restart.restarts_after(failure));
    if restart {
        runtime.supervise(state, svc.id, None);
    } else {
        let st = if failure {
            ServiceState::Failed
        } else {
            ServiceState::Exited
        };
        announce(state, svc, st, Some(reason), None, None).await;
    }
}
