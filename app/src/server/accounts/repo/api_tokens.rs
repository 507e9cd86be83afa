//! API tokens.

use crate::models::tokens::TokenInfo;
use crate::models::Scope;
use crate::server::accounts::entities::{api_token, user};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// Scopes as stored (space-separated wire names).
pub fn format_scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scopes from their stored form; unknown names are dropped (never widened).
pub fn parse_scopes(stored: &str) -> Vec<Scope> {
    stored
        .split_whitespace()
        .filter_map(|s| Scope::parse(s).ok())
        .collect()
}

impl From<api_token::Model> for TokenInfo {
    fn from(m: api_token::Model) -> Self {
        TokenInfo {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            scopes: parse_scopes(&m.scopes),
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A token by the digest of its secret, and its user, in one query (every request made with
/// the token reads both).
pub async fn find_by_hash_with_user(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(api_token::Model, Option<user::Model>)>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .find_also_related(user::Entity)
        .one(db)
        .await
}

/// A token by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find_by_id(id).one(db).await
}

/// Stores a new token.
#[expect(
    clippy::too_many_arguments,
    reason = "a flat insert of one row's columns"
)]
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i64,
    name: &str,
    prefix: &str,
    token_hash: &str,
    scopes: &[Scope],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<api_token::Model, DbErr> {
    api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        prefix: Set(prefix.to_owned()),
        token_hash: Set(token_hash.to_owned()),
        scopes: Set(format_scopes(scopes)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// A user's tokens, newest first, with id below `before`.
pub async fn page_for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<api_token::Model>, DbErr> {
    let mut q = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id);
    if let Some(before) = before {
        q = q.filter(api_token::Column::Id.lt(before));
    }
    q.limit(limit).all(db).await
}

/// Marks a token used now.
pub async fn touch(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Revokes a token if still active; returns whether it was.
pub async fn revoke(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
