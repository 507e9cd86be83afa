//! A run's probes: one task per probe reports each check, and [`Verdict`]s turn the results so
//! far into readiness, unhealthiness or the end of the run.

use crate::models::runtime::{Probe, ProbeCheck, ServiceDefinition};
use crate::server::runtime::probes;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Which probe reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Startup,
    Readiness,
    Liveness,
}

/// What a probe result means for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing changes.
    Nothing,
    /// The run became ready.
    Ready,
    /// A ready run is no longer ready (why).
    Unhealthy(String),
    /// The run is to be ended (why).
    Kill(String),
}

/// The probes of a run and the count of their results (no tasks: judged one result at a time).
#[derive(Debug, Clone)]
pub(super) struct Judge {
    startup: Option<Probe>,
    readiness: Option<Probe>,
    liveness: Option<Probe>,
    started_ok: bool,
    ready: bool,
    startup_fails: u32,
    ready_fails: u32,
    live_fails: u32,
}

fn threshold(p: &Option<Probe>) -> u32 {
    p.as_ref().map(|p| p.failure_threshold.max(1)).unwrap_or(1)
}

impl Judge {
    /// Judges the probes of `def` for a run on `port`. Without a readiness probe, a service with
    /// a port is ready once the port accepts connections; one without a port is ready once its
    /// startup probe (if any) passes.
    pub(super) fn new(def: &ServiceDefinition, port: Option<u16>) -> Self {
        let readiness = def.probes.readiness.clone().or_else(|| {
            port.map(|_| Probe {
                check: ProbeCheck::Tcp,
                interval_ms: 200,
                timeout_ms: 1000,
                failure_threshold: u32::MAX,
            })
        });
        Judge {
            startup: def.probes.startup.clone(),
            readiness,
            liveness: def.probes.liveness.clone(),
            started_ok: def.probes.startup.is_none(),
            ready: false,
            startup_fails: 0,
            ready_fails: 0,
            live_fails: 0,
        }
    }

    /// True (once) when the run is ready from the start: no startup probe and no readiness one.
    pub(super) fn ready_at_once(&mut self) -> bool {
        if self.started_ok && self.readiness.is_none() {
            self.ready = true;
            return true;
        }
        false
    }

    /// Counts one result. `been_ready`: whether the run has been ready at some point (liveness
    /// counts only then: a service still booting is not hung).
    pub(super) fn judge(
        &mut self,
        kind: Kind,
        result: Result<(), String>,
        been_ready: bool,
    ) -> Verdict {
        match (kind, result) {
            (Kind::Startup, Ok(())) if !self.started_ok => {
                self.started_ok = true;
                if self.readiness.is_none() {
                    self.ready = true;
                    return Verdict::Ready;
                }
            }
            (Kind::Startup, Err(why)) if !self.started_ok => {
                self.startup_fails += 1;
                if self.startup_fails >= threshold(&self.startup) {
                    return Verdict::Kill(format!("startup probe failed: {why}"));
                }
            }
            (Kind::Readiness, Ok(())) if self.started_ok => {
                self.ready_fails = 0;
                if !self.ready {
                    self.ready = true;
                    return Verdict::Ready;
                }
            }
            (Kind::Readiness, Err(why)) if self.started_ok => {
                self.ready_fails += 1;
                if self.ready && self.ready_fails >= threshold(&self.readiness) {
                    self.ready = false;
                    return Verdict::Unhealthy(format!("readiness probe failed: {why}"));
                }
            }
            (Kind::Liveness, Ok(())) => self.live_fails = 0,
            (Kind::Liveness, Err(why)) if self.started_ok && been_ready => {
                self.live_fails += 1;
                if self.live_fails >= threshold(&self.liveness) {
                    return Verdict::Kill(format!("liveness probe failed: {why}"));
                }
            }
            _ => {}
        }
        Verdict::Nothing
    }
}

