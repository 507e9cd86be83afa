//! Login sessions (refresh tokens).

use crate::server::accounts::entities::{session, user};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

/// A session by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id).one(db).await
}

/// A session and its user, in one query (every signed-in request reads both).
pub async fn find_with_user(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(session::Model, Option<user::Model>)>, DbErr> {
    session::Entity::find_by_id(id)
        .find_also_related(user::Entity)
        .one(db)
        .await
}

/// A session by the digest of its refresh token.
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Starts a session.
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    client_addr: Option<String>,
) -> Result<session::Model, DbErr> {
    session::ActiveModel {
        user_id: Set(user_id),
        family: Set(family.to_owned()),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        client_addr: Set(client_addr),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Revokes one session if still active; returns whether it was.
pub async fn revoke(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes every session of a rotation family (logout, or reuse of a spent refresh token).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    family: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Family.eq(family))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Revokes every session of a user (password change, role change, deletion).
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Revokes every session of a user except the rotation family `keep` (a password change ends the
/// user's other sign-ins and keeps the one that made it, as GitHub and GitLab do).
pub async fn revoke_others_for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(family) = keep {
        update = update.filter(session::Column::Family.ne(family));
    }
    update.exec(db).await.map(|r| r.rows_affected)
}
