//! A backup policy's repository may live on a remote server (SFTP): how to reach it, its
//! credentials included, sealed with the master key. Empty for a local repository.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupPolicies {
    Table,
    Remote,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .add_column(ColumnDef::new(BackupPolicies::Remote).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .drop_column(BackupPolicies::Remote)
                    .to_owned(),
            )
            .await
    }
}
