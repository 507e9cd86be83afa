//! `/api/v1/tokens/*`: the caller's API tokens.

use crate::models::page::{Page, PageRequest};
use crate::models::tokens::{CreateTokenRequest, CreatedToken, IdRequest, TokenInfo};

endpoint! {
    /// Create an API token (the secret is returned once)
    ///
    /// Creates an API token; the secret is in the response and never shown again.
    "tokens/create", requires CreateToken, |state, caller|
    pub async fn create_token(request: CreateTokenRequest) -> CreatedToken {
        use crate::server::accounts::tokens;
        Ok(tokens::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// List your API tokens, newest first
    ///
    /// Lists the caller's tokens, newest first.
    "tokens/list", requires ListTokens, |state, caller|
    pub async fn list_tokens(page: PageRequest) -> Page<TokenInfo> {
        use crate::server::accounts::tokens;
        Ok(tokens::list(&state, &caller, page).await?)
    }
}

endpoint! {
    /// Revoke one of your API tokens
    ///
    /// Revokes one of the caller's tokens.
    "tokens/revoke", requires RevokeToken, |state, caller|
    pub async fn revoke_token(request: IdRequest) -> TokenInfo {
        use crate::server::accounts::tokens;
        Ok(tokens::revoke(&state, &caller, request.id).await?)
    }
}
