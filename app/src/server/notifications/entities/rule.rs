//! `notification_rules` table: which notifications (kinds, at least a level, one project or
//! all) go to which channel, and the window within which repeats are not sent again.

use sea_orm::entity::prelude::*;

/// A rule.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub project_id: Option<i64>,
    /// JSON array of kinds; empty means every kind.
    pub kinds: String,
    pub min_level: String,
    pub dedup_secs: i64,
    pub created_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
