//! Runs and their steps: numbered per pipeline, at most one per trigger key, claimed by one
//! instance at a time under a lease whose fence grows with every claim.

use crate::models::pipelines::{RunState, StepState, TriggerKind};
use crate::server::pipelines::entities::{pipeline_run, pipeline_step};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// What a new run starts with.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The pipeline.
    pub pipeline_id: i64,
    /// Its project.
    pub project_id: i64,
    /// What started it.
    pub trigger: TriggerKind,
    /// Unique per pipeline: a second run with the same key is not made.
    pub trigger_key: &'a str,
    /// Who started it, when a person did.
    pub triggered_by: Option<&'a str>,
    /// The branch and commit it runs for, when known.
    pub branch: Option<&'a str>,
    /// The commit.
    pub commit: Option<&'a str>,
    /// Parameter values, JSON.
    pub parameters: &'a str,
    /// The definition, JSON.
    pub definition: &'a str,
    /// The run it reruns.
    pub rerun_of: Option<i64>,
    /// Each step's name, in definition order, with the state it starts in (a rerun keeps some
    /// as succeeded).
    pub steps: &'a [(String, StepState)],
}

/// Makes a run (queued) and its steps, numbered after the pipeline's latest run. `None` when
/// the pipeline already has a run with this trigger key: that trigger started its run already,
/// here or on another instance. The database decides (a unique key), not timing.
pub async fn insert(
    db: &DatabaseConnection,
    new: &NewRun<'_>,
    now: DateTime<Utc>,
) -> Result<Option<(pipeline_run::Model, Vec<pipeline_step::Model>)>, DbErr> {
    // Two runs made at once may pick the same number: the unique key refuses one, which tries
    // again with the next number.
    for _ in 0..10 {
        if find_by_trigger(db, new.pipeline_id, new.trigger_key)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        match try_insert(db, new, now).await {
            Ok(made) => return Ok(Some(made)),
            Err(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(DbErr::Custom(format!(
        "could not number a run of pipeline {} after 10 tries",
        new.pipeline_id
    )))
}

async fn try_insert(
    db: &DatabaseConnection,
    new: &NewRun<'_>,
    now: DateTime<Utc>,
) -> Result<(pipeline_run::Model, Vec<pipeline_step::Model>), DbErr> {
    let txn = crate::server::db::begin(db).await?;
    let last: Option<i64> = pipeline_run::Entity::find()
        .select_only()
        .column_as(Expr::col(pipeline_run::Column::Number).max(), "last")
        .filter(pipeline_run::Column::PipelineId.eq(new.pipeline_id))
        .into_tuple::<Option<i64>>()
        .one(&txn)
        .await?
        .flatten();
    let run = pipeline_run::ActiveModel {
        pipeline_id: Set(new.pipeline_id),
        project_id: Set(new.project_id),
        number: Set(last.unwrap_or(0) + 1),
        state: Set(RunState::Queued.as_str().to_owned()),
        trigger: Set(new.trigger.as_str().to_owned()),
        trigger_key: Set(new.trigger_key.to_owned()),
        triggered_by: Set(new.triggered_by.map(str::to_owned)),
        branch: Set(new.branch.map(str::to_owned)),
        commit: Set(new.commit.map(str::to_owned)),
        parameters: Set(new.parameters.to_owned()),
        definition: Set(new.definition.to_owned()),
        message: Set(None),
        rerun_of: Set(new.rerun_of),
        owner: Set(None),
        lease_until: Set(None),
        fence: Set(0),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut steps = Vec::with_capacity(new.steps.len());
    for (idx, (name, state)) in new.steps.iter().enumerate() {
        let step = pipeline_step::ActiveModel {
            run_id: Set(run.id),
            idx: Set(i32::try_from(idx).unwrap_or(i32::MAX)),
            name: Set(name.clone()),
            state: Set(state.as_str().to_owned()),
            attempt: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        steps.push(step);
    }
    txn.commit().await?;
    Ok((run, steps))
}

/// The run a trigger key started, if any.
pub async fn find_by_trigger(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
    trigger_key: &str,
) -> Result<Option<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find()
        .filter(pipeline_run::Column::PipelineId.eq(pipeline_id))
        .filter(pipeline_run::Column::TriggerKey.eq(trigger_key))
        .one(db)
        .await
}

/// One run.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find_by_id(id).one(db).await
}

/// A pipeline's runs, newest first, at most `limit`.
pub async fn of_pipeline(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
    limit: u64,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find()
        .filter(pipeline_run::Column::PipelineId.eq(pipeline_id))
        .order_by_desc(pipeline_run::Column::Number)
        .limit(limit)
        .all(db)
        .await
}

/// A run's steps, in definition order.
pub async fn steps(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Vec<pipeline_step::Model>, DbErr> {
    pipeline_step::Entity::find()
        .filter(pipeline_step::Column::RunId.eq(run_id))
        .order_by_asc(pipeline_step::Column::Idx)
        .all(db)
        .await
}

/// Takes a queued run for instance `owner` until `lease_until`: the new fence when this call
/// took it, `None` when the run was not queued any more (another instance took it first).
pub async fn claim(
    db: &impl ConnectionTrait,
    run_id: i64,
    owner: &str,
    lease_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let taken = pipeline_run::Entity::update_many()
        .col_expr(
            pipeline_run::Column::State,
            Expr::value(RunState::Running.as_str()),
        )
        .col_expr(pipeline_run::Column::Owner, Expr::value(owner))
        .col_expr(pipeline_run::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(
            pipeline_run::Column::Fence,
            Expr::col(pipeline_run::Column::Fence).add(1),
        )
        .col_expr(pipeline_run::Column::StartedAt, Expr::value(now))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::State.eq(RunState::Queued.as_str()))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    Ok(find(db, run_id).await?.map(|r| r.fence))
}

/// Extends the lease of a run this instance holds with `fence`; `false` when it no longer
/// holds it (the lease ran out and another instance claimed the run).
pub async fn renew(
    db: &impl ConnectionTrait,
    run_id: i64,
    owner: &str,
    fence: i64,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let renewed = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::LeaseUntil, Expr::value(lease_until))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::Owner.eq(owner))
        .filter(pipeline_run::Column::Fence.eq(fence))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}
