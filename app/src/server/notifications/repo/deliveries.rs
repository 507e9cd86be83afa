//! The delivery outbox and its log. A delivery is taken for an attempt under a lease with a fence
//! that grows on every take, so however many instances look, one attempts it at a time, and an
//! instance that lost its lease cannot write over the one that took it after.

use crate::server::notifications::entities::{attempt, delivery};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

/// Adds a delivery.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: delivery::ActiveModel,
) -> Result<delivery::Model, DbErr> {
    row.insert(db).await
}

/// One delivery.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find_by_id(id).one(db).await
}

/// Deliveries newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    channel_id: Option<i64>,
    status: Option<&str>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut q = delivery::Entity::find();
    if let Some(c) = channel_id {
        q = q.filter(delivery::Column::ChannelId.eq(c));
    }
    if let Some(s) = status {
        q = q.filter(delivery::Column::Status.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(delivery::Column::Id.lt(b));
    }
    q.order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many of a channel's deliveries have `status`.
pub async fn count(db: &impl ConnectionTrait, channel_id: i64, status: &str) -> Result<u64, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::ChannelId.eq(channel_id))
        .filter(delivery::Column::Status.eq(status))
        .count(db)
        .await
}

/// The last delivery to `channel_id` with `dedup_key` queued after `since` that was or will be
/// sent (neither muted nor itself suppressed).
pub async fn sent_since(
    db: &impl ConnectionTrait,
    channel_id: i64,
    dedup_key: &str,
    since: DateTime<Utc>,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::ChannelId.eq(channel_id))
        .filter(delivery::Column::DedupKey.eq(dedup_key))
        .filter(delivery::Column::CreatedAt.gt(since))
        .filter(delivery::Column::Status.is_in(["pending", "delivered", "dead"]))
        .order_by_desc(delivery::Column::Id)
        .one(db)
        .await
}

fn takeable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq("pending"))
        .add(delivery::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now)),
        )
}

/// Ids of pending deliveries due at `now` that no instance holds, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<i64>, DbErr> {
    delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(takeable(now))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Takes delivery `id` for `owner` until `lease_until` if it is still due and free; the taken
/// row (with its new fence) when taken.
pub async fn take(
    db: &impl ConnectionTrait,
    id: i64,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<delivery::Model>, DbErr> {
    let taken = delivery::Entity::update_many()
        .col_expr(delivery::Column::Owner, Expr::value(owner))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(
            delivery::Column::Fence,
            Expr::col(delivery::Column::Fence).add(1),
        )
        .filter(delivery::Column::Id.eq(id))
        .filter(takeable(now))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    find(db, id).await
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The status (HTTP or SMTP) answered.
    pub status_code: Option<i32>,
    /// How long it took.
    pub latency_ms: i64,
    /// `delivered`, `retry` or `dead`.
    pub outcome: &'static str,
    /// Why it failed.
    pub error: Option<String>,
    /// When to try again (`retry`).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Logs an attempt at delivery `d` (taken with `d.fence` by `owner`) and moves the delivery on,
/// in one transaction (a reader never sees the new status without its attempt); false (and
/// nothing written) when this instance no longer holds it.
pub async fn record(
    conn: &impl TransactionTrait,
    d: &delivery::Model,
    owner: &str,
    a: Attempted,
) -> Result<bool, DbErr> {
    let txn = conn.begin().await?;
    let db = &txn;
    let status = match a.outcome {
        "delivered" => "delivered",
        "dead" => "dead",
        _ => "pending",
    };
    let moved = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(
            delivery::Column::Attempts,
            Expr::col(delivery::Column::Attempts).add(1),
        )
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(a.next_attempt_at),
        )
        .col_expr(delivery::Column::LastError, Expr::value(a.error.clone()))
        .col_expr(delivery::Column::LastStatus, Expr::value(a.status_code))
        .col_expr(
            delivery::Column::DeliveredAt,
            Expr::value((a.outcome == "delivered").then_some(a.at)),
        )
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(delivery::Column::Id.eq(d.id))
        .filter(delivery::Column::Owner.eq(owner))
        .filter(delivery::Column::Fence.eq(d.fence))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(false);
    }
    let number = attempt::Entity::find()
        .filter(attempt::Column::DeliveryId.eq(d.id))
        .count(db)
        .await?;
    attempt::ActiveModel {
        delivery_id: Set(d.id),
        attempt: Set(i32::try_from(number + 1).unwrap_or(i32::MAX)),
        at: Set(a.at),
        status_code: Set(a.status_code),
        latency_ms: Set(a.latency_ms),
        outcome: Set(a.outcome.to_owned()),
        error: Set(a.error),
        ..Default::default()
    }
    .insert(db)
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Sets a delivery this instance holds aside without an attempt: `muted` (a maintenance window
/// began after it was queued), or still `pending` until `until` (its channel is disabled);
/// false when this instance no longer holds it.
pub async fn set_aside(
    db: &impl ConnectionTrait,
    d: &delivery::Model,
    owner: &str,
    until: Option<DateTime<Utc>>,
    why: &str,
) -> Result<bool, DbErr> {
    let status = if until.is_some() { "pending" } else { "muted" };
    let moved = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(until))
        .col_expr(delivery::Column::LastError, Expr::value(why))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(delivery::Column::Id.eq(d.id))
        .filter(delivery::Column::Owner.eq(owner))
        .filter(delivery::Column::Fence.eq(d.fence))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// A delivery's attempts, first first.
pub async fn attempts(
    db: &impl ConnectionTrait,
    delivery_id: i64,
) -> Result<Vec<attempt::Model>, DbErr> {
    attempt::Entity::find()
        .filter(attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(attempt::Column::Id)
        .all(db)
        .await
}

/// Puts a dead delivery back in the queue with a fresh budget of attempts; false when it was not
/// dead.
pub async fn resend(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let moved = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value("pending"))
        .col_expr(delivery::Column::Attempts, Expr::value(0))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            delivery::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq("dead"))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}
