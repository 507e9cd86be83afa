//! `deployments` table: one deployment (or rollback) of a release, its live steps and the
//! service instances that serve when it is current, with the lease of the instance running it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub release_id: i64,
    pub release_number: i64,
    /// `deploy` or `rollback`.
    pub kind: String,
    /// A [`crate::models::deployments::Strategy`] wire name: the one asked for, or
    /// `blue_green` when each service follows its own policy.
    pub strategy: String,
    /// A [`crate::models::deployments::DeploymentStatus`] wire name.
    pub status: String,
    pub reason: Option<String>,
    pub rollback_of: Option<i64>,
    pub previous_release_id: Option<i64>,
    pub triggered_by: Option<String>,
    /// What the council said, JSON (reserved for the council gate).
    pub council: Option<String>,
    /// The steps, JSON list of [`crate::models::deployments::DeployStep`].
    pub steps: String,
    /// The instances serving while it is current, JSON list of `super::super::Serving`.
    pub slots: String,
    pub owner: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub fence: i64,
    pub created_at: ChronoDateTimeUtc,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub finished_at: Option<ChronoDateTimeUtc>,
    pub watch_until: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
