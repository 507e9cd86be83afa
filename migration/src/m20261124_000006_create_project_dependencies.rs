//! Dependencies between projects (`depends_on`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProjectDependencies {
    Table,
    ProjectId,
    DependsOnId,
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
                    .table(ProjectDependencies::Table)
                    .col(
                        ColumnDef::new(ProjectDependencies::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProjectDependencies::DependsOnId)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProjectDependencies::ProjectId)
                            .col(ProjectDependencies::DependsOnId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectDependencies::Table, ProjectDependencies::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectDependencies::Table, ProjectDependencies::DependsOnId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProjectDependencies::Table).to_owned())
            .await
    }
}
