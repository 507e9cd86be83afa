//! `notification_deliveries` table, the outbox: one row per notification and channel, written
//! in the notification's transaction. It carries its own copy of what it reports, is taken under
//! a lease (`owner`, `lease_until`, `fence`) by whichever instance attempts it, and ends
//! `delivered` or `dead` (or is never sent: `muted`, `suppressed`).

use sea_orm::entity::prelude::*;

/// A delivery.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub notification_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub kind: String,
    pub level: String,
    pub title: String,
    pub body: String,
    pub project_id: Option<i64>,
    pub service_id: Option<i64>,
    pub event_at: ChronoDateTimeUtc,
    pub dedup_key: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<ChronoDateTimeUtc>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub fence: i64,
    pub created_at: ChronoDateTimeUtc,
    pub delivered_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
