//! The delivery worker: takes due deliveries from the outbox under a lease (whichever instance
//! takes one attempts it; the others skip it), sends each through its channel in its own task,
//! logs the attempt, and schedules the next one with backoff: 5 s, 30 s, 2 min, 10 min, 30 min,
//! 1 h, then every 2 h, or when the receiver's `Retry-After` says. After `notification_attempts`
//! attempts, or a failure that cannot pass (an SMTP 5xx), the delivery is dead: listed with
//! `status: dead` until someone resends it. Just before sending, a delivery whose project a
//! maintenance window now covers is muted, and one whose channel is disabled waits (five minutes
//! at a time, using no attempt) until the channel is enabled again.
//!
//! Nothing here touches what a notification reports: a delivery that fails changes only itself.

use super::entities::{channel, delivery};
use super::repo;
use super::repo::deliveries::Attempted;
use super::send::{self, Message};
use crate::models::notifications::ChannelConfig;
use crate::server::AppState;
use chrono::{DateTime, Utc};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a taken delivery is held without an answer (longer than an attempt's timeout).
const LEASE: Duration = Duration::from_secs(60);
/// How often due deliveries are looked for without being told.
const LOOK: Duration = Duration::from_secs(1);
/// Deliveries taken per look.
const BATCH: u64 = 32;
/// How long a delivery to a disabled channel waits before it looks again (no attempt is used).
const DISABLED_WAIT: Duration = Duration::from_secs(300);
/// The waits between attempts; the last repeats.
const BACKOFF: [u64; 7] = [5, 30, 120, 600, 1800, 3600, 7200];

/// The sealing context of channel configurations.
pub const SEAL: &str = "notification-channel";

fn bell() -> &'static Arc<Notify> {
    static BELL: OnceLock<Arc<Notify>> = OnceLock::new();
    BELL.get_or_init(|| Arc::new(Notify::new()))
}

/// Looks for due deliveries now.
pub fn wake() {
    bell().notify_one();
}

/// Starts the worker's loop.
pub fn spawn(state: &AppState) {
    let jobs = state.jobs.clone();
    let state = state.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    jobs.spawn("notifications.deliveries", async move {
        let mut look = tokio::time::interval(LOOK);
        look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => return,
                _ = bell().notified() => {}
                _ = look.tick() => {}
            }
            if state.jobs.is_shutting_down() {
                return;
            }
            if let Err(e) = take_due(&state).await {
                tracing::warn!(error = %e, "could not look for due notification deliveries");
            }
        }
    });
}

async fn take_due(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    for id in repo::deliveries::due(&state.db, now, BATCH).await? {
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let Some(d) =
            repo::deliveries::take(&state.db, id, &state.instance.id, until, Utc::now()).await?
        else {
            continue;
        };
        let st = state.clone();
        state
            .jobs
            .spawn_work(format!("notifications.delivery:{id}"), async move {
                attempt(&st, d).await;
            });
    }
    Ok(())
}

/// Opens a channel's sealed configuration.
pub fn config(state: &AppState, c: &channel::Model) -> Result<ChannelConfig, String> {
    let json = state
        .crypto
        .open(SEAL, &c.config)
        .map_err(|e| format!("cannot open the channel's configuration: {e}"))?;
    serde_json::from_str(&json)
        .map_err(|e| format!("the channel's configuration is unreadable: {e}"))
}

/// Why a delivery this instance holds is not to be sent now, if it is not: a maintenance window
/// that began after it was queued (`None`: muted for good), or its channel being disabled (it
/// waits, without using an attempt).
async fn held_back(
    state: &AppState,
    d: &delivery::Model,
    c: &channel::Model,
) -> Result<Option<(Option<DateTime<Utc>>, String)>, sea_orm::DbErr> {
    if d.kind == "test" {
        return Ok(None);
    }
    if let Some(m) = repo::channels::muting(&state.db, d.project_id, Utc::now()).await? {
        let why = format!(
            "muted by maintenance window #{} until {}: {}",
            m.id,
            m.ends_at.format("%Y-%m-%d %H:%M UTC"),
            m.reason
        );
        return Ok(Some((None, why)));
    }
    if !c.enabled {
        let later = Utc::now() + chrono::Duration::from_std(DISABLED_WAIT).unwrap_or_default();
        return Ok(Some((
            Some(later),
            "waiting: the channel is disabled".to_owned(),
        )));
    }
    Ok(None)
}

