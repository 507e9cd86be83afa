//! Following a live run: its log lines, its probes and its exit, until it ends or a user stops
//! it; and recording how it ended.

use super::changes::Changes;
use super::probing::{Probing, Verdict};
use super::process::{run_alive, terminate};
use super::{announce, timeline, Outcome};
use crate::models::events::Event;
use crate::models::runtime::{LogLine, LogTrouble, ServiceDefinition, ServiceState};
use crate::server::notifications::{self, NewNotification};
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::logs::{self, Tail};
use crate::server::runtime::shim::{self, ShimExit};
use crate::server::runtime::{processes, repo};
use crate::server::{db, AppState};
use chrono::Utc;
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// At most how often a run's log and exit are read: when its directory changes (see
/// [`Changes`]), or every tick where it cannot be watched.
const TICK: Duration = Duration::from_millis(100);
/// How often the shim's log status is read and the processes looked for, and the longest a
/// watched run goes unread whatever happened.
const SECOND: Duration = Duration::from_secs(1);

/// Watches a live run until it ends or a user stops it.
pub(super) async fn watch_run(
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
    let mut probing = Probing::start(state.runtime.http().clone(), def, port, cwd);
    if probing.judge.ready_at_once() {
        mark_ready(state, svc, run).await;
    }
    // Woken by changes in the run directory where it can be watched, polled where not.
    let changes = Changes::watch(&dir);
    let mut first = true;
    let mut last_read = Instant::now();
    let mut last_slow = Instant::now();
    loop {
        let mut probe_kill: Option<String> = None;
        let wake = async {
            if first {
                return;
            }
            if let Some(c) = &changes {
                // A change, or a second without one.
                let _ = tokio::time::timeout(SECOND, c.changed()).await;
            }
            tokio::time::sleep_until(last_read + TICK).await;
        };
        tokio::select! {
            _ = wake => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    announce(state, svc, ServiceState::Stopping, None, Some(run), None).await;
                    terminate(run, def.grace_ms).await;
                    publish_lines(state, svc.id, tail.read(svc.id, run.id), &probing).await;
                    finish_run(state, run, &dir, Some("stopped by a user".into())).await;
                    return Outcome::Stopped;
                }
            }
            Some((kind, result)) = probing.results.recv() => {
                match probing.judge.judge(kind, result, run.ready_at.is_some()) {
                    Verdict::Ready => mark_ready(state, svc, run).await,
                    Verdict::Unhealthy(why) => {
                        announce(state, svc, ServiceState::Unhealthy, Some(why), Some(run), None).await;
                    }
                    Verdict::Kill(why) => probe_kill = Some(why),
                    Verdict::Nothing => {}
                }
            }
        }
        first = false;
        last_read = Instant::now();
        publish_lines(state, svc.id, tail.read(svc.id, run.id), &probing).await;
        let slow = last_slow.elapsed() >= SECOND;
        if slow {
            last_slow = Instant::now();
            note_log_trouble(state, svc, run, &dir).await;
        }
        if let Some(reason) = probe_kill {
            terminate(run, def.grace_ms).await;
            publish_lines(state, svc.id, tail.read(svc.id, run.id), &probing).await;
            finish_run(state, run, &dir, Some(reason.clone())).await;
            return Outcome::Ended {
                reason,
                failure: true,
            };
        }
        if let Some(exit) = processes::exit_of(&dir) {
            publish_lines(state, svc.id, tail.read(svc.id, run.id), &probing).await;
            let (reason, failure) = describe_exit(&exit);
            finish_run(state, run, &dir, Some(reason.clone())).await;
            return Outcome::Ended { reason, failure };
        }
        // The shim's exit file is how a run normally ends; that both processes vanished
        // without one is checked once a second.
        if slow && !run_alive(run) {
            // Check once more: the shim may have written the exit file just now.
            if processes::exit_of(&dir).is_some() {
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

/// What the shim says the run's log could not keep (nothing while all is written).
fn log_status(dir: &Path) -> Option<LogTrouble> {
    shim::read_json::<LogTrouble>(dir, logs::STATUS).filter(|t| t.lost_lines > 0)
}

/// Records on the run what its log could not keep, when that changed; when writing starts to
/// fail it says so on the timeline and in a notification, and when it works again on the
/// timeline. The service itself is left running (the shim keeps reading its output, so it never
/// blocks on a full pipe); only the lost lines are missing.
async fn note_log_trouble(
    state: &AppState,
    svc: &service::Model,
    run: &mut service_run::Model,
    dir: &Path,
) {
    let Some(now) = log_status(dir) else {
        return;
    };
    let before = repo::services::log_trouble(run).ok().flatten();
    if before.as_ref() == Some(&now) {
        return;
    }
    run.log_trouble = Some(repo::services::encode_log_trouble(&now));
    match repo::services::save_run(&state.db, run.clone()).await {
        Ok(saved) => *run = saved,
        Err(e) => tracing::warn!(run.id = run.id, error = %e, "could not record log trouble"),
    }
    let was_failing = before.is_some_and(|b| b.error.is_some());
    match (was_failing, &now.error) {
        (false, Some(error)) => {
            tracing::warn!(service.id = svc.id, run.id = run.id, error = %error, "a run's log cannot be written");
            let what = format!("The log of `{}` cannot be written: {error}", svc.name);
            timeline(state, svc, "log_trouble", what.clone()).await;
            notifications::notify(
                state,
                NewNotification {
                    level: "warning",
                    kind: "log_trouble",
                    title: format!("{}: log lines are being lost", svc.name),
                    body: format!("{what}. The service keeps running; free space on the disk."),
                    project_id: Some(svc.project_id),
                    service_id: Some(svc.id),
                },
            )
            .await;
        }
        (true, None) => {
            let what = format!(
                "The log of `{}` is written again ({} lines were lost)",
                svc.name, now.lost_lines
            );
            timeline(state, svc, "log_resumed", what).await;
        }
        _ => {}
    }
}

async fn mark_ready(state: &AppState, svc: &service::Model, run: &mut service_run::Model) {
    if run.ready_at.is_none() {
        run.ready_at = Some(Utc::now());
        let saved = db::until_reachable("record that a run is ready", || {
            repo::services::save_run(&state.db, run.clone())
        })
        .await;
        if let Ok(saved) = saved {
            *run = saved;
        }
    }
    announce(state, svc, ServiceState::Ready, None, Some(run), None).await;
}

/// Publishes new log lines, noting whether one matched a probe's pattern.
async fn publish_lines(state: &AppState, service_id: i64, lines: Vec<LogLine>, probing: &Probing) {
    note_matches(&lines, &probing.patterns, &probing.matched);
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

fn note_matches(lines: &[LogLine], patterns: &[regex::Regex], matched: &AtomicBool) {
    if lines.is_empty() || patterns.is_empty() || matched.load(Ordering::Relaxed) {
        return;
    }
    let hit = lines
        .iter()
        .any(|l| patterns.iter().any(|p| p.is_match(&l.text)));
    if hit {
        matched.store(true, Ordering::Relaxed);
    }
}

/// The words for an exit, and whether it counts as a failure.
pub(super) fn describe_exit(exit: &ShimExit) -> (String, bool) {
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

/// Records how a run ended (from the shim's exit file when there is one).
pub(super) async fn finish_run(
    state: &AppState,
    run: &mut service_run::Model,
    dir: &Path,
    reason: Option<String>,
) {
    let exit = processes::exit_of(dir);
    run.ended_at = Some(exit.as_ref().map(|e| e.at).unwrap_or_else(Utc::now));
    run.exit_code = exit.as_ref().and_then(|e| e.code);
    run.signal = exit.as_ref().and_then(|e| e.signal);
    run.reason = reason;
    if let Some(trouble) = log_status(dir) {
        run.log_trouble = Some(repo::services::encode_log_trouble(&trouble));
    }
    let saved = db::until_reachable("record the end of a run", || {
        repo::services::save_run(&state.db, run.clone())
    })
    .await;
    match saved {
        Ok(saved) => *run = saved,
        Err(e) => tracing::warn!(run.id = run.id, error = %e, "could not record the end of a run"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(code: Option<i32>, signal: Option<i32>, error: Option<&str>) -> ShimExit {
        ShimExit {
            code,
            signal,
            at: Utc::now(),
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn only_a_zero_status_is_a_clean_exit() {
        assert_eq!(
            describe_exit(&exit(Some(0), None, None)),
            ("exited with status 0".into(), false)
        );
        assert_eq!(
            describe_exit(&exit(Some(3), None, None)),
            ("exited with status 3".into(), true)
        );
        assert_eq!(
            describe_exit(&exit(None, Some(9), None)),
            ("killed by signal 9 (SIGKILL)".into(), true)
        );
        assert_eq!(
            describe_exit(&exit(Some(0), None, Some("no such command"))),
            ("no such command".into(), true)
        );
    }

    #[test]
    fn a_log_line_matching_a_probe_pattern_is_remembered() {
        let line = |text: &str| LogLine {
            service_id: 1,
            run_id: 1,
            seq: 0,
            at: Utc::now(),
            stream: crate::models::runtime::LogStream::Stdout,
            text: text.into(),
        };
        let patterns: Vec<regex::Regex> =
            regex::Regex::new("listening on \\d+").into_iter().collect();
        assert_eq!(patterns.len(), 1);
        let matched = AtomicBool::new(false);
        note_matches(&[line("starting")], &patterns, &matched);
        assert!(!matched.load(Ordering::Relaxed));
        note_matches(&[line("listening on 8080")], &patterns, &matched);
        assert!(matched.load(Ordering::Relaxed));
    }
}
