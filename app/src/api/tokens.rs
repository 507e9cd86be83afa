//! `/api/v1/tokens/*`: the caller's API tokens.

use crate::error::AppError;
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::{CreateTokenRequest, CreatedToken, IdRequest, TokenInfo};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Creates an API token; the secret is in the response and never shown again.
#[server(prefix = "/api/v1", endpoint = "tokens/create", input = Json, output = Json)]
pub async fn create_token(
    #[server(flatten)] request: CreateTokenRequest,
) -> Result<CreatedToken, AppError> {
    use crate::server::{accounts::tokens, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(tokens::create(&state, &caller, request).await?)
}

/// Lists the caller's tokens, newest first.
#[server(prefix = "/api/v1", endpoint = "tokens/list", input = Json, output = Json)]
pub async fn list_tokens(
    #[server(flatten)] page: PageRequest,
) -> Result<Page<TokenInfo>, AppError> {
    use crate::server::{accounts::tokens, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(tokens::list(&state, &caller, page).await?)
}

/// Revokes one of the caller's tokens.
#[server(prefix = "/api/v1", endpoint = "tokens/revoke", input = Json, output = Json)]
pub async fn revoke_token(#[server(flatten)] request: IdRequest) -> Result<TokenInfo, AppError> {
    use crate::server::{accounts::tokens, api_caller};
    let (state, _, caller) = api_caller().await?;
    Ok(tokens::revoke(&state, &caller, request.id).await?)
}
