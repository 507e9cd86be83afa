//! The project list's order as an index: `projects/list` (and the `/projects` page) filter out
//! archived projects and sort by name, case-insensitively, then id. With this index the database
//! walks the projects in that order and stops at the page's end instead of reading and sorting
//! every row (10,000 projects: a full scan and a sort per request before). The same statement
//! works on PostgreSQL and SQLite (expression indexes since 3.9).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_projects_list_name ON projects (archived, lower(name), id)",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_projects_list_name")
            .await
            .map(|_| ())
    }
}
