//! The notification centre and each user's read marker; channels, rules and maintenance
//! windows ([`channels`]); the delivery outbox and its log ([`deliveries`]).

pub mod channels;
pub mod deliveries;

use crate::server::notifications::entities::{notification, notification_read};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// A notification to add.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// `info`, `warning` or `error`.
    pub level: &'static str,
    /// `alert`, `alert_resolved`, `crash_loop`, …
    pub kind: &'static str,
    /// One line.
    pub title: String,
    /// Details.
    pub body: String,
    /// The project.
    pub project_id: Option<i64>,
    /// The service.
    pub service_id: Option<i64>,
}

/// Adds a notification.
pub async fn insert(
    db: &impl ConnectionTrait,
    n: NewNotification,
    now: DateTime<Utc>,
) -> Result<notification::Model, DbErr> {
    notification::ActiveModel {
        level: Set(n.level.to_owned()),
        kind: Set(n.kind.to_owned()),
        title: Set(n.title.chars().take(200).collect()),
        body: Set(n.body.chars().take(4000).collect()),
        project_id: Set(n.project_id),
        service_id: Set(n.service_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Notifications newest first: below `before`, above `after` (unread only), at most `limit`.
pub async fn list(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    let mut q = notification::Entity::find();
    if let Some(b) = before {
        q = q.filter(notification::Column::Id.lt(b));
    }
    if let Some(a) = after {
        q = q.filter(notification::Column::Id.gt(a));
    }
    q.order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many notifications have an id above `after`.
pub async fn count_after(db: &impl ConnectionTrait, after: i64) -> Result<u64, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::Id.gt(after))
        .count(db)
        .await
}

/// The newest notification's id (0 when there is none).
pub async fn newest_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(notification::Entity::find()
        .order_by_desc(notification::Column::Id)
        .one(db)
        .await?
        .map(|n| n.id)
        .unwrap_or(0))
}

/// A user's read marker (0: nothing read).
pub async fn read_up_to(db: &impl ConnectionTrait, user_id: i64) -> Result<i64, DbErr> {
    Ok(notification_read::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|r| r.read_up_to)
        .unwrap_or(0))
}

/// Moves a user's read marker to `up_to` (never backwards).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: i64,
    up_to: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if read_up_to(db, user_id).await? >= up_to {
        return Ok(());
    }
    notification_read::Entity::insert(notification_read::ActiveModel {
        user_id: Set(user_id),
        read_up_to: Set(up_to),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(notification_read::Column::UserId)
            .update_columns([
                notification_read::Column::ReadUpTo,
                notification_read::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await
    .map(|_| ())
}
