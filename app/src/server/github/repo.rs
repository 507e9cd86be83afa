//! The GitHub feature's tables: the configuration row, kept answers, and project snapshots.

use super::entities::{config, response, snapshot};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// The configuration row's id.
const ROW: i32 = 1;

/// The configuration, if GitHub was ever configured.
pub async fn config(db: &impl ConnectionTrait) -> Result<Option<config::Model>, DbErr> {
    config::Entity::find_by_id(ROW).one(db).await
}

/// Writes the base URL and the sealed token (or none), forgetting the rate limit, any pause,
/// and every kept answer and snapshot (they were fetched with another token or server).
pub async fn configure(
    db: &impl ConnectionTrait,
    base_url: &str,
    token: Option<String>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = config::ActiveModel {
        id: Set(ROW),
        base_url: Set(base_url.to_owned()),
        token: Set(token),
        rate_remaining: Set(None),
        rate_limit: Set(None),
        rate_reset_at: Set(None),
        paused_until: Set(None),
        updated_by: Set(Some(by.chars().take(100).collect())),
        updated_at: Set(now),
    };
    config::Entity::insert(row)
        .on_conflict(
            OnConflict::column(config::Column::Id)
                .update_columns([
                    config::Column::BaseUrl,
                    config::Column::Token,
                    config::Column::RateRemaining,
                    config::Column::RateLimit,
                    config::Column::RateResetAt,
                    config::Column::PausedUntil,
                    config::Column::UpdatedBy,
                    config::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    response::Entity::delete_many().exec(db).await?;
    snapshot::Entity::delete_many().exec(db).await?;
    Ok(())
}

/// Records the rate limit GitHub reported.
pub async fn set_rate(
    db: &impl ConnectionTrait,
    remaining: i32,
    limit: i32,
    reset_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    config::Entity::update_many()
        .col_expr(config::Column::RateRemaining, Expr::value(remaining))
        .col_expr(config::Column::RateLimit, Expr::value(limit))
        .col_expr(config::Column::RateResetAt, Expr::value(reset_at))
        .filter(config::Column::Id.eq(ROW))
        .exec(db)
        .await
        .map(|_| ())
}

/// No request before `until` (every instance reads this before asking); a later pause already
/// recorded (another instance's) is kept.
pub async fn pause(db: &impl ConnectionTrait, until: DateTime<Utc>) -> Result<(), DbErr> {
    config::Entity::update_many()
        .col_expr(config::Column::PausedUntil, Expr::value(until))
        .filter(config::Column::Id.eq(ROW))
        .filter(
            sea_orm::Condition::any()
                .add(config::Column::PausedUntil.is_null())
                .add(config::Column::PausedUntil.lt(until)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// The kept answer for the URL with this key.
pub async fn response(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<response::Model>, DbErr> {
    response::Entity::find_by_id(key.to_owned()).one(db).await
}

/// Keeps an answer (replacing the one before).
pub async fn keep_response(db: &impl ConnectionTrait, row: response::Model) -> Result<(), DbErr> {
    let active = response::ActiveModel {
        key: Set(row.key),
        url: Set(row.url),
        etag: Set(row.etag),
        body: Set(row.body),
        next_url: Set(row.next_url),
        fetched_at: Set(row.fetched_at),
    };
    response::Entity::insert(active)
        .on_conflict(
            OnConflict::column(response::Column::Key)
                .update_columns([
                    response::Column::Url,
                    response::Column::Etag,
                    response::Column::Body,
                    response::Column::NextUrl,
                    response::Column::FetchedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// A project's snapshot.
pub async fn snapshot(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Option<snapshot::Model>, DbErr> {
    snapshot::Entity::find_by_id(project_id).one(db).await
}

/// Forgets a project's snapshot (its origin is no longer on GitHub).
pub async fn forget_snapshot(db: &impl ConnectionTrait, project_id: i64) -> Result<(), DbErr> {
    snapshot::Entity::delete_by_id(project_id)
        .exec(db)
        .await
        .map(|_| ())
}

/// Writes a project's snapshot.
pub async fn keep_snapshot(db: &impl ConnectionTrait, row: snapshot::Model) -> Result<(), DbErr> {
    let active = snapshot::ActiveModel {
        project_id: Set(row.project_id),
        body: Set(row.body),
        fetched_at: Set(row.fetched_at),
        next_refresh_at: Set(row.next_refresh_at),
    };
    snapshot::Entity::insert(active)
        .on_conflict(
            OnConflict::column(snapshot::Column::ProjectId)
                .update_columns([
                    snapshot::Column::Body,
                    snapshot::Column::FetchedAt,
                    snapshot::Column::NextRefreshAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Takes the next refresh of a project's state: moves its time from `was` to `next`; `false`
/// when another request (or instance) took it first.
pub async fn claim_refresh(
    db: &impl ConnectionTrait,
    project_id: i64,
    was: DateTime<Utc>,
    next: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = snapshot::Entity::update_many()
        .col_expr(snapshot::Column::NextRefreshAt, Expr::value(next))
        .filter(snapshot::Column::ProjectId.eq(project_id))
        .filter(snapshot::Column::NextRefreshAt.eq(was))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}
