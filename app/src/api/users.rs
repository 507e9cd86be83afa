//! `/api/v1/users/*`: user management (admins and owners).

use crate::error::AppError;
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::IdRequest;
use crate::models::users::{CreateUserRequest, UpdateRoleRequest, UserInfo};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Lists users by id.
#[server(prefix = "/api/v1", endpoint = "users/list", input = Json, output = Json)]
pub async fn list_users(#[server(flatten)] page: PageRequest) -> Result<Page<UserInfo>, AppError> {
    use crate::server::{accounts::users, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(users::list(&state, &caller, page).await?)
}

/// Creates a user.
#[server(prefix = "/api/v1", endpoint = "users/create", input = Json, output = Json)]
pub async fn create_user(
    #[server(flatten)] request: CreateUserRequest,
) -> Result<UserInfo, AppError> {
    use crate::server::{accounts::users, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(users::create(&state, &caller, request).await?)
}

/// Changes a user's role.
#[server(prefix = "/api/v1", endpoint = "users/update_role", input = Json, output = Json)]
pub async fn update_user_role(
    #[server(flatten)] request: UpdateRoleRequest,
) -> Result<UserInfo, AppError> {
    use crate::server::{accounts::users, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(users::update_role(&state, &caller, request).await?)
}

/// Deletes a user and ends their sessions and tokens.
#[server(prefix = "/api/v1", endpoint = "users/delete", input = Json, output = Json)]
pub async fn delete_user(#[server(flatten)] request: IdRequest) -> Result<(), AppError> {
    use crate::server::{accounts::users, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(users::delete(&state, &caller, request.id).await?)
}
