//! Managing users: owners and admins create, re-role and delete accounts.

use crate::error::AppError;
use crate::models::events::Event;
use crate::models::page::{Page, PageRequest};
use crate::models::users::{CreateUserRequest, UpdateRoleRequest, UserInfo};
use crate::models::{Operation, Password, Role, Username};
use crate::server::accounts::entities::user;
use crate::server::accounts::repo;
use crate::server::accounts::{password, Caller};
use crate::server::audit;
use crate::server::error::{ServerError, ServerResult};
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::DatabaseConnection;

fn to_info(m: user::Model) -> UserInfo {
    UserInfo {
        id: m.id,
        role: Role::parse(&m.role).unwrap_or(Role::Viewer),
        username: m.username,
        created_at: m.created_at,
        last_login_at: m.last_login_at,
    }
}

/// Whether `actor` may give someone `role`: admins grant up to operator; owners grant anything.
fn may_grant(actor: Role, role: Role) -> bool {
    actor == Role::Owner || role < actor
}

/// Whether `actor` may change or remove a user who has `target` role.
fn may_manage(actor: Role, target: Role) -> bool {
    actor == Role::Owner || target < actor
}

/// A page of users, by id.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
) -> ServerResult<Page<UserInfo>> {
    caller.authorize(Operation::ListUsers)?;
    let limit = page_limit(&page)?;
    let after = parse_cursor(page.cursor.as_deref())?;
    let rows = repo::users::page(&state.db, after, u64::from(limit) + 1).await?;
    Ok(into_page(rows, limit, |r| r.id, to_info))
}

/// Creates a user.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CreateUserRequest,
) -> ServerResult<UserInfo> {
    caller.authorize(Operation::CreateUser)?;
    let username =
        Username::parse(&input.username).map_err(|m| AppError::validation("username", m))?;
    // Lengths are the schema's (400); being the username or one repeated character is a 422.
    let password = Password::parse(&input.password, username.as_str())
        .map_err(|m| AppError::unprocessable("password", m))?;
    let role = Role::parse(&input.role).map_err(|m| AppError::validation("role", m))?;
    if !may_grant(caller.role, role) {
        return Err(AppError::forbidden(format!(
            "a {} cannot create a user with the {role} role",
            caller.role
        ))
        .into());
    }
    if repo::users::find_by_username(&state.db, username.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!("username `{username}` is taken")).into());
    }
    let hash = password::hash(password.expose().to_owned()).await?;
    let txn = crate::server::db::begin(&state.db).await?;
    let created = repo::users::insert(&txn, username.as_str(), &hash, role.as_str(), Utc::now())
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ServerError::App(
                AppError::conflict(format!("username `{username}` is taken")),
            ),
            _ => ServerError::Db(e),
        })?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "users.create",
        &format!("user:{}", created.username),
    )
    .await?;
    state
        .bus
        .publish(Event::UserChanged {
            id: created.id,
            change: "created".into(),
        })
        .await;
    Ok(to_info(created))
}

/// Changes a user's role.
pub async fn update_role(
    state: &AppState,
    caller: &Caller,
    input: UpdateRoleRequest,
) -> ServerResult<UserInfo> {
    caller.authorize(Operation::ChangeUserRole)?;
    let role = Role::parse(&input.role).map_err(|m| AppError::validation("role", m))?;
    if input.id == caller.user_id {
        return Err(AppError::unprocessable("id", "you cannot change your own role").into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let target = repo::users::find(&txn, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let current = Role::parse(&target.role).map_err(ServerError::Other)?;
    if !may_manage(caller.role, current) || !may_grant(caller.role, role) {
        return Err(AppError::forbidden(format!(
            "a {} cannot change a {current} into a {role}",
            caller.role
        ))
        .into());
    }
    if current == Role::Owner
        && role != Role::Owner
        && repo::users::count_owners_locked(&txn).await? <= 1
    {
        return Err(AppError::conflict("the last owner cannot be demoted").into());
    }
    repo::users::set_role(&txn, target.id, role.as_str(), Utc::now()).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "users.update_role",
        &format!("user:{}:{current}->{role}", target.username),
    )
    .await?;
    state
        .bus
        .publish(Event::UserChanged {
            id: target.id,
            change: "role_changed".into(),
        })
        .await;
    let updated = repo::users::find(&state.db, target.id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    Ok(to_info(updated))
}

/// Deletes a user, with their sessions and tokens.
pub async fn delete(state: &AppState, caller: &Caller, id: i64) -> ServerResult<()> {
    caller.authorize(Operation::DeleteUser)?;
    if id == caller.user_id {
        return Err(AppError::unprocessable("id", "you cannot delete yourself").into());
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let target = repo::users::find(&txn, id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let role = Role::parse(&target.role).map_err(ServerError::Other)?;
    if !may_manage(caller.role, role) {
        return Err(
            AppError::forbidden(format!("a {} cannot delete a {role}", caller.role)).into(),
        );
    }
    if role == Role::Owner && repo::users::count_owners_locked(&txn).await? <= 1 {
        return Err(AppError::conflict("the last owner cannot be deleted").into());
    }
    repo::sessions::revoke_all_for_user(&txn, id, Utc::now()).await?;
    repo::users::delete(&txn, id).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "users.delete",
        &format!("user:{}", target.username),
    )
    .await?;
    state
        .bus
        .publish(Event::UserChanged {
            id,
            change: "deleted".into(),
        })
        .await;
    Ok(())
}

/// Creates a user from the command line (`optimus user create`), audited as done by `cli`.
/// 409 when the username is taken.
pub async fn create_from_cli(
    db: &DatabaseConnection,
    username: &Username,
    password: &Password,
    role: Role,
) -> ServerResult<UserInfo> {
    if repo::users::find_by_username(db, username.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::conflict(format!("user `{username}` already exists")).into());
    }
    let hash = password::hash(password.expose().to_owned()).await?;
    let txn = crate::server::db::begin(db).await?;
    let user =
        repo::users::insert(&txn, username.as_str(), &hash, role.as_str(), Utc::now()).await?;
    let actor = audit::Actor {
        name: Some("cli".into()),
        ..audit::Actor::default()
    };
    let _committed = audit::write(
        &txn,
        actor,
        "users.create",
        &format!("user:{}", user.username),
        "ok",
    )
    .await?;
    txn.commit().await?;
    Ok(to_info(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_grant_below_themselves_and_owners_grant_anything() {
        assert!(may_grant(Role::Admin, Role::Operator));
        assert!(!may_grant(Role::Admin, Role::Admin));
        assert!(!may_grant(Role::Admin, Role::Owner));
        assert!(may_grant(Role::Owner, Role::Owner));
        assert!(!may_manage(Role::Admin, Role::Admin));
        assert!(may_manage(Role::Owner, Role::Admin));
    }
}
