//! The notification centre: notifications are shared by every user (alerts, crash loops);
//! each user has a read marker. Creating one publishes it live on `notifications`.
//!
//! Notifications also leave Optimus: [`channels`] (signed webhook, Slack-compatible, email),
//! [`routing`] (rules and maintenance windows), the [`outbox`] written with each notification and
//! its delivery log, and the [`worker`] that delivers with retries.

pub mod channels;
pub mod entities;
pub mod outbox;
pub mod repo;
pub mod routing;
mod send;
pub mod worker;

pub use repo::NewNotification;
pub use worker::spawn as spawn_worker;

use crate::error::AppError;
use crate::models::events::Event;
use crate::models::notifications::{
    MarkReadRequest, NotificationInfo, NotificationList, NotificationsQuery,
};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::notifications::entities::notification;
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::TransactionTrait;

fn info(m: notification::Model, read_up_to: i64) -> NotificationInfo {
    NotificationInfo {
        read: m.id <= read_up_to,
        id: m.id,
        level: m.level,
        kind: m.kind,
        title: m.title,
        body: m.body,
        project_id: m.project_id,
        service_id: m.service_id,
        created_at: m.created_at,
    }
}

/// Adds a notification with its deliveries to the channels whose rules match it (in one
/// transaction), publishes it, and wakes the delivery worker. Failing to notify never fails what
/// it reports, so errors are logged here, not returned.
pub async fn notify(state: &AppState, n: NewNotification) {
    let recorded = match record(state, n.clone()).await {
        Ok((m, queued)) => {
            if queued > 0 {
                worker::wake();
            }
            Ok(m)
        }
        Err(e) => {
            // The bell still gets it when its deliveries cannot be written.
            tracing::warn!(error = %e, "could not queue a notification's deliveries");
            repo::insert(&state.db, n, Utc::now()).await
        }
    };
    match recorded {
        Ok(m) => {
            state
                .bus
                .publish(Event::Notification {
                    notification: info(m, 0),
                })
                .await;
        }
        Err(e) => tracing::warn!(error = %e, "could not record a notification"),
    }
}

async fn record(
    state: &AppState,
    n: NewNotification,
) -> Result<(notification::Model, usize), sea_orm::DbErr> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let m = repo::insert(&txn, n, now).await?;
    let queued = outbox::enqueue(&txn, &m, now).await?;
    txn.commit().await?;
    Ok((m, queued))
}

/// Notifications newest first, with the caller's unread count.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: NotificationsQuery,
) -> ServerResult<NotificationList> {
    caller.authorize(Operation::ReadNotifications)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            format!("must be between 1 and 200 (got {limit})"),
        )
        .into());
    }
    let read = repo::read_up_to(&state.db, caller.user_id).await?;
    let rows = repo::list(
        &state.db,
        q.before,
        q.unread_only.then_some(read),
        u64::from(limit),
    )
    .await?;
    Ok(NotificationList {
        items: rows.into_iter().map(|m| info(m, read)).collect(),
        unread: repo::count_after(&state.db, read).await?,
    })
}

/// Marks the caller's notifications read up to `up_to` (or all); returns the new list head.
pub async fn mark_read(
    state: &AppState,
    caller: &Caller,
    req: MarkReadRequest,
) -> ServerResult<NotificationList> {
    caller.authorize(Operation::ReadNotifications)?;
    let newest = repo::newest_id(&state.db).await?;
    let up_to = match req.up_to {
        Some(n) if n < 0 => {
            return Err(AppError::validation("up_to", "must be a notification id").into())
        }
        Some(n) => n.min(newest),
        None => newest,
    };
    repo::mark_read(&state.db, caller.user_id, up_to, Utc::now()).await?;
    list(state, caller, NotificationsQuery::default()).await
}
