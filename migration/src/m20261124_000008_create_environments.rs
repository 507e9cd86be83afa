//! Per-project environments and their variables (secret values encrypted), and what each run
//! started with (to show what a restart would change).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Environments {
    Table,
    Id,
    ProjectId,
    Name,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EnvVars {
    Table,
    Id,
    EnvironmentId,
    Key,
    Value,
    Secret,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceRuns {
    Table,
    Spec,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Environments::Table)
                    .col(
                        ColumnDef::new(Environments::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Environments::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Environments::Name).string_len(40).not_null())
                    .col(
                        ColumnDef::new(Environments::Active)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Environments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Environments::Table, Environments::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_environments_project_name")
                    .table(Environments::Table)
                    .col(Environments::ProjectId)
                    .col(Environments::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnvVars::Table)
                    .col(
                        ColumnDef::new(EnvVars::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(EnvVars::EnvironmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(EnvVars::Key).string_len(128).not_null())
                    .col(ColumnDef::new(EnvVars::Value).text().not_null())
                    .col(
                        ColumnDef::new(EnvVars::Secret)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(EnvVars::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(EnvVars::Table, EnvVars::EnvironmentId)
                            .to(Environments::Table, Environments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_env_vars_environment_key")
                    .table(EnvVars::Table)
                    .col(EnvVars::EnvironmentId)
                    .col(EnvVars::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRuns::Table)
                    .add_column(
                        ColumnDef::new(ServiceRuns::Spec)
                            .text()
                            .not_null()
                            .default("{}"),
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
                    .drop_column(ServiceRuns::Spec)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(EnvVars::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Environments::Table).to_owned())
            .await
    }
}