/// Makes one attempt at a delivery this instance holds and logs it; the delivery as it then is.
pub async fn attempt(state: &AppState, d: delivery::Model) -> Option<delivery::Model> {
    let started = Instant::now();
    let at = Utc::now();
    let channel = match repo::channels::find(&state.db, d.channel_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, delivery = d.id, "could not read a delivery's channel");
            return None;
        }
    };
    if let Some(c) = &channel {
        match held_back(state, &d, c).await {
            Ok(None) => {}
            Ok(Some((until, why))) => {
                if let Err(e) =
                    repo::deliveries::set_aside(&state.db, &d, &state.instance.id, until, &why)
                        .await
                {
                    tracing::warn!(error = %e, delivery = d.id, "could not set a delivery aside");
                }
                return repo::deliveries::find(&state.db, d.id).await.ok().flatten();
            }
            Err(e) => {
                tracing::warn!(error = %e, delivery = d.id, "could not look for maintenance windows");
                return None;
            }
        }
    }
    let sent = match channel {
        Some(c) => match config(state, &c) {
            Ok(cfg) => send::send(&cfg, &message(&d)).await,
            Err(why) => dead(why),
        },
        None => dead("the channel was removed".to_owned()),
    };
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let max = i32::try_from(state.settings.notification_attempts).unwrap_or(i32::MAX);
    let outcome = match &sent.error {
        None => "delivered",
        Some(_) if sent.permanent || d.attempts + 1 >= max => "dead",
        Some(_) => "retry",
    };
    let next_attempt_at = (outcome == "retry").then(|| next_attempt(d.attempts, &sent, Utc::now()));
    if let Some(e) = &sent.error {
        tracing::info!(
            delivery = d.id,
            channel = d.channel_id,
            attempt = d.attempts + 1,
            outcome,
            error = %e,
            "a notification delivery failed"
        );
    }
    let a = Attempted {
        at,
        status_code: sent.status,
        latency_ms,
        outcome,
        error: sent.error,
        next_attempt_at,
    };
    match repo::deliveries::record(&state.db, &d, &state.instance.id, a).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                delivery = d.id,
                "lost a delivery's lease before logging its attempt"
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, delivery = d.id, "could not log a delivery attempt");
        }
    }
    repo::deliveries::find(&state.db, d.id).await.ok().flatten()
}

fn dead(why: String) -> send::Sent {
    send::Sent {
        status: None,
        error: Some(why),
        retry_after: None,
        permanent: true,
    }
}

/// When to try again after failed attempt number `done + 1`.
fn next_attempt(done: i32, sent: &send::Sent, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = usize::try_from(done).unwrap_or(0).min(BACKOFF.len() - 1);
    let wait = sent
        .retry_after
        .unwrap_or(Duration::from_secs(BACKOFF[step]));
    now + chrono::Duration::from_std(wait).unwrap_or_default()
}

fn message(d: &delivery::Model) -> Message {
    Message {
        delivery_id: d.id,
        notification_id: d.notification_id,
        kind: d.kind.clone(),
        level: d.level.clone(),
        title: d.title.clone(),
        body: d.body.clone(),
        project_id: d.project_id,
        service_id: d.service_id,
        created_at: d.event_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(retry_after: Option<u64>) -> send::Sent {
        send::Sent {
            status: Some(500),
            error: Some("no".into()),
            retry_after: retry_after.map(Duration::from_secs),
            permanent: false,
        }
    }

    #[test]
    fn backoff_grows_then_holds_and_retry_after_wins() {
        let now = Utc::now();
        let wait = |done, ra| (next_attempt(done, &failed(ra), now) - now).num_seconds();
        assert_eq!(wait(0, None), 5);
        assert_eq!(wait(1, None), 30);
        assert_eq!(wait(6, None), 7200);
        assert_eq!(wait(40, None), 7200);
        assert_eq!(wait(3, Some(2)), 2);
    }
}
