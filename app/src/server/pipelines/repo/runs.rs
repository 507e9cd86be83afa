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

/// The instance holding a run, and the fence of its claim: writes made under a lease change
/// nothing once another instance has claimed the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instance.
    pub owner: String,
    /// The claim's fence.
    pub fence: i64,
}

/// A run is active while it is running or waits at a gate.
fn active_states() -> [&'static str; 2] {
    [RunState::Running.as_str(), RunState::Waiting.as_str()]
}

/// Queued runs, oldest first, at most `limit`.
pub async fn queued(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find()
        .filter(pipeline_run::Column::State.eq(RunState::Queued.as_str()))
        .order_by_asc(pipeline_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Runs that are running or waiting at a gate: of one pipeline, or (none) of every pipeline.
pub async fn active(
    db: &impl ConnectionTrait,
    pipeline_id: Option<i64>,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    let mut q = pipeline_run::Entity::find()
        .filter(pipeline_run::Column::State.is_in(active_states()))
        .order_by_asc(pipeline_run::Column::Id);
    if let Some(p) = pipeline_id {
        q = q.filter(pipeline_run::Column::PipelineId.eq(p));
    }
    q.all(db).await
}

/// Runs of a project (all its pipelines), newest first, at most `limit`.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find()
        .filter(pipeline_run::Column::ProjectId.eq(project_id))
        .order_by_desc(pipeline_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The newest runs of every project, at most `limit`.
pub async fn latest(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    pipeline_run::Entity::find()
        .order_by_desc(pipeline_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The subquery matching run `run_id` only while `lease` holds it.
fn held(run_id: i64, lease: &Lease) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(pipeline_run::Column::Id)
        .from(pipeline_run::Entity)
        .and_where(pipeline_run::Column::Id.eq(run_id))
        .and_where(pipeline_run::Column::Owner.eq(lease.owner.as_str()))
        .and_where(pipeline_run::Column::Fence.eq(lease.fence))
        .to_owned()
}

/// Writes the fields set in `change` on step `step_id` of run `run_id`, while `lease` holds the
/// run; `false` when it no longer does (nothing was written).
pub async fn save_step(
    db: &impl ConnectionTrait,
    run_id: i64,
    step_id: i64,
    lease: &Lease,
    change: pipeline_step::ActiveModel,
) -> Result<bool, DbErr> {
    let done = pipeline_step::Entity::update_many()
        .set(change)
        .filter(pipeline_step::Column::Id.eq(step_id))
        .filter(pipeline_step::Column::RunId.in_subquery(held(run_id, lease)))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Sets an active run's state (and, when it is over, its message and end), while `lease`
/// holds it; `false` when it does not, or the run is no longer active (a person cancelled it).
pub async fn set_state(
    db: &impl ConnectionTrait,
    run_id: i64,
    lease: &Lease,
    state: RunState,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::State, Expr::value(state.as_str()))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::Owner.eq(lease.owner.as_str()))
        .filter(pipeline_run::Column::Fence.eq(lease.fence))
        .filter(pipeline_run::Column::State.is_in(active_states()));
    if state.is_final() {
        q = q
            .col_expr(pipeline_run::Column::Message, Expr::value(message))
            .col_expr(pipeline_run::Column::FinishedAt, Expr::value(now));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Marks every step of a run that is not over as `state` with `reason`.
async fn end_open_steps(
    db: &impl ConnectionTrait,
    run_id: i64,
    state: StepState,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let open: Vec<&str> = StepState::ALL
        .into_iter()
        .filter(|s| !s.is_final())
        .map(StepState::as_str)
        .collect();
    pipeline_step::Entity::update_many()
        .col_expr(pipeline_step::Column::State, Expr::value(state.as_str()))
        .col_expr(pipeline_step::Column::Reason, Expr::value(reason))
        .col_expr(pipeline_step::Column::FinishedAt, Expr::value(now))
        .filter(pipeline_step::Column::RunId.eq(run_id))
        .filter(pipeline_step::Column::State.is_in(open))
        .exec(db)
        .await?;
    Ok(())
}

/// Cancels a run that is not over; the state it was in, `None` when it was over already. A
/// queued run's steps are cancelled here; a running run's are cancelled by the instance
/// running it, which stops their processes first.
pub async fn cancel(
    db: &DatabaseConnection,
    run_id: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<Option<RunState>, DbErr> {
    let txn = crate::server::db::begin(db).await?;
    let Some(run) = find(&txn, run_id).await? else {
        return Ok(None);
    };
    let before = RunState::parse(&run.state).unwrap_or(RunState::Failed);
    if before.is_final() {
        return Ok(None);
    }
    let done = pipeline_run::Entity::update_many()
        .col_expr(
            pipeline_run::Column::State,
            Expr::value(RunState::Cancelled.as_str()),
        )
        .col_expr(pipeline_run::Column::Message, Expr::value(message))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::State.eq(run.state.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    if before == RunState::Queued {
        pipeline_run::Entity::update_many()
            .col_expr(pipeline_run::Column::FinishedAt, Expr::value(now))
            .filter(pipeline_run::Column::Id.eq(run_id))
            .exec(&txn)
            .await?;
        end_open_steps(&txn, run_id, StepState::Cancelled, message, now).await?;
    }
    txn.commit().await?;
    Ok(Some(before))
}

/// Records that a cancelled run's instance has stopped it: its open steps are cancelled and it
/// has ended. Only while `lease` holds it.
pub async fn finish_cancelled(
    db: &DatabaseConnection,
    run_id: i64,
    lease: &Lease,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = crate::server::db::begin(db).await?;
    let done = pipeline_run::Entity::update_many()
        .col_expr(pipeline_run::Column::FinishedAt, Expr::value(now))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::Owner.eq(lease.owner.as_str()))
        .filter(pipeline_run::Column::Fence.eq(lease.fence))
        .filter(pipeline_run::Column::State.eq(RunState::Cancelled.as_str()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    end_open_steps(
        &txn,
        run_id,
        StepState::Cancelled,
        "the run was cancelled",
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Marks an active run interrupted, when its claim is still the one with `fence` (so only one
/// instance does it, and never over a newer claim); its open steps are cancelled.
pub async fn interrupt(
    db: &DatabaseConnection,
    run_id: i64,
    fence: i64,
    message: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let txn = crate::server::db::begin(db).await?;
    let done = pipeline_run::Entity::update_many()
        .col_expr(
            pipeline_run::Column::State,
            Expr::value(RunState::Interrupted.as_str()),
        )
        .col_expr(pipeline_run::Column::Message, Expr::value(message))
        .col_expr(pipeline_run::Column::FinishedAt, Expr::value(now))
        .filter(pipeline_run::Column::Id.eq(run_id))
        .filter(pipeline_run::Column::Fence.eq(fence))
        .filter(pipeline_run::Column::State.is_in(active_states()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    end_open_steps(&txn, run_id, StepState::Cancelled, message, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Decides a gate that is waiting: `false` when it was not waiting any more (decided already,
/// timed out, or the run ended).
pub async fn decide(
    db: &impl ConnectionTrait,
    step_id: i64,
    approve: bool,
    by: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let (state, reason) = if approve {
        (StepState::Succeeded, None)
    } else {
        (StepState::Failed, Some(format!("rejected by {by}")))
    };
    let done = pipeline_step::Entity::update_many()
        .col_expr(pipeline_step::Column::State, Expr::value(state.as_str()))
        .col_expr(pipeline_step::Column::Reason, Expr::value(reason))
        .col_expr(pipeline_step::Column::DecidedBy, Expr::value(by))
        .col_expr(pipeline_step::Column::DecidedAt, Expr::value(now))
        .col_expr(pipeline_step::Column::Comment, Expr::value(comment))
        .col_expr(pipeline_step::Column::FinishedAt, Expr::value(now))
        .filter(pipeline_step::Column::Id.eq(step_id))
        .filter(pipeline_step::Column::State.eq(StepState::Waiting.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Fails a gate nobody decided in time: `false` when it was decided meanwhile.
pub async fn expire_gate(
    db: &impl ConnectionTrait,
    step_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = pipeline_step::Entity::update_many()
        .col_expr(
            pipeline_step::Column::State,
            Expr::value(StepState::Failed.as_str()),
        )
        .col_expr(pipeline_step::Column::Reason, Expr::value(reason))
        .col_expr(pipeline_step::Column::FinishedAt, Expr::value(now))
        .filter(pipeline_step::Column::Id.eq(step_id))
        .filter(pipeline_step::Column::State.eq(StepState::Waiting.as_str()))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// A pipeline's finished runs beyond its newest `keep`.
pub async fn beyond(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
    keep: u64,
) -> Result<Vec<pipeline_run::Model>, DbErr> {
    let finals: Vec<&str> = RunState::ALL
        .into_iter()
        .filter(|s| s.is_final())
        .map(RunState::as_str)
        .collect();
    pipeline_run::Entity::find()
        .filter(pipeline_run::Column::PipelineId.eq(pipeline_id))
        .filter(pipeline_run::Column::State.is_in(finals))
        .order_by_desc(pipeline_run::Column::Number)
        .offset(keep)
        .limit(1000)
        .all(db)
        .await
}

/// Removes runs with their steps and artifact records.
pub async fn delete(db: &DatabaseConnection, ids: Vec<i64>) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let txn = crate::server::db::begin(db).await?;
    crate::server::pipelines::entities::pipeline_artifact::Entity::delete_many()
        .filter(
            crate::server::pipelines::entities::pipeline_artifact::Column::RunId.is_in(ids.clone()),
        )
        .exec(&txn)
        .await?;
    pipeline_step::Entity::delete_many()
        .filter(pipeline_step::Column::RunId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    pipeline_run::Entity::delete_many()
        .filter(pipeline_run::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await
}
