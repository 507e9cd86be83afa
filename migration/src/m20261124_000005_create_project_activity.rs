//! The per-project activity timeline (scans, edits; later runs, deploys, backups).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProjectActivity {
    Table,
    Id,
    ProjectId,
    At,
    Kind,
    Summary,
    Actor,
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
                    .table(ProjectActivity::Table)
                    .col(
                        ColumnDef::new(ProjectActivity::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ProjectActivity::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProjectActivity::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProjectActivity::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProjectActivity::Summary)
                            .string_len(512)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProjectActivity::Actor).string_len(64).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectActivity::Table, ProjectActivity::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_project_activity_project")
                    .table(ProjectActivity::Table)
                    .col(ProjectActivity::ProjectId)
                    .col(ProjectActivity::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProjectActivity::Table).to_owned())
            .await
    }
}
