//! `github_config` table: one row (`id` 1) with the API's base URL, the token sealed with the
//! master key, and the rate limit as GitHub last reported it.

use sea_orm::entity::prelude::*;

/// The configuration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "github_config")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub base_url: String,
    pub token: Option<String>,
    pub rate_remaining: Option<i32>,
    pub rate_limit: Option<i32>,
    pub rate_reset_at: Option<ChronoDateTimeUtc>,
    pub paused_until: Option<ChronoDateTimeUtc>,
    pub updated_by: Option<String>,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
