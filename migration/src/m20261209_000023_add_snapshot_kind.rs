//! What a backup was taken for: `backup` (the policy's own, by schedule or on demand) or
//! `safety` (the state of the files an in-place restore was about to overwrite). Only `backup`
//! snapshots count as a policy's last backup.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupSnapshots {
    Table,
    Kind,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSnapshots::Table)
                    .add_column(
                        ColumnDef::new(BackupSnapshots::Kind)
                            .string_len(16)
                            .not_null()
                            .default("backup"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSnapshots::Table)
                    .drop_column(BackupSnapshots::Kind)
                    .to_owned(),
            )
            .await
    }
}
