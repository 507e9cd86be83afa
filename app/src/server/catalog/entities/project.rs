//! `projects` table. List-valued facts are stored as JSON text (portable across SQLite and
//! PostgreSQL); `stacks` is ` rust node ` (space-delimited) so a stack filter is a plain LIKE.

use sea_orm::entity::prelude::*;

/// A cataloged project.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workspace_id: Option<i64>,
    pub name: String,
    #[sea_orm(unique)]
    pub path: String,
    pub description: Option<String>,
    pub stacks: String,
    pub frameworks: String,
    pub commands: String,
    pub port: Option<i32>,
    pub components: String,
    pub git: Option<String>,
    pub status: String,
    pub errors: String,
    pub fingerprint: String,
    pub search_text: String,
    pub scanned_at: ChronoDateTimeUtc,
    pub created_at: ChronoDateTimeUtc,
    /// JSON list of tags.
    pub tags: String,
    pub owner: Option<String>,
    pub lifecycle: Option<String>,
    pub favorite: bool,
    pub archived: bool,
    /// JSON `Overrides`: fields the user set, which rescans keep.
    pub overrides: String,
    pub git_dirty: Option<bool>,
    pub git_ahead: Option<i32>,
    pub git_behind: Option<i32>,
    pub last_commit_at: Option<ChronoDateTimeUtc>,
    /// JSON list of `ServiceSpec` from `optimus.toml`.
    pub services: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
