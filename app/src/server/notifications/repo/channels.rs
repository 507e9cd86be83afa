//! Channels, the rules that route notifications to them, and maintenance windows.

use crate::server::notifications::entities::{attempt, channel, delivery, mute, rule};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Adds a channel.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: channel::ActiveModel,
) -> Result<channel::Model, DbErr> {
    row.insert(db).await
}

/// Writes a changed channel.
pub async fn update(
    db: &impl ConnectionTrait,
    row: channel::ActiveModel,
) -> Result<channel::Model, DbErr> {
    row.update(db).await
}

/// One channel.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<channel::Model>, DbErr> {
    channel::Entity::find_by_id(id).one(db).await
}

/// A channel by name.
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<channel::Model>, DbErr> {
    channel::Entity::find()
        .filter(channel::Column::Name.eq(name))
        .one(db)
        .await
}

/// Every channel, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<channel::Model>, DbErr> {
    channel::Entity::find()
        .order_by_asc(channel::Column::Name)
        .all(db)
        .await
}

/// Removes a channel with its rules, deliveries and their log.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    let deliveries: Vec<i64> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::ChannelId.eq(id))
        .into_tuple()
        .all(db)
        .await?;
    for chunk in deliveries.chunks(500) {
        attempt::Entity::delete_many()
            .filter(attempt::Column::DeliveryId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    delivery::Entity::delete_many()
        .filter(delivery::Column::ChannelId.eq(id))
        .exec(db)
        .await?;
    rule::Entity::delete_many()
        .filter(rule::Column::ChannelId.eq(id))
        .exec(db)
        .await?;
    channel::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Adds a rule.
pub async fn insert_rule(
    db: &impl ConnectionTrait,
    row: rule::ActiveModel,
) -> Result<rule::Model, DbErr> {
    row.insert(db).await
}

/// One rule.
pub async fn find_rule(db: &impl ConnectionTrait, id: i64) -> Result<Option<rule::Model>, DbErr> {
    rule::Entity::find_by_id(id).one(db).await
}

/// Rules, of one channel or all, oldest first.
pub async fn rules(
    db: &impl ConnectionTrait,
    channel_id: Option<i64>,
) -> Result<Vec<rule::Model>, DbErr> {
    let mut q = rule::Entity::find();
    if let Some(c) = channel_id {
        q = q.filter(rule::Column::ChannelId.eq(c));
    }
    q.order_by_asc(rule::Column::Id).all(db).await
}

/// Removes a rule.
pub async fn delete_rule(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    rule::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// The rules of enabled channels that may match a notification of `project_id`, with their
/// channel, oldest rule first.
pub async fn routes(
    db: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<(rule::Model, channel::Model)>, DbErr> {
    let mut scope = Condition::any().add(rule::Column::ProjectId.is_null());
    if let Some(p) = project_id {
        scope = scope.add(rule::Column::ProjectId.eq(p));
    }
    let rules = rule::Entity::find()
        .filter(scope)
        .order_by_asc(rule::Column::Id)
        .all(db)
        .await?;
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let channels = channel::Entity::find()
        .filter(channel::Column::Enabled.eq(true))
        .filter(channel::Column::Id.is_in(rules.iter().map(|r| r.channel_id)))
        .all(db)
        .await?;
    Ok(rules
        .into_iter()
        .filter_map(|r| {
            let c = channels.iter().find(|c| c.id == r.channel_id)?.clone();
            Some((r, c))
        })
        .collect())
}

/// Adds a maintenance window.
pub async fn insert_mute(
    db: &impl ConnectionTrait,
    row: mute::ActiveModel,
) -> Result<mute::Model, DbErr> {
    row.insert(db).await
}

/// One maintenance window.
pub async fn find_mute(db: &impl ConnectionTrait, id: i64) -> Result<Option<mute::Model>, DbErr> {
    mute::Entity::find_by_id(id).one(db).await
}

/// Maintenance windows, soonest ending last; only those not over at `now` unless `past`.
pub async fn mutes(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    past: bool,
) -> Result<Vec<mute::Model>, DbErr> {
    let mut q = mute::Entity::find();
    if !past {
        q = q.filter(mute::Column::EndsAt.gt(now));
    }
    q.order_by_desc(mute::Column::StartsAt)
        .limit(500)
        .all(db)
        .await
}

/// The maintenance window muting `project_id`'s notifications at `now`, if any.
pub async fn muting(
    db: &impl ConnectionTrait,
    project_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<mute::Model>, DbErr> {
    let mut scope = Condition::any().add(mute::Column::ProjectId.is_null());
    if let Some(p) = project_id {
        scope = scope.add(mute::Column::ProjectId.eq(p));
    }
    mute::Entity::find()
        .filter(scope)
        .filter(mute::Column::StartsAt.lte(now))
        .filter(mute::Column::EndsAt.gt(now))
        .one(db)
        .await
}

/// Removes a maintenance window.
pub async fn delete_mute(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    mute::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}
