//! `host_samples` table: the machine's totals at one moment or averaged over a bucket.

use sea_orm::entity::prelude::*;

/// A sample.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "host_samples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tier: i16,
    pub at: ChronoDateTimeUtc,
    pub cpu_percent: f64,
    pub cpus: i64,
    pub memory_used_bytes: i64,
    pub memory_total_bytes: i64,
    #[sea_orm(column_name = "load1m")]
    pub load_1m: f64,
    pub net_rx_bps: f64,
    pub net_tx_bps: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
