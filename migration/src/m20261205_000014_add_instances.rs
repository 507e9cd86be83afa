//! Optimus instances sharing a database, and what each owns: the services it supervises (and
//! the runs it started or adopted), and the scans it runs. An instance takes over another's work
//! only once that one is gone.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instances {
    Table,
    Id,
    Host,
    BootId,
    Pid,
    PidStart,
    StartedAt,
    SeenAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Supervisor,
}

#[derive(DeriveIden)]
enum ServiceRuns {
    Table,
    Owner,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    ScanOwner,
}

/// Adds a nullable instance id column.
async fn add_owner(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(ColumnDef::new(column).string_len(36).null())
                .to_owned(),
        )
        .await
}

/// Drops a column.
async fn drop_owner(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instances::Table)
                    .col(
                        ColumnDef::new(Instances::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Instances::Host).string_len(255).not_null())
                    .col(ColumnDef::new(Instances::BootId).string_len(64).not_null())
                    .col(ColumnDef::new(Instances::Pid).integer().not_null())
                    .col(ColumnDef::new(Instances::PidStart).big_integer().not_null())
                    .col(
                        ColumnDef::new(Instances::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Instances::SeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        add_owner(manager, Services::Table, Services::Supervisor).await?;
        add_owner(manager, ServiceRuns::Table, ServiceRuns::Owner).await?;
        add_owner(manager, Workspaces::Table, Workspaces::ScanOwner).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_owner(manager, Workspaces::Table, Workspaces::ScanOwner).await?;
        drop_owner(manager, ServiceRuns::Table, ServiceRuns::Owner).await?;
        drop_owner(manager, Services::Table, Services::Supervisor).await?;
        manager
            .drop_table(Table::drop().table(Instances::Table).to_owned())
            .await
    }
}
