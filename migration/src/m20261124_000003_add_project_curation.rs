//! What users add to a detected project: tags, owner, lifecycle, favorite, archived, and
//! overrides that win over later rescans; git facts as columns for filtering and sorting.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Tags,
    Owner,
    Lifecycle,
    Favorite,
    Archived,
    Overrides,
    GitDirty,
    GitAhead,
    GitBehind,
    LastCommitAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let cols = [
            ColumnDef::new(Projects::Tags)
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
            ColumnDef::new(Projects::Owner)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Projects::Lifecycle)
                .string_len(32)
                .null()
                .to_owned(),
            ColumnDef::new(Projects::Favorite)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Projects::Archived)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Projects::Overrides)
                .text()
                .not_null()
                .default("{}")
                .to_owned(),
            // Git facts the list filters and sorts on, copied out of the `git` JSON.
            ColumnDef::new(Projects::GitDirty)
                .boolean()
                .null()
                .to_owned(),
            ColumnDef::new(Projects::GitAhead)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(Projects::GitBehind)
                .integer()
                .null()
                .to_owned(),
            ColumnDef::new(Projects::LastCommitAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for mut col in cols {
            manager
                .alter_table(
                    Table::alter()
                        .table(Projects::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Projects::LastCommitAt,
            Projects::GitBehind,
            Projects::GitAhead,
            Projects::GitDirty,
            Projects::Overrides,
            Projects::Archived,
            Projects::Favorite,
            Projects::Lifecycle,
            Projects::Owner,
            Projects::Tags,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Projects::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
