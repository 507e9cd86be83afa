//! `/api/v1/environments/*`: per-project environments and variables, `.env` import and export.

use crate::error::AppError;
use crate::models::environments::{
    CreateEnvironmentRequest, DeleteVarRequest, DotenvExport, DotenvImported, EnvironmentInfo,
    EnvironmentRequest, EnvironmentsRequest, ImportDotenvRequest, SetVarRequest,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A project's environments and variables (secret values masked unless `reveal` is allowed).
#[server(prefix = "/api/v1", endpoint = "environments/list", input = Json, output = Json)]
pub async fn list_environments(
    #[server(flatten)] request: EnvironmentsRequest,
) -> Result<Vec<EnvironmentInfo>, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::list(&state, &caller, request.project_id, request.reveal).await?)
}

/// Adds an environment (the project's first becomes active).
#[server(prefix = "/api/v1", endpoint = "environments/create", input = Json, output = Json)]
pub async fn create_environment(
    #[server(flatten)] request: CreateEnvironmentRequest,
) -> Result<Vec<EnvironmentInfo>, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::create(&state, &caller, request).await?)
}

/// Removes an environment and its variables.
#[server(prefix = "/api/v1", endpoint = "environments/delete", input = Json, output = Json)]
pub async fn delete_environment(
    #[server(flatten)] request: EnvironmentRequest,
) -> Result<(), AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::delete(&state, &caller, request.id).await?)
}

/// Makes an environment the one services get (on their next start or restart).
#[server(prefix = "/api/v1", endpoint = "environments/activate", input = Json, output = Json)]
pub async fn activate_environment(
    #[server(flatten)] request: EnvironmentRequest,
) -> Result<Vec<EnvironmentInfo>, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::activate(&state, &caller, request.id).await?)
}

/// Sets a variable (secret values are encrypted and masked).
#[server(prefix = "/api/v1", endpoint = "environments/set_var", input = Json, output = Json)]
pub async fn set_env_var(
    #[server(flatten)] request: SetVarRequest,
) -> Result<Vec<EnvironmentInfo>, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::set_var(&state, &caller, request).await?)
}

/// Removes a variable.
#[server(prefix = "/api/v1", endpoint = "environments/delete_var", input = Json, output = Json)]
pub async fn delete_env_var(
    #[server(flatten)] request: DeleteVarRequest,
) -> Result<Vec<EnvironmentInfo>, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::delete_var(&state, &caller, request).await?)
}

/// Imports a `.env` file from the project folder (never changed) or `.env` text.
#[server(prefix = "/api/v1", endpoint = "environments/import_dotenv", input = Json, output = Json)]
pub async fn import_dotenv(
    #[server(flatten)] request: ImportDotenvRequest,
) -> Result<DotenvImported, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::import_dotenv(&state, &caller, request).await?)
}

/// The environment as `.env` text (secret values only for callers who may read secrets).
#[server(prefix = "/api/v1", endpoint = "environments/export_dotenv", input = Json, output = Json)]
pub async fn export_dotenv(
    #[server(flatten)] request: EnvironmentRequest,
) -> Result<DotenvExport, AppError> {
    use crate::server::{api_caller, environments};
    let (state, _, caller) = api_caller().await?;
    Ok(environments::export_dotenv(&state, &caller, request.id).await?)
}
