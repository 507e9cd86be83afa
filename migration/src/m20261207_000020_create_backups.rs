//! Backups: per-project policies (what to back up, when, what to keep, into which restic
//! repository, its password sealed with the master key), the jobs that carry them out
//! (backup, verify, restore: claimed and leased by one instance, one at a time per policy, one
//! per trigger key) and the snapshots they made, good or failed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackupPolicies {
    Table,
    Id,
    ProjectId,
    Name,
    Paths,
    Excludes,
    Schedule,
    ScheduleCheckedAt,
    Keep,
    Repository,
    Password,
    Paused,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BackupJobs {
    Table,
    Id,
    PolicyId,
    ProjectId,
    Kind,
    Status,
    Params,
    Progress,
    Result,
    Reason,
    TriggeredBy,
    TriggerKey,
    Owner,
    LeaseUntil,
    Fence,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum BackupSnapshots {
    Table,
    Id,
    PolicyId,
    ProjectId,
    JobId,
    Snapshot,
    Root,
    Status,
    Reason,
    StartedAt,
    FinishedAt,
    Files,
    Dirs,
    Bytes,
    AddedBytes,
    Verified,
    VerifiedAt,
    VerifyError,
    ForgottenAt,
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

fn count<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupPolicies::Table)
                    .col(id(BackupPolicies::Id))
                    .col(
                        ColumnDef::new(BackupPolicies::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BackupPolicies::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BackupPolicies::Paths).text().not_null())
                    .col(ColumnDef::new(BackupPolicies::Excludes).text().not_null())
                    .col(ColumnDef::new(BackupPolicies::Schedule).text().null())
                    .col(at_null(BackupPolicies::ScheduleCheckedAt))
                    .col(ColumnDef::new(BackupPolicies::Keep).text().not_null())
                    .col(ColumnDef::new(BackupPolicies::Repository).text().not_null())
                    .col(ColumnDef::new(BackupPolicies::Password).text().not_null())
                    .col(
                        ColumnDef::new(BackupPolicies::Paused)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(BackupPolicies::CreatedBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(at(BackupPolicies::CreatedAt))
                    .col(at(BackupPolicies::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BackupPolicies::Table, BackupPolicies::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_policies_project_name")
                    .table(BackupPolicies::Table)
                    .col(BackupPolicies::ProjectId)
                    .col(BackupPolicies::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupJobs::Table)
                    .col(id(BackupJobs::Id))
                    .col(
                        ColumnDef::new(BackupJobs::PolicyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BackupJobs::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BackupJobs::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(BackupJobs::Status).string_len(16).not_null())
                    .col(ColumnDef::new(BackupJobs::Params).text().not_null())
                    .col(ColumnDef::new(BackupJobs::Progress).text().null())
                    .col(ColumnDef::new(BackupJobs::Result).text().null())
                    .col(ColumnDef::new(BackupJobs::Reason).text().null())
                    .col(
                        ColumnDef::new(BackupJobs::TriggeredBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BackupJobs::TriggerKey)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BackupJobs::Owner).string_len(64).null())
                    .col(at_null(BackupJobs::LeaseUntil))
                    .col(count(BackupJobs::Fence))
                    .col(at(BackupJobs::CreatedAt))
                    .col(at_null(BackupJobs::StartedAt))
                    .col(at_null(BackupJobs::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BackupJobs::Table, BackupJobs::PolicyId)
                            .to(BackupPolicies::Table, BackupPolicies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One job per trigger: a schedule's fire time, a webhook delivery, or a request's own
        // unique key, whichever instance inserts it first.
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_jobs_trigger")
                    .table(BackupJobs::Table)
                    .col(BackupJobs::PolicyId)
                    .col(BackupJobs::TriggerKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_jobs_status")
                    .table(BackupJobs::Table)
                    .col(BackupJobs::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BackupSnapshots::Table)
                    .col(id(BackupSnapshots::Id))
                    .col(
                        ColumnDef::new(BackupSnapshots::PolicyId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BackupSnapshots::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BackupSnapshots::JobId).big_integer().null())
                    .col(
                        ColumnDef::new(BackupSnapshots::Snapshot)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(BackupSnapshots::Root).text().not_null())
                    .col(
                        ColumnDef::new(BackupSnapshots::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BackupSnapshots::Reason).text().null())
                    .col(at(BackupSnapshots::StartedAt))
                    .col(at(BackupSnapshots::FinishedAt))
                    .col(count(BackupSnapshots::Files))
                    .col(count(BackupSnapshots::Dirs))
                    .col(count(BackupSnapshots::Bytes))
                    .col(count(BackupSnapshots::AddedBytes))
                    .col(
                        ColumnDef::new(BackupSnapshots::Verified)
                            .string_len(16)
                            .null(),
                    )
                    .col(at_null(BackupSnapshots::VerifiedAt))
                    .col(ColumnDef::new(BackupSnapshots::VerifyError).text().null())
                    .col(at_null(BackupSnapshots::ForgottenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BackupSnapshots::Table, BackupSnapshots::PolicyId)
                            .to(BackupPolicies::Table, BackupPolicies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_backup_snapshots_policy")
                    .table(BackupSnapshots::Table)
                    .col(BackupSnapshots::PolicyId)
                    .col(BackupSnapshots::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BackupSnapshots::Table.into_iden(),
            BackupJobs::Table.into_iden(),
            BackupPolicies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
