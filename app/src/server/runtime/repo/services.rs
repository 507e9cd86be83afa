//! Services and their runs.

use crate::models::runtime::{
    LimitEnforcement, LogTrouble, RunInfo, ServiceDefinition, ServiceState,
};
use crate::server::runtime::entities::{service, service_run};
use crate::server::stored::{self, Undecodable};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// The stored definition, or an error naming the row when it cannot be read.
pub fn definition(m: &service::Model) -> Result<ServiceDefinition, Undecodable> {
    stored::decode("services", m.id, "definition", &m.definition)
}

/// The stored state.
pub fn state(m: &service::Model) -> ServiceState {
    ServiceState::parse(&m.state).unwrap_or_default()
}

/// How the run's resource limits were enforced, or an error naming the row.
pub fn limits(r: &service_run::Model) -> Result<Vec<LimitEnforcement>, Undecodable> {
    stored::decode("service_runs", r.id, "limits", &r.limits)
}

/// What the run's log could not keep, or an error naming the row.
pub fn log_trouble(r: &service_run::Model) -> Result<Option<LogTrouble>, Undecodable> {
    stored::decode_optional(
        "service_runs",
        r.id,
        "log_trouble",
        r.log_trouble.as_deref(),
    )
}

/// The stored form of a run's [`LogTrouble`] (read back by [`log_trouble`]).
pub fn encode_log_trouble(trouble: &LogTrouble) -> String {
    serde_json::to_string(trouble).unwrap_or_else(|_| "{}".into())
}

/// The stored form of how the shim enforced a run's limits (read back by [`limits`]).
pub fn encode_limits(limits: &[optimus_shim::Enforcement]) -> String {
    serde_json::to_string(limits).unwrap_or_else(|_| "[]".into())
}

impl TryFrom<service_run::Model> for RunInfo {
    type Error = Undecodable;

    fn try_from(r: service_run::Model) -> Result<Self, Undecodable> {
        Ok(RunInfo {
            limits: limits(&r)?,
            log_trouble: log_trouble(&r)?,
            owner: r.owner,
            id: r.id,
            service_id: r.service_id,
            attempt: u32::try_from(r.attempt).unwrap_or(0),
            pid: r.pid.and_then(|p| u32::try_from(p).ok()),
            port: r.port.and_then(|p| u16::try_from(p).ok()),
            started_at: r.started_at,
            ready_at: r.ready_at,
            ended_at: r.ended_at,
            exit_code: r.exit_code,
            signal: r.signal,
            reason: r.reason,
        })
    }
}

/// How many services are in `state`.
pub async fn count_in_state(db: &impl ConnectionTrait, state: ServiceState) -> Result<u64, DbErr> {
    service::Entity::find()
        .filter(service::Column::State.eq(state.as_str()))
        .count(db)
        .await
}

/// A service by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find_by_id(id).one(db).await
}

/// A project's own services (not its deployed releases' instances), by name.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::ProjectId.eq(project_id))
        .filter(service::Column::DeploymentId.is_null())
        .order_by_asc(service::Column::Name)
        .all(db)
        .await
}

/// The services `svc` runs beside: the project's own, or for a deployed instance those its
/// deployment started.
pub async fn siblings(
    db: &impl ConnectionTrait,
    svc: &service::Model,
) -> Result<Vec<service::Model>, DbErr> {
    match svc.deployment_id {
        None => of_project(db, svc.project_id).await,
        Some(d) => of_deployment(db, d).await,
    }
}

/// The instances a deployment started, by name.
pub async fn of_deployment(
    db: &impl ConnectionTrait,
    deployment_id: i64,
) -> Result<Vec<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::DeploymentId.eq(deployment_id))
        .order_by_asc(service::Column::Name)
        .all(db)
        .await
}

/// The name a service goes by in its definition and its siblings' variables: a deployed
/// instance `web@d12` is `web`.
pub fn base_name(m: &service::Model) -> &str {
    m.name.split('@').next().unwrap_or(&m.name)
}

/// Adds a deployed release's instance of a service: named `<name>@d<deployment>`, running in
/// `root`, with a port from the registry when the service has one.
pub async fn insert_slot(
    db: &impl ConnectionTrait,
    project_id: i64,
    deployment_id: i64,
    def: &ServiceDefinition,
    root: &str,
    now: DateTime<Utc>,
) -> Result<service::Model, DbErr> {
    service::ActiveModel {
        project_id: Set(project_id),
        name: Set(format!("{}@d{deployment_id}", def.name)),
        origin: Set("deployment".into()),
        definition: Set(serde_json::to_string(def).unwrap_or_else(|_| "{}".into())),
        allocated_port: Set(None),
        state: Set(ServiceState::Stopped.as_str().into()),
        message: Set(None),
        restarts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        deployment_id: Set(Some(deployment_id)),
        root: Set(Some(root.to_owned())),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Every service (the port registry and reconciliation read them all).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<service::Model>, DbErr> {
    service::Entity::find()
        .order_by_asc(service::Column::Id)
        .all(db)
        .await
}

/// The services of these projects, by id.
pub async fn of_projects(
    db: &impl ConnectionTrait,
    project_ids: Vec<i64>,
) -> Result<Vec<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::ProjectId.is_in(project_ids))
        .order_by_asc(service::Column::Id)
        .all(db)
        .await
}

