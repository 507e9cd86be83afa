//! `instances` table: the Optimus processes that use this database, and where they run.

use sea_orm::entity::prelude::*;

/// An instance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The host name.
    pub host: String,
    /// The host's boot (`/proc/sys/kernel/random/boot_id`): a new boot ended every process.
    pub boot_id: String,
    /// Its process id on that host.
    pub pid: i32,
    /// Its start time (clock ticks after boot): with `pid`, identifies the process.
    pub pid_start: i64,
    pub started_at: ChronoDateTimeUtc,
    /// Its last heartbeat.
    pub seen_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
