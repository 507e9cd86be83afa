//! API tokens: created by a user for themselves, shown once, listed, revoked.

use crate::error::AppError;
use crate::models::page::{Page, PageRequest};
use crate::models::tokens::{CreateTokenRequest, CreatedToken, TokenInfo};
use crate::models::{Operation, Scope, TokenName};
use crate::server::accounts::repo;
use crate::server::accounts::{opaque, Caller, Credential};
use crate::server::audit;
use crate::server::error::ServerResult;
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use chrono::Utc;

/// The longest a token may live.
pub const MAX_DAYS: u32 = 365;

/// Checks requested scopes against what the caller may grant.
fn parse_scopes(caller: &Caller, raw: &[String]) -> Result<Vec<Scope>, AppError> {
    if raw.is_empty() {
        return Err(AppError::validation(
            "scopes",
            "must name at least one scope",
        ));
    }
    let mut scopes = Vec::new();
    for s in raw {
        let scope = Scope::parse(s.trim()).map_err(|m| AppError::validation("scopes", m))?;
        if !caller.role.grantable_scopes().contains(&scope) {
            return Err(AppError::unprocessable(
                "scopes",
                format!("a {} cannot grant the `{scope}` scope", caller.role),
            ));
        }
        if let Credential::ApiToken { scopes: own, .. } = &caller.credential {
            if !own.iter().any(|held| held.includes(scope)) {
                return Err(AppError::unprocessable(
                    "scopes",
                    format!("this token cannot grant `{scope}`, which it lacks"),
                ));
            }
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    Ok(scopes)
}

/// Creates a token for the caller.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CreateTokenRequest,
) -> ServerResult<CreatedToken> {
    caller.authorize(Operation::CreateToken)?;
    let name = TokenName::parse(&input.name).map_err(|m| AppError::validation("name", m))?;
    let scopes = parse_scopes(caller, &input.scopes)?;
    if !(1..=MAX_DAYS).contains(&input.expires_in_days) {
        return Err(AppError::validation(
            "expires_in_days",
            format!("must be between 1 and {MAX_DAYS}"),
        )
        .into());
    }
    let secret = opaque::generate_api_token();
    let prefix: String = secret.chars().take(10).collect();
    let now = Utc::now();
    let expires_at = now + chrono::Duration::days(i64::from(input.expires_in_days));
    let txn = crate::server::db::begin(&state.db).await?;
    let row = repo::api_tokens::insert(
        &txn,
        caller.user_id,
        name.as_str(),
        &prefix,
        &opaque::digest(&secret),
        &scopes,
        now,
        expires_at,
    )
    .await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "tokens.create",
        &format!("token:{}:{}", row.id, row.name),
    )
    .await?;
    Ok(CreatedToken {
        token: secret,
        info: TokenInfo::from(row),
    })
}

/// The caller's tokens, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    page: PageRequest,
) -> ServerResult<Page<TokenInfo>> {
    caller.authorize(Operation::ListTokens)?;
    let limit = page_limit(&page)?;
    let before = parse_cursor(page.cursor.as_deref())?;
    let rows =
        repo::api_tokens::page_for_user(&state.db, caller.user_id, before, u64::from(limit) + 1)
            .await?;
    Ok(into_page(rows, limit, |r| r.id, TokenInfo::from))
}

/// Revokes one of the caller's tokens.
pub async fn revoke(state: &AppState, caller: &Caller, id: i64) -> ServerResult<TokenInfo> {
    caller.authorize(Operation::RevokeToken)?;
    let row = repo::api_tokens::find(&state.db, id)
        .await?
        .filter(|t| t.user_id == caller.user_id)
        .ok_or_else(|| AppError::not_found("token"))?;
    let txn = crate::server::db::begin(&state.db).await?;
    if !repo::api_tokens::revoke(&txn, id, Utc::now()).await? {
        return Err(AppError::conflict("token is already revoked").into());
    }
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "tokens.revoke",
        &format!("token:{}:{}", row.id, row.name),
    )
    .await?;
    let row = repo::api_tokens::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("token"))?;
    Ok(TokenInfo::from(row))
}
