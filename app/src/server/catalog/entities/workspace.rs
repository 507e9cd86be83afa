//! `workspaces` table.

use sea_orm::entity::prelude::*;

/// A folder to scan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspaces")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub path: String,
    pub scan_state: String,
    pub scan_error: Option<String>,
    pub projects_found: i32,
    pub folders_scanned: i32,
    pub last_scan_at: Option<ChronoDateTimeUtc>,
    pub last_scan_ms: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    /// The instance running its scan, while one runs.
    pub scan_owner: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
