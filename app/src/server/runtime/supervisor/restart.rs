//! What follows the end of a run: restart after a backoff, give up as a crash loop, or stop.

use super::{announce, timeline};
use crate::models::runtime::{ServiceDefinition, ServiceState};
use crate::server::bus::DomainEvent;
use crate::server::catalog::Project;
use crate::server::notifications::{self, NewNotification};
use crate::server::runtime::entities::service;
use crate::server::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// A run that lasted this long resets the restart streak.
const STABLE: Duration = Duration::from_secs(30);

/// The service whose run ended.
#[derive(Clone, Copy)]
pub(super) struct Who<'a> {
    /// The application.
    pub state: &'a AppState,
    /// The service.
    pub svc: &'a service::Model,
    /// Its definition.
    pub def: &'a ServiceDefinition,
    /// Its project.
    pub project: &'a Project,
}

/// How a run ended (not by a user).
pub(super) struct Ended {
    /// The run.
    pub run_id: i64,
    /// Why it ended.
    pub reason: String,
    /// Whether that counts as a failure.
    pub failure: bool,
    /// How long it ran.
    pub ran: Duration,
}

/// Reports a failure, then waits out the backoff, or records the end for good (exited, failed,
/// crash loop, stopped during the backoff). True when the service is to be launched again.
pub(super) async fn after_end(
    who: Who<'_>,
    ended: Ended,
    streak: &mut u32,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let Who {
        state,
        svc,
        def,
        project,
    } = who;
    let Ended {
        run_id,
        reason,
        failure,
        ran,
    } = ended;
    if ran >= STABLE {
        *streak = 0;
    }
    if failure {
        state.bus.emit(DomainEvent::RunFailed {
            project_id: project.id,
            project_name: project.name.clone(),
            service_id: svc.id,
            service_name: svc.name.clone(),
            run_id,
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
        timeline(state, svc, kind, format!("`{}` {reason}", svc.name)).await;
        announce(state, svc, ended, Some(reason), None, None).await;
        return false;
    }
    *streak += 1;
    if *streak > def.restart.max_retries {
        crash_loop(who, &reason, *streak).await;
        return false;
    }
    let delay = def.restart.delay_ms(*streak);
    let message = format!(
        "{reason}; restart {streak} of {} in {delay} ms",
        def.restart.max_retries
    );
    announce(
        state,
        svc,
        ServiceState::Backoff,
        Some(message),
        None,
        Some(*streak),
    )
    .await;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(delay)) => true,
        _ = stop.changed() => {
            announce(state, svc, ServiceState::Stopped, Some("stopped".into()), None, Some(0)).await;
            false
        }
    }
}

/// Gives up after too many restarts in a row: timeline, notification, `crash_loop` state.
async fn crash_loop(who: Who<'_>, reason: &str, streak: u32) {
    let Who {
        state,
        svc,
        def,
        project,
    } = who;
    let message = format!(
        "restarted {} times in a row; last run: {reason}",
        def.restart.max_retries
    );
    timeline(
        state,
        svc,
        "crash_loop",
        format!("`{}` {message}", svc.name),
    )
    .await;
    notifications::notify(
        state,
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
        state,
        svc,
        ServiceState::CrashLoop,
        Some(message),
        None,
        Some(streak - 1),
    )
    .await;
}
