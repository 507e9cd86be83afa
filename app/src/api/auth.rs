//! `/api/v1/auth/*`: setup, login, refresh, logout, identity.

use crate::error::AppError;
use crate::models::auth::{
    ChangePasswordRequest, Credentials, LoginResponse, Me, RefreshRequest, SetupStatus,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Whether first-run setup is still open. Public.
#[server(prefix = "/api/v1", endpoint = "auth/status", input = Json, output = Json)]
pub async fn get_setup_status() -> Result<SetupStatus, AppError> {
    use crate::server::{accounts::auth, api_context};
    let (state, _) = api_context()?;
    Ok(auth::status(&state).await?)
}

/// Creates the owner account while no user exists (409 afterwards) and signs them in. Public.
#[server(prefix = "/api/v1", endpoint = "auth/setup", input = Json, output = Json)]
pub async fn setup_owner(
    #[server(flatten)] credentials: Credentials,
) -> Result<LoginResponse, AppError> {
    use crate::server::{accounts::auth, api_context, set_cookies};
    let (state, ctx) = api_context()?;
    let issued = auth::setup(&state, &ctx, credentials).await?;
    set_cookies(&issued.cookies);
    Ok(issued.response)
}

/// Signs in: sets the session cookies and returns the access token for API clients. Public.
#[server(prefix = "/api/v1", endpoint = "auth/login", input = Json, output = Json)]
pub async fn login(#[server(flatten)] credentials: Credentials) -> Result<LoginResponse, AppError> {
    use crate::server::{accounts::auth, api_context, set_cookies};
    let (state, ctx) = api_context()?;
    let issued = auth::login(&state, &ctx, credentials).await?;
    set_cookies(&issued.cookies);
    Ok(issued.response)
}

/// Exchanges a refresh token (body or cookie) for a new access and refresh token. Public.
#[server(prefix = "/api/v1", endpoint = "auth/refresh", input = Json, output = Json)]
pub async fn refresh_session(
    #[server(flatten)] request: RefreshRequest,
) -> Result<LoginResponse, AppError> {
    use crate::server::{accounts::auth, api_context, set_cookies};
    let (state, ctx) = api_context()?;
    let issued = auth::refresh(&state, &ctx, request).await?;
    set_cookies(&issued.cookies);
    Ok(issued.response)
}

/// Ends the current session and clears its cookies.
#[server(prefix = "/api/v1", endpoint = "auth/logout", input = Json, output = Json)]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::{accounts::auth, api_caller, set_cookies};
    let (state, _, caller) = api_caller().await?;
    let cleared = auth::logout(&state, &caller).await?;
    set_cookies(&cleared);
    Ok(())
}

/// Who the caller is.
#[server(prefix = "/api/v1", endpoint = "auth/me", input = Json, output = Json)]
pub async fn current_user() -> Result<Me, AppError> {
    use crate::models::Operation;
    use crate::server::api_caller;
    let (_, _, caller) = api_caller().await?;
    caller.authorize(Operation::ViewSelf)?;
    Ok(caller.to_me())
}

/// Changes the caller's password; every session of theirs ends.
#[server(prefix = "/api/v1", endpoint = "auth/change_password", input = Json, output = Json)]
pub async fn change_password(
    #[server(flatten)] request: ChangePasswordRequest,
) -> Result<(), AppError> {
    use crate::server::{accounts::auth, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(auth::change_password(&state, &caller, request).await?)
}
