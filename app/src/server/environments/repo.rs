//! Environments and their variables (values as stored: secrets sealed).

use crate::server::environments::entities::{env_var, environment};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

/// An environment by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<environment::Model>, DbErr> {
    environment::Entity::find_by_id(id).one(db).await
}

/// A project's environments, by name.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<environment::Model>, DbErr> {
    environment::Entity::find()
        .filter(environment::Column::ProjectId.eq(project_id))
        .order_by_asc(environment::Column::Name)
        .all(db)
        .await
}

/// The project's active environment, if one is.
pub async fn active(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<environment::Model>, DbErr> {
    environment::Entity::find()
        .filter(environment::Column::ProjectId.eq(project_id))
        .filter(environment::Column::Active.eq(true))
        .one(db)
        .await
}

/// Adds an environment (active when it is the project's first).
pub async fn insert(
    db: &impl ConnectionTrait,
    project_id: i64,
    name: &str,
    active: bool,
    now: DateTime<Utc>,
) -> Result<environment::Model, DbErr> {
    environment::ActiveModel {
        project_id: Set(project_id),
        name: Set(name.to_owned()),
        active: Set(active),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Makes `id` the project's only active environment.
pub async fn activate(db: &impl ConnectionTrait, project_id: i64, id: i64) -> Result<(), DbErr> {
    environment::Entity::update_many()
        .col_expr(
            environment::Column::Active,
            Expr::col(environment::Column::Id).eq(id),
        )
        .filter(environment::Column::ProjectId.eq(project_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes an environment and its variables.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    environment::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}

/// The variables of environments, by key.
pub async fn vars(
    db: &impl ConnectionTrait,
    environment_ids: Vec<i64>,
) -> Result<Vec<env_var::Model>, DbErr> {
    if environment_ids.is_empty() {
        return Ok(Vec::new());
    }
    env_var::Entity::find()
        .filter(env_var::Column::EnvironmentId.is_in(environment_ids))
        .order_by_asc(env_var::Column::Key)
        .all(db)
        .await
}

/// Sets a variable (value already sealed when secret).
pub async fn upsert_var(
    db: &impl ConnectionTrait,
    environment_id: i64,
    key: &str,
    value: &str,
    secret: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    env_var::Entity::insert(env_var::ActiveModel {
        environment_id: Set(environment_id),
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        secret: Set(secret),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([env_var::Column::EnvironmentId, env_var::Column::Key])
            .update_columns([
                env_var::Column::Value,
                env_var::Column::Secret,
                env_var::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await
    .map(|_| ())
}

/// Removes a variable; false when there was none.
pub async fn delete_var(
    db: &impl ConnectionTrait,
    environment_id: i64,
    key: &str,
) -> Result<bool, DbErr> {
    env_var::Entity::delete_many()
        .filter(env_var::Column::EnvironmentId.eq(environment_id))
        .filter(env_var::Column::Key.eq(key))
        .exec(db)
        .await
        .map(|r| r.rows_affected > 0)
}
