//! Pipeline runs and their steps. A run keeps the definition and parameter values it started
//! with; `trigger_key` is unique per pipeline, so a trigger (a schedule's fire time, a commit, a
//! webhook delivery) starts at most one run however many instances see it. The instance running
//! a run holds a lease (`owner`, `lease_until`) whose `fence` grows with every claim, so an
//! instance that lost the lease cannot write over the one that took the run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PipelineRuns {
    Table,
    Id,
    PipelineId,
    ProjectId,
    Number,
    State,
    Trigger,
    TriggerKey,
    TriggeredBy,
    Branch,
    Commit,
    Parameters,
    Definition,
    Message,
    RerunOf,
    Owner,
    LeaseUntil,
    Fence,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum PipelineSteps {
    Table,
    Id,
    RunId,
    Idx,
    Name,
    State,
    Attempt,
    ExitCode,
    Signal,
    Reason,
    Pid,
    PidStart,
    ShimPid,
    RunDir,
    TestsPassed,
    TestsFailed,
    TestsSkipped,
    DecidedBy,
    DecidedAt,
    Comment,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Pipelines {
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
                    .table(PipelineRuns::Table)
                    .col(id(PipelineRuns::Id))
                    .col(
                        ColumnDef::new(PipelineRuns::PipelineId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::ProjectId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::Number)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::Trigger)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::TriggerKey)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineRuns::TriggeredBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(PipelineRuns::Branch).string_len(200).null())
                    .col(ColumnDef::new(PipelineRuns::Commit).string_len(64).null())
                    .col(ColumnDef::new(PipelineRuns::Parameters).text().not_null())
                    .col(ColumnDef::new(PipelineRuns::Definition).text().not_null())
                    .col(ColumnDef::new(PipelineRuns::Message).string_len(512).null())
                    .col(ColumnDef::new(PipelineRuns::RerunOf).big_integer().null())
                    .col(ColumnDef::new(PipelineRuns::Owner).string_len(36).null())
                    .col(at(PipelineRuns::LeaseUntil).null())
                    .col(
                        ColumnDef::new(PipelineRuns::Fence)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(at(PipelineRuns::CreatedAt).not_null())
                    .col(at(PipelineRuns::StartedAt).null())
                    .col(at(PipelineRuns::FinishedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PipelineRuns::Table, PipelineRuns::PipelineId)
                            .to(Pipelines::Table, Pipelines::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_pipeline_runs_trigger",
                [PipelineRuns::PipelineId, PipelineRuns::TriggerKey],
            ),
            (
                "idx_pipeline_runs_number",
                [PipelineRuns::PipelineId, PipelineRuns::Number],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(PipelineRuns::Table).unique();
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // The executor looks for queued runs, and for leases that ran out.
        manager
            .create_index(
                Index::create()
                    .name("idx_pipeline_runs_state")
                    .table(PipelineRuns::Table)
                    .col(PipelineRuns::State)
                    .col(PipelineRuns::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PipelineSteps::Table)
                    .col(id(PipelineSteps::Id))
                    .col(
                        ColumnDef::new(PipelineSteps::RunId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PipelineSteps::Idx).integer().not_null())
                    .col(
                        ColumnDef::new(PipelineSteps::Name)
                            .string_len(40)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineSteps::State)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PipelineSteps::Attempt)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ColumnDef::new(PipelineSteps::ExitCode).integer().null())
                    .col(ColumnDef::new(PipelineSteps::Signal).integer().null())
                    .col(ColumnDef::new(PipelineSteps::Reason).string_len(512).null())
                    .col(ColumnDef::new(PipelineSteps::Pid).integer().null())
                    .col(ColumnDef::new(PipelineSteps::PidStart).big_integer().null())
                    .col(ColumnDef::new(PipelineSteps::ShimPid).integer().null())
                    .col(
                        ColumnDef::new(PipelineSteps::RunDir)
                            .string_len(1024)
                            .null(),
                    )
                    .col(ColumnDef::new(PipelineSteps::TestsPassed).integer().null())
                    .col(ColumnDef::new(PipelineSteps::TestsFailed).integer().null())
                    .col(ColumnDef::new(PipelineSteps::TestsSkipped).integer().null())
                    .col(
                        ColumnDef::new(PipelineSteps::DecidedBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(at(PipelineSteps::DecidedAt).null())
                    .col(
                        ColumnDef::new(PipelineSteps::Comment)
                            .string_len(1000)
                            .null(),
                    )
                    .col(at(PipelineSteps::StartedAt).null())
                    .col(at(PipelineSteps::FinishedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PipelineSteps::Table, PipelineSteps::RunId)
                            .to(PipelineRuns::Table, PipelineRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pipeline_steps_run")
                    .table(PipelineSteps::Table)
                    .col(PipelineSteps::RunId)
                    .col(PipelineSteps::Idx)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PipelineSteps::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PipelineRuns::Table).to_owned())
            .await
    }
}
