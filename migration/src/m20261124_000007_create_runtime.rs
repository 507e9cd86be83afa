//! The runtime: a project's services and their runs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    ProjectId,
    Name,
    Origin,
    Definition,
    AllocatedPort,
    State,
    Message,
    Restarts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceRuns {
    Table,
    Id,
    ServiceId,
    Attempt,
    Pid,
    PidStart,
    ShimPid,
    Port,
    RunDir,
    SpecHash,
    StartedAt,
    ReadyAt,
    EndedAt,
    ExitCode,
    Signal,
    Reason,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(id(Services::Id))
                    .col(ColumnDef::new(Services::ProjectId).big_integer().not_null())
                    .col(ColumnDef::new(Services::Name).string_len(40).not_null())
                    .col(ColumnDef::new(Services::Origin).string_len(16).not_null())
                    .col(ColumnDef::new(Services::Definition).text().not_null())
                    .col(ColumnDef::new(Services::AllocatedPort).integer().null())
                    .col(ColumnDef::new(Services::State).string_len(16).not_null())
                    .col(ColumnDef::new(Services::Message).string_len(512).null())
                    .col(
                        ColumnDef::new(Services::Restarts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(at(Services::CreatedAt).not_null())
                    .col(at(Services::UpdatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Services::Table, Services::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_services_project_name")
                    .table(Services::Table)
                    .col(Services::ProjectId)
                    .col(Services::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One service per allocated port; NULLs (no allocation) do not collide.
        manager
            .create_index(
                Index::create()
                    .name("idx_services_allocated_port")
                    .table(Services::Table)
                    .col(Services::AllocatedPort)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceRuns::Table)
                    .col(id(ServiceRuns::Id))
                    .col(
                        ColumnDef::new(ServiceRuns::ServiceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ServiceRuns::Attempt)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(ServiceRuns::Pid).integer().null())
                    .col(ColumnDef::new(ServiceRuns::PidStart).big_integer().null())
                    .col(ColumnDef::new(ServiceRuns::ShimPid).integer().null())
                    .col(ColumnDef::new(ServiceRuns::Port).integer().null())
                    .col(ColumnDef::new(ServiceRuns::RunDir).text().not_null())
                    .col(
                        ColumnDef::new(ServiceRuns::SpecHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(at(ServiceRuns::StartedAt).not_null())
                    .col(at(ServiceRuns::ReadyAt).null())
                    .col(at(ServiceRuns::EndedAt).null())
                    .col(ColumnDef::new(ServiceRuns::ExitCode).integer().null())
                    .col(ColumnDef::new(ServiceRuns::Signal).integer().null())
                    .col(ColumnDef::new(ServiceRuns::Reason).string_len(512).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceRuns::Table, ServiceRuns::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_runs_service")
                    .table(ServiceRuns::Table)
                    .col(ServiceRuns::ServiceId)
                    .col(ServiceRuns::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceRuns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Services::Table).to_owned())
            .await
    }
}
