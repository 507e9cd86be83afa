//! Databases in backups: a policy names the databases it dumps (JSON, their connection URLs
//! sealed with the master key) and a backup records each dump it stored (JSON: name, kind, the
//! restic snapshot holding it, its size).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupPolicies {
    Table,
    Databases,
}

#[derive(DeriveIden)]
enum BackupSnapshots {
    Table,
    Dumps,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .add_column(
                        ColumnDef::new(BackupPolicies::Databases)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupSnapshots::Table)
                    .add_column(
                        ColumnDef::new(BackupSnapshots::Dumps)
                            .text()
                            .not_null()
                            .default("[]"),
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
                    .drop_column(BackupSnapshots::Dumps)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .drop_column(BackupPolicies::Databases)
                    .to_owned(),
            )
            .await
    }
}
