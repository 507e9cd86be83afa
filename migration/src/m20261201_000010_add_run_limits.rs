//! How each run's resource limits were enforced (cgroup v2/v1, rlimit, or not), as JSON.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceRuns {
    Table,
    Limits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRuns::Table)
                    .add_column(
                        ColumnDef::new(ServiceRuns::Limits)
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
                    .table(ServiceRuns::Table)
                    .drop_column(ServiceRuns::Limits)
                    .to_owned(),
            )
            .await
    }
}
