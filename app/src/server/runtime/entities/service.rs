//! `services` table: what a project runs. The definition is JSON ([`crate::models::runtime::ServiceDefinition`]).

use sea_orm::entity::prelude::*;

/// A service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub origin: String,
    pub definition: String,
    pub allocated_port: Option<i32>,
    pub state: String,
    pub message: Option<String>,
    pub restarts: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// The instance supervising it now (see `crate::server::instances`).
    pub supervisor: Option<String>,
    /// Set on a deployed release's instance of a service (a "slot", named `<name>@d<id>`): the
    /// deployment that started it. Such rows are managed by deployments, not listed with the
    /// project's own services.
    pub deployment_id: Option<i64>,
    /// The folder a slot runs in (its release), instead of the project's folder.
    pub root: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
