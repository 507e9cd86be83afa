//! Finds the caller of a request: a Bearer API token, a Bearer access token, or the access
//! cookie, checked against the sessions, tokens and users tables.

use super::{cookies, jwt, opaque};
use crate::error::AppError;
use crate::models::{Operation, Role};
use crate::server::accounts::repo;
use crate::server::caller::{Caller, Credential};
use crate::server::context::RequestCtx;
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::Utc;
use http::header::AUTHORIZATION;

fn bearer(ctx: &RequestCtx) -> Option<String> {
    let value = ctx.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

impl axum::extract::FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    /// Authenticates a plain axum route (the events stream, downloads) the same way as a server
    /// function: a refused caller gets the JSON 401.
    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        let ctx = RequestCtx::new(
            parts.headers.clone(),
            peer,
            state.settings.trust_forwarded_for,
        );
        Ok(authenticate(state, &ctx).await?)
    }
}

/// The state, request context and caller of the running server function, authenticated (the
/// server-function side of the extractor above: same credentials, same refusals) and allowed
/// `op`, the operation its `endpoint!` declaration requires.
pub async fn api_caller_for(op: Operation) -> Result<(AppState, RequestCtx, Caller), AppError> {
    let (state, ctx) = crate::server::context::api_context()?;
    let caller = authenticate(&state, &ctx).await?;
    caller.authorize(op)?;
    Ok((state, ctx, caller))
}

/// Identifies the caller from a Bearer header (API token or access token) or the access cookie.
pub async fn authenticate(state: &AppState, ctx: &RequestCtx) -> ServerResult<Caller> {
    let presented = bearer(ctx).or_else(|| cookies::get(&ctx.headers, cookies::ACCESS_COOKIE));
    let Some(token) = presented else {
        return Err(
            AppError::unauthorized("no credentials: send a Bearer token or sign in").into(),
        );
    };
    if token.starts_with(opaque::API_TOKEN_PREFIX) {
        return authenticate_api_token(state, ctx, &token).await;
    }
    let claims = state
        .keys
        .verify(&token)
        .ok_or_else(|| AppError::unauthorized("access token invalid or expired"))?;
    authenticate_session(state, ctx, &claims).await
}

async fn authenticate_session(
    state: &AppState,
    ctx: &RequestCtx,
    claims: &jwt::Claims,
) -> ServerResult<Caller> {
    let (session, user) = repo::sessions::find_with_user(&state.db, claims.sid)
        .await?
        .filter(|(s, _)| s.user_id == claims.sub && s.revoked_at.is_none())
        .ok_or_else(|| AppError::unauthorized("session ended"))?;
    let user = user.ok_or_else(|| AppError::unauthorized("user no longer exists"))?;
    let role = Role::parse(&user.role).map_err(crate::server::ServerError::Other)?;
    Ok(Caller {
        user_id: user.id,
        username: user.username,
        role,
        credential: Credential::Session {
            session_id: session.id,
        },
        client_addr: ctx.client_addr(),
    })
}

async fn authenticate_api_token(
    state: &AppState,
    ctx: &RequestCtx,
    token: &str,
) -> ServerResult<Caller> {
    let (row, user) = repo::api_tokens::find_by_hash_with_user(&state.db, &opaque::digest(token))
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown API token"))?;
    let now = Utc::now();
    if row.revoked_at.is_some() {
        return Err(AppError::unauthorized("API token revoked").into());
    }
    if row.expires_at <= now {
        return Err(AppError::unauthorized("API token expired").into());
    }
    let user = user.ok_or_else(|| AppError::unauthorized("user no longer exists"))?;
    let role = Role::parse(&user.role).map_err(crate::server::ServerError::Other)?;
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::seconds(60))
    {
        repo::api_tokens::touch(&state.db, row.id, now).await?;
    }
    Ok(Caller {
        user_id: user.id,
        username: user.username,
        role,
        credential: Credential::ApiToken {
            token_id: row.id,
            scopes: repo::api_tokens::parse_scopes(&row.scopes),
        },
        client_addr: ctx.client_addr(),
    })
}
