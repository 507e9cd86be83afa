//! Users.

use crate::server::accounts::entities::user;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// A user by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// A user by (normalised) username.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
}

/// How many users exist.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

/// How many owners there are, locking their rows until the transaction ends (on PostgreSQL;
/// SQLite's write lock, taken by `db::begin`, already serialises writers). Two owners removing
/// each other at once then queue here, and the second sees the first's change.
pub async fn count_owners_locked(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Role.eq("owner"))
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.len() as u64)
}

/// Inserts a user.
pub async fn insert(
    db: &impl ConnectionTrait,
    username: &str,
    password_hash: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        username: Set(username.to_owned()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Users with id greater than `after`, by id, at most `limit`.
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<user::Model>, DbErr> {
    let mut q = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    q.limit(limit).all(db).await
}

/// Sets a user's role.
pub async fn set_role(
    db: &impl ConnectionTrait,
    id: i64,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::ActiveModel {
        id: Set(id),
        role: Set(role.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Sets a user's password hash.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::ActiveModel {
        id: Set(id),
        password_hash: Set(hash.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Records a successful login.
pub async fn touch_login(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::ActiveModel {
        id: Set(id),
        last_login_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Deletes a user (sessions and tokens go with it).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<u64, DbErr> {
    user::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
