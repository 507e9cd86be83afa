//! `council_personas` table: the personas, built-in and added (domains as JSON).

use sea_orm::entity::prelude::*;

/// A persona.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "council_personas")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub role: String,
    /// JSON list of domains.
    pub domains: String,
    pub stance: String,
    pub technical: bool,
    pub model: Option<String>,
    pub builtin: bool,
    pub enabled: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
