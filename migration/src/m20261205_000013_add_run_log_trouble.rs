//! Lines a run's log shim could not write (a full disk, a file-size limit), as JSON: the run
//! shows the problem while the service keeps running.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceRuns {
    Table,
    LogTrouble,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRuns::Table)
                    .add_column(ColumnDef::new(ServiceRuns::LogTrouble).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRuns::Table)
                    .drop_column(ServiceRuns::LogTrouble)
                    .to_owned(),
            )
            .await
    }
}
