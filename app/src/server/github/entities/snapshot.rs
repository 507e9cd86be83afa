//! `github_snapshots` table: each project's GitHub state as last fetched (`body` is the JSON of
//! `GitHubProject`) and when it is next fetched.

use sea_orm::entity::prelude::*;

/// A project's GitHub state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "github_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: i64,
    pub body: String,
    pub fetched_at: ChronoDateTimeUtc,
    pub next_refresh_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
