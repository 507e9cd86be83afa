//! `service_runs` table: one row per process a service ran, with how to find it again.

use sea_orm::entity::prelude::*;

/// A run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub attempt: i32,
    /// Main process id.
    pub pid: Option<i32>,
    /// The main process's start time (clock ticks after boot): with `pid`, identifies it.
    pub pid_start: Option<i64>,
    /// The log shim that owns the process's output.
    pub shim_pid: Option<i32>,
    pub port: Option<i32>,
    /// Folder holding the run's log and state files.
    pub run_dir: String,
    /// Hash of the definition and environment it started with.
    pub spec_hash: String,
    pub started_at: ChronoDateTimeUtc,
    pub ready_at: Option<ChronoDateTimeUtc>,
    pub ended_at: Option<ChronoDateTimeUtc>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub reason: Option<String>,
    /// What it started with (command, folder, port, variables; secret values as hashes).
    pub spec: String,
    /// How each resource limit was enforced (JSON list of `LimitEnforcement`).
    pub limits: String,
    /// Lines the shim could not write to the log (JSON `LogTrouble`), once there were any.
    pub log_trouble: Option<String>,
    /// The instance that started or adopted it.
    pub owner: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
