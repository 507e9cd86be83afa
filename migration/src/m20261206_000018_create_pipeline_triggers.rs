//! What a pipeline's triggers remember between ticks, shared by every instance: for a schedule,
//! the time up to which its fire times were looked at (so downtime shows as missed fire times)
//! and whether it is paused; for a git trigger, the head commit last seen; for a webhook, its
//! signing secret (sealed with the master key). The runs they start are made exactly once by the
//! runs' own unique trigger key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PipelineTriggers {
    Table,
    Id,
    PipelineId,
    Kind,
    Idx,
    Spec,
    Paused,
    CheckedAt,
    LastFireAt,
    LastCommit,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Pipelines {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PipelineTriggers::Table)
                    .col(
                        ColumnDef::new(PipelineTriggers::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::PipelineId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PipelineTriggers::Idx).integer().not_null())
                    .col(
                        ColumnDef::new(PipelineTriggers::Spec)
                            .string_len(512)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::Paused)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::CheckedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::LastFireAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PipelineTriggers::LastCommit)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(PipelineTriggers::Secret).text().null())
                    .col(
                        ColumnDef::new(PipelineTriggers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PipelineTriggers::Table, PipelineTriggers::PipelineId)
                            .to(Pipelines::Table, Pipelines::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipeline_triggers_key")
                    .table(PipelineTriggers::Table)
                    .col(PipelineTriggers::PipelineId)
                    .col(PipelineTriggers::Kind)
                    .col(PipelineTriggers::Idx)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PipelineTriggers::Table).to_owned())
            .await
    }
}