/// Adds a service.
pub async fn insert(
    db: &impl ConnectionTrait,
    project_id: i64,
    origin: &str,
    def: &ServiceDefinition,
    now: DateTime<Utc>,
) -> Result<service::Model, DbErr> {
    service::ActiveModel {
        project_id: Set(project_id),
        name: Set(def.name.clone()),
        origin: Set(origin.to_owned()),
        definition: Set(serde_json::to_string(def).unwrap_or_else(|_| "{}".into())),
        allocated_port: Set(None),
        state: Set(ServiceState::Stopped.as_str().into()),
        message: Set(None),
        restarts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Replaces a definition (and the name, which lives in it).
pub async fn update_definition(
    db: &impl ConnectionTrait,
    id: i64,
    def: &ServiceDefinition,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    service::Entity::update_many()
        .col_expr(service::Column::Name, Expr::value(def.name.clone()))
        .col_expr(
            service::Column::Definition,
            Expr::value(serde_json::to_string(def).unwrap_or_else(|_| "{}".into())),
        )
        .col_expr(service::Column::Origin, Expr::value("user"))
        .col_expr(service::Column::UpdatedAt, Expr::value(now))
        .filter(service::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Replaces a definition that came from `optimus.toml` (keeps its origin).
pub async fn replace_from_descriptor(
    db: &impl ConnectionTrait,
    id: i64,
    def: &ServiceDefinition,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    service::Entity::update_many()
        .col_expr(
            service::Column::Definition,
            Expr::value(serde_json::to_string(def).unwrap_or_else(|_| "{}".into())),
        )
        .col_expr(service::Column::UpdatedAt, Expr::value(now))
        .filter(service::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records a service's state.
pub async fn set_state(
    db: &impl ConnectionTrait,
    id: i64,
    state: ServiceState,
    message: Option<&str>,
    restarts: Option<u32>,
) -> Result<(), DbErr> {
    let mut q = service::Entity::update_many()
        .col_expr(service::Column::State, Expr::value(state.as_str()))
        .col_expr(
            service::Column::Message,
            Expr::value(message.map(|m| m.chars().take(500).collect::<String>())),
        );
    if let Some(r) = restarts {
        q = q.col_expr(
            service::Column::Restarts,
            Expr::value(i32::try_from(r).unwrap_or(i32::MAX)),
        );
    }
    q.filter(service::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Makes `me` the instance supervising the service, if the one supervising it is still
/// `previous` (none: nobody). The database decides between instances claiming at once: only
/// one of them sees true.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    me: &str,
    previous: Option<&str>,
) -> Result<bool, DbErr> {
    let q = service::Entity::update_many()
        .col_expr(service::Column::Supervisor, Expr::value(me))
        .filter(service::Column::Id.eq(id));
    let q = match previous {
        Some(p) => q.filter(service::Column::Supervisor.eq(p)),
        None => q.filter(service::Column::Supervisor.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Lets go of a service `me` supervised (it stopped, or ended for good).
pub async fn release(db: &impl ConnectionTrait, id: i64, me: &str) -> Result<(), DbErr> {
    service::Entity::update_many()
        .col_expr(
            service::Column::Supervisor,
            Expr::value(Option::<String>::None),
        )
        .filter(service::Column::Id.eq(id))
        .filter(service::Column::Supervisor.eq(me))
        .exec(db)
        .await
        .map(|_| ())
}

/// Gives a service an allocated port. Fails on the unique index if another service holds it.
pub async fn set_allocated_port(
    db: &impl ConnectionTrait,
    id: i64,
    port: Option<u16>,
) -> Result<(), DbErr> {
    service::Entity::update_many()
        .col_expr(
            service::Column::AllocatedPort,
            Expr::value(port.map(i32::from)),
        )
        .filter(service::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes a service (its runs go with it).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    service::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// A new run, before its process exists.
pub async fn insert_run(
    db: &impl ConnectionTrait,
    (service_id, owner): (i64, &str),
    attempt: u32,
    port: Option<u16>,
    spec: (&str, &str),
    now: DateTime<Utc>,
) -> Result<service_run::Model, DbErr> {
    let (spec_hash, spec) = spec;
    service_run::ActiveModel {
        service_id: Set(service_id),
        attempt: Set(i32::try_from(attempt).unwrap_or(i32::MAX)),
        pid: Set(None),
        pid_start: Set(None),
        shim_pid: Set(None),
        port: Set(port.map(i32::from)),
        run_dir: Set(String::new()),
        spec_hash: Set(spec_hash.to_owned()),
        started_at: Set(now),
        ready_at: Set(None),
        ended_at: Set(None),
        exit_code: Set(None),
        signal: Set(None),
        reason: Set(None),
        spec: Set(spec.to_owned()),
        limits: Set("[]".into()),
        log_trouble: Set(None),
        owner: Set(Some(owner.to_owned())),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Saves changes to a run.
pub async fn save_run(
    db: &impl ConnectionTrait,
    run: service_run::Model,
) -> Result<service_run::Model, DbErr> {
    let mut active: service_run::ActiveModel = run.clone().into();
    active.pid = Set(run.pid);
    active.pid_start = Set(run.pid_start);
    active.shim_pid = Set(run.shim_pid);
    active.run_dir = Set(run.run_dir);
    active.ready_at = Set(run.ready_at);
    active.ended_at = Set(run.ended_at);
    active.exit_code = Set(run.exit_code);
    active.signal = Set(run.signal);
    active.reason = Set(run.reason);
    active.limits = Set(run.limits);
    active.log_trouble = Set(run.log_trouble);
    active.owner = Set(run.owner);
    active.update(db).await
}

/// The newest runs of a service.
pub async fn runs(
    db: &impl ConnectionTrait,
    service_id: i64,
    limit: u64,
) -> Result<Vec<service_run::Model>, DbErr> {
    service_run::Entity::find()
        .filter(service_run::Column::ServiceId.eq(service_id))
        .order_by_desc(service_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The latest run of each of `service_ids`.
pub async fn latest_runs(
    db: &impl ConnectionTrait,
    service_ids: Vec<i64>,
) -> Result<Vec<service_run::Model>, DbErr> {
    if service_ids.is_empty() {
        return Ok(Vec::new());
    }
    let latest: Vec<i64> = service_run::Entity::find()
        .select_only()
        .column_as(service_run::Column::Id.max(), "id")
        .filter(service_run::Column::ServiceId.is_in(service_ids))
        .group_by(service_run::Column::ServiceId)
        .into_tuple()
        .all(db)
        .await?;
    service_run::Entity::find()
        .filter(service_run::Column::Id.is_in(latest))
        .all(db)
        .await
}

/// Runs beyond the newest `keep` of a service (their folders may be pruned).
pub async fn runs_beyond(
    db: &impl ConnectionTrait,
    service_id: i64,
    keep: u64,
) -> Result<Vec<service_run::Model>, DbErr> {
    service_run::Entity::find()
        .filter(service_run::Column::ServiceId.eq(service_id))
        .filter(service_run::Column::EndedAt.is_not_null())
        .order_by_desc(service_run::Column::Id)
        .offset(keep)
        .all(db)
        .await
}

/// Forgets runs by id.
pub async fn delete_runs(db: &impl ConnectionTrait, ids: Vec<i64>) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    service_run::Entity::delete_many()
        .filter(service_run::Column::Id.is_in(ids))
        .exec(db)
        .await
        .map(|_| ())
}

/// Runs of these services that ended since `since`.
pub async fn ended_since(
    db: &impl ConnectionTrait,
    service_ids: Vec<i64>,
    since: DateTime<Utc>,
) -> Result<Vec<service_run::Model>, DbErr> {
    service_run::Entity::find()
        .filter(service_run::Column::ServiceId.is_in(service_ids))
        .filter(service_run::Column::EndedAt.gte(since))
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(limits: &str) -> service_run::Model {
        service_run::Model {
            id: 12,
            service_id: 3,
            attempt: 0,
            pid: Some(100),
            pid_start: Some(5),
            shim_pid: Some(99),
            port: None,
            run_dir: String::new(),
            spec_hash: String::new(),
            started_at: Utc::now(),
            ready_at: None,
            ended_at: None,
            exit_code: None,
            signal: None,
            reason: None,
            spec: "{}".into(),
            limits: limits.into(),
            log_trouble: None,
            owner: None,
        }
    }

    #[test]
    fn the_limits_the_shim_reports_read_back_as_the_runs_limits() {
        let shim = [optimus_shim::Enforcement {
            limit: "memory".into(),
            value: 256,
            method: "cgroup v2".into(),
            detail: None,
        }];
        let info = RunInfo::try_from(run(&encode_limits(&shim)));
        let limits = info.map(|i| i.limits).unwrap_or_default();
        assert_eq!(limits.len(), 1);
        assert_eq!(
            (
                limits[0].limit.as_str(),
                limits[0].value,
                limits[0].method.as_str()
            ),
            ("memory", 256, "cgroup v2")
        );
    }

    #[test]
    fn an_unreadable_limits_column_names_the_run() {
        let err = RunInfo::try_from(run(r#"[{"limit": 7}]"#))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("service_runs row 12: column `limits` cannot be read"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_definition_names_the_service() {
        let svc = service::Model {
            id: 4,
            project_id: 1,
            name: "web".into(),
            origin: "user".into(),
            definition: r#"{"command": 42}"#.into(),
            allocated_port: None,
            state: "stopped".into(),
            message: None,
            restarts: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            supervisor: None,
            deployment_id: None,
            root: None,
        };
        let err = definition(&svc)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("services row 4: column `definition` cannot be read"),
            "{err}"
        );
    }
}
