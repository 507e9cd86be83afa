//! `pipeline_steps` table: one step of a run, its current attempt's process and result, and the
//! decision on a gate.

use sea_orm::entity::prelude::*;

/// A step of a run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    /// Its position in the run's definition.
    pub idx: i32,
    pub name: String,
    /// A [`crate::models::pipelines::StepState`] wire name.
    pub state: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Why it failed or was skipped, in words.
    pub reason: Option<String>,
    pub pid: Option<i32>,
    pub pid_start: Option<i64>,
    pub shim_pid: Option<i32>,
    /// The current attempt's folder (log, state and exit files), under Optimus's data dir.
    pub run_dir: Option<String>,
    pub tests_passed: Option<i32>,
    pub tests_failed: Option<i32>,
    pub tests_skipped: Option<i32>,
    /// Who approved or rejected a gate.
    pub decided_by: Option<String>,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub comment: Option<String>,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub finished_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
