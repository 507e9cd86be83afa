//! `releases` table: a project's numbered, immutable snapshot (its files under the data dir).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    /// 1, 2, 3… per project.
    pub number: i64,
    /// `folder`, `git` or `pipeline_run`.
    pub source: String,
    pub commit: Option<String>,
    pub commit_message: Option<String>,
    pub branch: Option<String>,
    pub pipeline_run_id: Option<i64>,
    /// The service definitions it runs, JSON.
    pub services: String,
    /// HMAC-SHA256 (master-key derived) of the environment's keys and values, hex.
    pub env_digest: String,
    /// The same per key (`{"KEY": "<hex>"}`), to tell which keys changed, JSON.
    pub env_keys: String,
    /// Its folder, relative to the data dir.
    pub path: String,
    pub files: i64,
    pub bytes: i64,
    pub pinned: bool,
    pub created_by: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    /// When its files were removed by retention (the row stays for the history).
    pub pruned_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