/// The probe tasks of one live run (they end when this is dropped), with their judge and the
/// log-line patterns the watcher checks for them.
pub(super) struct Probing {
    /// Judges the results.
    pub judge: Judge,
    /// The log-line patterns of the run's probes (checked by the watcher).
    pub patterns: Vec<regex::Regex>,
    /// Whether a log line has matched one of them.
    pub matched: Arc<AtomicBool>,
    /// Results as they come.
    pub results: mpsc::Receiver<(Kind, Result<(), String>)>,
    _tasks: JoinSet<()>,
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

impl Probing {
    /// Starts the probes of `def` for a run on `port` in `cwd`.
    pub(super) fn start(
        http: reqwest::Client,
        def: &ServiceDefinition,
        port: Option<u16>,
        cwd: PathBuf,
    ) -> Self {
        // Log-line patterns (checked by the watcher, reported by the probe tasks).
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
        let judge = Judge::new(def, port);
        let (tx, results) = mpsc::channel(16);
        let mut tasks = JoinSet::new();
        let ctx = ProbeContext {
            http,
            port,
            cwd,
            matched: matched.clone(),
            tx,
        };
        for (kind, probe) in [
            (Kind::Startup, judge.startup.clone()),
            (Kind::Readiness, judge.readiness.clone()),
            (Kind::Liveness, judge.liveness.clone()),
        ] {
            if let Some(p) = probe {
                spawn_probe(&mut tasks, kind, p, ctx.clone());
            }
        }
        drop(ctx);
        Probing {
            judge,
            patterns,
            matched,
            results,
            _tasks: tasks,
        }
    }
}

fn spawn_probe(set: &mut JoinSet<()>, kind: Kind, probe: Probe, ctx: ProbeContext) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(threshold: u32) -> Option<Probe> {
        Some(Probe {
            check: ProbeCheck::Tcp,
            interval_ms: 100,
            timeout_ms: 100,
            failure_threshold: threshold,
        })
    }

    fn failed() -> Result<(), String> {
        Err("refused".into())
    }

    #[test]
    fn a_service_without_probes_or_port_is_ready_at_once() {
        let def = ServiceDefinition::new("job", "run");
        let mut judge = Judge::new(&def, None);
        assert!(judge.ready_at_once());
        let mut with_port = Judge::new(&def, Some(8080));
        assert!(!with_port.ready_at_once(), "waits for the port");
        assert_eq!(
            with_port.judge(Kind::Readiness, Ok(()), false),
            Verdict::Ready
        );
        assert_eq!(
            with_port.judge(Kind::Readiness, failed(), true),
            Verdict::Nothing,
            "the implicit port check never turns a ready run unhealthy"
        );
    }

    #[test]
    fn a_startup_probe_ends_the_run_at_its_failure_threshold() {
        let mut def = ServiceDefinition::new("web", "serve");
        def.probes.startup = probe(2);
        let mut judge = Judge::new(&def, None);
        assert!(!judge.ready_at_once());
        assert_eq!(
            judge.judge(Kind::Startup, failed(), false),
            Verdict::Nothing
        );
        assert_eq!(
            judge.judge(Kind::Startup, failed(), false),
            Verdict::Kill("startup probe failed: refused".into())
        );
    }

    #[test]
    fn readiness_failures_make_a_ready_run_unhealthy_once_and_a_pass_makes_it_ready() {
        let mut def = ServiceDefinition::new("web", "serve");
        def.probes.readiness = probe(2);
        let mut judge = Judge::new(&def, Some(8080));
        assert_eq!(judge.judge(Kind::Readiness, Ok(()), false), Verdict::Ready);
        assert_eq!(
            judge.judge(Kind::Readiness, failed(), true),
            Verdict::Nothing
        );
        assert_eq!(
            judge.judge(Kind::Readiness, failed(), true),
            Verdict::Unhealthy("readiness probe failed: refused".into())
        );
        assert_eq!(
            judge.judge(Kind::Readiness, failed(), true),
            Verdict::Nothing
        );
        assert_eq!(judge.judge(Kind::Readiness, Ok(()), true), Verdict::Ready);
    }

    #[test]
    fn liveness_failures_count_only_once_the_run_has_been_ready() {
        let mut def = ServiceDefinition::new("web", "serve");
        def.probes.liveness = probe(2);
        let mut judge = Judge::new(&def, None);
        for _ in 0..5 {
            assert_eq!(
                judge.judge(Kind::Liveness, failed(), false),
                Verdict::Nothing
            );
        }
        assert_eq!(
            judge.judge(Kind::Liveness, failed(), true),
            Verdict::Nothing
        );
        assert_eq!(judge.judge(Kind::Liveness, Ok(()), true), Verdict::Nothing);
        assert_eq!(
            judge.judge(Kind::Liveness, failed(), true),
            Verdict::Nothing
        );
        assert_eq!(
            judge.judge(Kind::Liveness, failed(), true),
            Verdict::Kill("liveness probe failed: refused".into())
        );
    }
}
