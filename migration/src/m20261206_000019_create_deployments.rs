//! Deployments: a project's numbered, immutable releases (what was deployed: source commit or a
//! pipeline run's artifacts, the service definitions, a keyed hash of the environment, never its
//! values), the deployments that put them in service (claimed and leased by one instance,
//! one at a time per project), and on `services` what marks a service row as a deployed
//! release's instance (the deployment that started it, and the release folder it runs in).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Releases {
    Table,
    Id,
    ProjectId,
    Number,
    Source,
    Commit,
    CommitMessage,
    Branch,
    PipelineRunId,
    Services,
    EnvDigest,
    EnvKeys,
    Path,
    Files,
    Bytes,
    Pinned,
    CreatedBy,
    CreatedAt,
    PrunedAt,
}

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Id,
    ProjectId,
    ReleaseId,
    ReleaseNumber,
    Kind,
    Strategy,
    Status,
    Reason,
    RollbackOf,
    PreviousReleaseId,
    TriggeredBy,
    Council,
    Steps,
    Slots,
    Owner,
    LeaseUntil,
    Fence,
    CreatedAt,
    StartedAt,
    FinishedAt,
    WatchUntil,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    DeploymentId,
    Root,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Releases::Table)
                    .col(id(Releases::Id))
                    .col(ColumnDef::new(Releases::ProjectId).big_integer().not_null())
                    .col(ColumnDef::new(Releases::Number).big_integer().not_null())
                    .col(ColumnDef::new(Releases::Source).string_len(16).not_null())
                    .col(ColumnDef::new(Releases::Commit).string_len(64).null())
                    .col(ColumnDef::new(Releases::CommitMessage).text().null())
                    .col(ColumnDef::new(Releases::Branch).string_len(255).null())
                    .col(ColumnDef::new(Releases::PipelineRunId).big_integer().null())
                    .col(ColumnDef::new(Releases::Services).text().not_null())
                    .col(
                        ColumnDef::new(Releases::EnvDigest)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Releases::EnvKeys).text().not_null())
                    .col(ColumnDef::new(Releases::Path).text().not_null())
                    .col(ColumnDef::new(Releases::Files).big_integer().not_null())
                    .col(ColumnDef::new(Releases::Bytes).big_integer().not_null())
                    .col(
                        ColumnDef::new(Releases::Pinned)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Releases::CreatedBy).string_len(64).null())
                    .col(at(Releases::CreatedAt))
                    .col(at_null(Releases::PrunedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Releases::Table, Releases::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_releases_project_number")
                    .table(Releases::Table)
                    .col(Releases::ProjectId)
                    .col(Releases::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deployments::Table)
                    .col(id(Deployments::Id))
                    .col(
                        ColumnDef::new(Deployments::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deployments::ReleaseId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deployments::ReleaseNumber)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Deployments::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Deployments::Strategy)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Deployments::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Deployments::Reason).text().null())
                    .col(ColumnDef::new(Deployments::RollbackOf).big_integer().null())
                    .col(
                        ColumnDef::new(Deployments::PreviousReleaseId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Deployments::TriggeredBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(Deployments::Council).text().null())
                    .col(ColumnDef::new(Deployments::Steps).text().not_null())
                    .col(ColumnDef::new(Deployments::Slots).text().not_null())
                    .col(ColumnDef::new(Deployments::Owner).string_len(64).null())
                    .col(at_null(Deployments::LeaseUntil))
                    .col(
                        ColumnDef::new(Deployments::Fence)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(at(Deployments::CreatedAt))
                    .col(at_null(Deployments::StartedAt))
                    .col(at_null(Deployments::FinishedAt))
                    .col(at_null(Deployments::WatchUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deployments::Table, Deployments::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deployments::Table, Deployments::ReleaseId)
                            .to(Releases::Table, Releases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deployments_project")
                    .table(Deployments::Table)
                    .col(Deployments::ProjectId)
                    .col(Deployments::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deployments_status")
                    .table(Deployments::Table)
                    .col(Deployments::Status)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(ColumnDef::new(Services::DeploymentId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Services::Table)
                    .add_column(ColumnDef::new(Services::Root).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Services::Root, Services::DeploymentId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Services::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Deployments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Releases::Table).to_owned())
            .await
    }
}
