//! The outbox: which channels a notification goes to, written in the notification's own
//! transaction (so a notification is never recorded without its deliveries, nor a delivery
//! without its notification); and the delivery log (list, one with its attempts, resend a dead
//! one).
//!
//! A notification goes to each enabled channel that has a rule matching it (its project or every
//! project, its kind or every kind, at least the rule's level), once per channel. It is recorded
//! but not sent (`muted`) while a maintenance window covers its project, and not sent again
//! (`suppressed`) when it repeats, within the rule's window, one sent to that channel (same kind,
//! project, service and title).

use super::entities::{channel, delivery, notification};
use super::{repo, worker};
use crate::error::AppError;
use crate::models::notifications::{
    AttemptInfo, DeliveriesRequest, DeliveryInfo, DELIVERY_STATUSES, LEVELS,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Set};
use sha2::{Digest, Sha256};

fn rank(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(0)
}

/// What makes two notifications repeats of each other.
fn dedup_key(kind: &str, project: Option<i64>, service: Option<i64>, title: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("{kind}\0{project:?}\0{service:?}\0{title}"));
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A pending delivery row of `n` to `channel_id`.
pub(super) fn row(
    channel_id: i64,
    n: &notification::Model,
    rule_id: Option<i64>,
    now: DateTime<Utc>,
) -> delivery::ActiveModel {
    delivery::ActiveModel {
        channel_id: Set(channel_id),
        notification_id: Set((n.id > 0).then_some(n.id)),
        rule_id: Set(rule_id),
        kind: Set(n.kind.clone()),
        level: Set(n.level.clone()),
        title: Set(n.title.clone()),
        body: Set(n.body.clone()),
        project_id: Set(n.project_id),
        service_id: Set(n.service_id),
        event_at: Set(n.created_at),
        dedup_key: Set(dedup_key(&n.kind, n.project_id, n.service_id, &n.title)),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        fence: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Queues `n`'s deliveries; run inside the transaction that records `n`. How many will be sent.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let routes = repo::channels::routes(db, n.project_id).await?;
    let mut done: Vec<i64> = Vec::new();
    let mut muted = None;
    let mut queued = 0;
    for (rule, channel) in routes {
        let kinds: Vec<String> = serde_json::from_str(&rule.kinds).unwrap_or_default();
        if done.contains(&channel.id)
            || (!kinds.is_empty() && !kinds.contains(&n.kind))
            || rank(&n.level) < rank(&rule.min_level)
        {
            continue;
        }
        done.push(channel.id);
        if muted.is_none() {
            muted = Some(repo::channels::muting(db, n.project_id, now).await?);
        }
        let mut d = row(channel.id, n, Some(rule.id), now);
        if let Some(Some(m)) = &muted {
            d.status = Set("muted".to_owned());
            d.next_attempt_at = Set(None);
            d.last_error = Set(Some(format!(
                "muted by maintenance window #{} until {}: {}",
                m.id,
                m.ends_at.format("%Y-%m-%d %H:%M UTC"),
                m.reason
            )));
        } else if rule.dedup_secs > 0 {
            let since = now - chrono::Duration::seconds(rule.dedup_secs);
            let key = dedup_key(&n.kind, n.project_id, n.service_id, &n.title);
            if let Some(first) = repo::deliveries::sent_since(db, channel.id, &key, since).await? {
                d.status = Set("suppressed".to_owned());
                d.next_attempt_at = Set(None);
                d.last_error = Set(Some(format!(
                    "repeats delivery #{} (queued {}) within the rule's {} s",
                    first.id,
                    first.created_at.format("%H:%M:%S UTC"),
                    rule.dedup_secs
                )));
            }
        }
        let sent = matches!(&d.status, sea_orm::ActiveValue::Set(s) if s == "pending");
        repo::deliveries::insert(db, d).await?;
        queued += usize::from(sent);
    }
    Ok(queued)
}

pub(super) fn info(
    d: delivery::Model,
    channel: Option<&channel::Model>,
    log: Vec<AttemptInfo>,
) -> DeliveryInfo {
    DeliveryInfo {
        id: d.id,
        channel_id: d.channel_id,
        channel_name: channel.map(|c| c.name.clone()).unwrap_or_default(),
        notification_id: d.notification_id,
        kind: d.kind,
        level: d.level,
        title: d.title,
        project_id: d.project_id,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_error: d.last_error,
        last_status: d.last_status,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
        log,
    }
}

/// One delivery with every attempt.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeliveryInfo> {
    caller.authorize(Operation::ReadNotificationChannels)?;
    let Some(d) = repo::deliveries::find(&state.db, id).await? else {
        return Err(AppError::not_found(format!("delivery {id}")).into());
    };
    let channel = repo::channels::find(&state.db, d.channel_id).await?;
    let log = repo::deliveries::attempts(&state.db, id)
        .await?
        .into_iter()
        .map(|a| AttemptInfo {
            attempt: a.attempt,
            at: a.at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            outcome: a.outcome,
            error: a.error,
        })
        .collect();
    Ok(info(d, channel.as_ref(), log))
}

/// Deliveries newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: DeliveriesRequest,
) -> ServerResult<Vec<DeliveryInfo>> {
    caller.authorize(Operation::ReadNotificationChannels)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::unprocessable(
            "limit",
            format!("must be between 1 and 200 (got {limit})"),
        )
        .into());
    }
    if let Some(s) = &q.status {
        if !DELIVERY_STATUSES.contains(&s.as_str()) {
            return Err(AppError::unprocessable(
                "status",
                format!(
                    "must be one of {} (got `{s}`)",
                    DELIVERY_STATUSES.join(", ")
                ),
            )
            .into());
        }
    }
    let rows = repo::deliveries::list(
        &state.db,
        q.channel_id,
        q.status.as_deref(),
        q.before,
        u64::from(limit),
    )
    .await?;
    let channels = repo::channels::list(&state.db).await?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let c = channels.iter().find(|c| c.id == d.channel_id);
            info(d, c, Vec::new())
        })
        .collect())
}

/// Puts a dead delivery back in the queue (the dead-letter list's "resend").
pub async fn resend(state: &AppState, caller: &Caller, id: i64) -> ServerResult<DeliveryInfo> {
    caller.authorize(Operation::ManageNotificationChannels)?;
    let Some(d) = repo::deliveries::find(&state.db, id).await? else {
        return Err(AppError::not_found(format!("delivery {id}")).into());
    };
    if !repo::deliveries::resend(&state.db, id, Utc::now()).await? {
        return Err(AppError::conflict(format!(
            "delivery {id} is {}; only a dead delivery can be resent",
            d.status
        ))
        .into());
    }
    audit::record(
        state,
        caller.into(),
        "notifications.resend",
        &format!("channel:{}:delivery:{id}", d.channel_id),
        "ok",
    )
    .await?;
    worker::wake();
    get(state, caller, id).await
}
