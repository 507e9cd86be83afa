//! Workspaces (folders to scan) and the projects found in them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
    Path,
    ScanState,
    ScanError,
    ProjectsFound,
    FoldersScanned,
    LastScanAt,
    LastScanMs,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    WorkspaceId,
    Name,
    Path,
    Description,
    Stacks,
    Frameworks,
    Commands,
    Port,
    Components,
    Git,
    Status,
    Errors,
    Fingerprint,
    SearchText,
    ScannedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workspaces::Table)
                    .col(
                        ColumnDef::new(Workspaces::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Workspaces::Path)
                            .string_len(1024)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Workspaces::ScanState)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Workspaces::ScanError).text().null())
                    .col(
                        ColumnDef::new(Workspaces::ProjectsFound)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Workspaces::FoldersScanned)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Workspaces::LastScanAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Workspaces::LastScanMs).big_integer().null())
                    .col(
                        ColumnDef::new(Workspaces::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(
                        ColumnDef::new(Projects::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Projects::WorkspaceId).big_integer().null())
                    .col(ColumnDef::new(Projects::Name).string_len(256).not_null())
                    .col(
                        ColumnDef::new(Projects::Path)
                            .string_len(1024)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Projects::Description).text().null())
                    .col(ColumnDef::new(Projects::Stacks).string_len(256).not_null())
                    .col(ColumnDef::new(Projects::Frameworks).text().not_null())
                    .col(ColumnDef::new(Projects::Commands).text().not_null())
                    .col(ColumnDef::new(Projects::Port).integer().null())
                    .col(ColumnDef::new(Projects::Components).text().not_null())
                    .col(ColumnDef::new(Projects::Git).text().null())
                    .col(ColumnDef::new(Projects::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Projects::Errors).text().not_null())
                    .col(
                        ColumnDef::new(Projects::Fingerprint)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Projects::SearchText).text().not_null())
                    .col(
                        ColumnDef::new(Projects::ScannedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Projects::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Projects::Table, Projects::WorkspaceId)
                            .to(Workspaces::Table, Workspaces::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_projects_workspace")
                    .table(Projects::Table)
                    .col(Projects::WorkspaceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Projects::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Workspaces::Table).to_owned())
            .await
    }
}
