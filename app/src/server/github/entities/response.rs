//! `github_responses` table: GitHub's last answer to a URL with its ETag (and the next page's
//! URL), so that asking again with `If-None-Match` costs no quota when nothing changed. `key` is
//! the SHA-256 of the URL.

use sea_orm::entity::prelude::*;

/// A kept answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "github_responses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub url: String,
    pub etag: String,
    pub body: String,
    pub next_url: Option<String>,
    pub fetched_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
