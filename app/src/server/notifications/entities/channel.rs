//! `notification_channels` table: where notifications are sent. `config` is the channel's JSON
//! configuration (URLs with tokens, SMTP passwords, signing secrets) sealed with the master key;
//! `target` is what may be shown of it.

use sea_orm::entity::prelude::*;

/// A channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub target: String,
    pub config: String,
    pub enabled: bool,
    pub created_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
