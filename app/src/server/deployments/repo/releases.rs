//! Releases: numbered per project by the database (a unique key), pinned, pruned.

use crate::server::deployments::entities::release;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Adds `new` as the project's next release. Two made at once may pick the same number: the
/// unique key refuses one, which tries again with the next.
pub async fn insert(
    db: &DatabaseConnection,
    new: release::ActiveModel,
) -> Result<release::Model, DbErr> {
    let project_id = match &new.project_id {
        sea_orm::ActiveValue::Set(p) | sea_orm::ActiveValue::Unchanged(p) => *p,
        sea_orm::ActiveValue::NotSet => {
            return Err(DbErr::Custom("a release needs its project".into()))
        }
    };
    for _ in 0..10 {
        let last: Option<i64> = release::Entity::find()
            .select_only()
            .column_as(Expr::col(release::Column::Number).max(), "last")
            .filter(release::Column::ProjectId.eq(project_id))
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten();
        let mut row = new.clone();
        row.number = Set(last.unwrap_or(0) + 1);
        match row.insert(db).await {
            Ok(m) => return Ok(m),
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
        "could not number a release of project {project_id} after 10 tries"
    )))
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<release::Model>, DbErr> {
    release::Entity::find_by_id(id).one(db).await
}

/// Release `number` of a project.
pub async fn by_number(
    db: &impl ConnectionTrait,
    project_id: i64,
    number: i64,
) -> Result<Option<release::Model>, DbErr> {
    release::Entity::find()
        .filter(release::Column::ProjectId.eq(project_id))
        .filter(release::Column::Number.eq(number))
        .one(db)
        .await
}

/// A project's releases, newest first.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<release::Model>, DbErr> {
    release::Entity::find()
        .filter(release::Column::ProjectId.eq(project_id))
        .order_by_desc(release::Column::Number)
        .all(db)
        .await
}

pub async fn set_pinned(db: &impl ConnectionTrait, id: i64, pinned: bool) -> Result<(), DbErr> {
    release::Entity::update_many()
        .col_expr(release::Column::Pinned, Expr::value(pinned))
        .filter(release::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records that a release's files are gone (unless it was pinned in the meantime).
pub async fn mark_pruned(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = release::Entity::update_many()
        .col_expr(release::Column::PrunedAt, Expr::value(now))
        .filter(release::Column::Id.eq(id))
        .filter(release::Column::Pinned.eq(false))
        .filter(release::Column::PrunedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
