//! The files a pipeline run keeps: each artifact a step's globs matched, with its size and
//! SHA-256, stored under Optimus's data folder so it outlives the project's working tree.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PipelineArtifacts {
    Table,
    Id,
    RunId,
    Step,
    Path,
    Size,
    Sha256,
    Stored,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PipelineRuns {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PipelineArtifacts::Table)
                    .col(
                        ColumnDef::new(PipelineArtifacts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PipelineArtifacts::RunId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineArtifacts::Step)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineArtifacts::Path)
                            .string_len(1024)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineArtifacts::Size)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineArtifacts::Sha256)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PipelineArtifacts::Stored).text().not_null())
                    .col(
                        ColumnDef::new(PipelineArtifacts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PipelineArtifacts::Table, PipelineArtifacts::RunId)
                            .to(PipelineRuns::Table, PipelineRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipeline_artifacts_path")
                    .table(PipelineArtifacts::Table)
                    .col(PipelineArtifacts::RunId)
                    .col(PipelineArtifacts::Path)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PipelineArtifacts::Table).to_owned())
            .await
    }
}
