//! `resource_samples` table: one service's process tree at one moment (tier 0) or averaged over
//! a bucket (tiers 1 and 2).

use sea_orm::entity::prelude::*;

/// A sample.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_samples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub tier: i16,
    pub at: ChronoDateTimeUtc,
    pub cpu_percent: f64,
    pub rss_bytes: i64,
    pub threads: i64,
    pub open_files: i64,
    pub read_bps: f64,
    pub write_bps: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
