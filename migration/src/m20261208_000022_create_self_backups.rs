//! Optimus's backups of itself: one row per run (its own database dumped into the self-backup
//! repository). A scheduled run's trigger key is its fire time, unique, so however many
//! instances share the database exactly one of them runs it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SelfBackups {
    Table,
    Id,
    TriggerKey,
    Status,
    Owner,
    TriggeredBy,
    StartedAt,
    FinishedAt,
    Snapshot,
    Bytes,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SelfBackups::Table)
                    .col(
                        ColumnDef::new(SelfBackups::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SelfBackups::TriggerKey)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SelfBackups::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SelfBackups::Owner).string_len(100).null())
                    .col(
                        ColumnDef::new(SelfBackups::TriggeredBy)
                            .string_len(100)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(SelfBackups::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SelfBackups::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(SelfBackups::Snapshot).string_len(64).null())
                    .col(
                        ColumnDef::new(SelfBackups::Bytes)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(SelfBackups::Reason).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_self_backups_trigger")
                    .table(SelfBackups::Table)
                    .col(SelfBackups::TriggerKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SelfBackups::Table).to_owned())
            .await
    }
}
