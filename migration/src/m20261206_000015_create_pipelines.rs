//! Pipelines: a project's build, test and release definitions (JSON, like services'), declared in
//! its `optimus.toml` or made in Optimus.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    Id,
    ProjectId,
    Name,
    Origin,
    Definition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Pipelines::Table)
                    .col(
                        ColumnDef::new(Pipelines::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Pipelines::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Pipelines::Name).string_len(40).not_null())
                    .col(ColumnDef::new(Pipelines::Origin).string_len(16).not_null())
                    .col(ColumnDef::new(Pipelines::Definition).text().not_null())
                    .col(
                        ColumnDef::new(Pipelines::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Pipelines::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Pipelines::Table, Pipelines::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipelines_project_name")
                    .table(Pipelines::Table)
                    .col(Pipelines::ProjectId)
                    .col(Pipelines::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Pipelines::Table).to_owned())
            .await
    }
}
