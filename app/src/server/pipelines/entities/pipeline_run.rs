//! `pipeline_runs` table: one run of a pipeline, with the definition and parameter values it
//! started with (JSON) and the lease of the instance running it.

use sea_orm::entity::prelude::*;

/// A run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pipeline_id: i64,
    pub project_id: i64,
    /// 1, 2, 3… per pipeline.
    pub number: i64,
    /// A [`crate::models::pipelines::RunState`] wire name.
    pub state: String,
    /// A [`crate::models::pipelines::TriggerKind`] wire name.
    pub trigger: String,
    /// Unique per pipeline: what started it (`manual:<uuid>`, `schedule:<n>:<time>`,
    /// `git:<commit>`, `webhook:<delivery>`).
    pub trigger_key: String,
    /// The username of whoever started it, when a person did.
    pub triggered_by: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// The parameter values, JSON.
    pub parameters: String,
    /// The definition it runs, JSON.
    pub definition: String,
    pub message: Option<String>,
    /// The run this one reruns.
    pub rerun_of: Option<i64>,
    /// The instance running it.
    pub owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    /// Grows with every claim of the run.
    pub fence: i64,
    pub created_at: ChronoDateTimeUtc,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub finished_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
