//! Who is calling, and whether they may do what they ask.

use super::{cookies, jwt, opaque};
use crate::error::AppError;
use crate::models::auth::{AuthMethod, Me};
use crate::models::{Operation, Role, Scope};
use crate::server::context::RequestCtx;
use crate::server::error::ServerResult;
use crate::server::repos;
use crate::server::state::AppState;
use chrono::Utc;
use http::header::AUTHORIZATION;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session (access token from the cookie or a Bearer header).
    Session {
        /// The session row.
        session_id: i64,
    },
    /// An API token with these scopes.
    ApiToken {
        /// The token row.
        token_id: i64,
        /// What the token may do.
        scopes: Vec<Scope>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Current role (read from the database on every request, so a demotion applies at once).
    pub role: Role,
    /// The credential used.
    pub credential: Credential,
    /// The client's address.
    pub client_addr: Option<String>,
}

impl Caller {
    /// Checks the operation table: the role must be high enough, and a token must carry the scope.
    pub fn authorize(&self, op: Operation) -> Result<(), AppError> {
        let (role, scope) = op.requirement();
        if self.role < role {
            return Err(AppError::forbidden(format!(
                "{} requires the {role} role (you are {})",
                op.name(),
                self.role
            )));
        }
        if let Credential::ApiToken { scopes, .. } = &self.credential {
            if !scopes.contains(&scope) {
                return Err(AppError::forbidden(format!(
                    "{} requires a token with the `{scope}` scope",
                    op.name()
                )));
            }
        }
        Ok(())
    }

    /// The scopes in force: a token's own, or everything the role may grant for a session.
    pub fn scopes(&self) -> Vec<Scope> {
        match &self.credential {
            Credential::ApiToken { scopes, .. } => scopes.clone(),
            Credential::Session { .. } => self.role.grantable_scopes().to_vec(),
        }
    }

    /// The caller as the `auth/me` DTO.
    pub fn to_me(&self) -> Me {
        Me {
            id: self.user_id,
            username: self.username.clone(),
            role: self.role,
            method: match self.credential {
                Credential::Session { .. } => AuthMethod::Session,
                Credential::ApiToken { .. } => AuthMethod::ApiToken,
            },
            scopes: self.scopes(),
        }
    }
}

fn bearer(ctx: &RequestCtx) -> Option<String> {
    let value = ctx.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
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
    let session = repos::sessions::find(&state.db, claims.sid)
        .await?
        .filter(|s| s.user_id == claims.sub && s.revoked_at.is_none())
        .ok_or_else(|| AppError::unauthorized("session ended"))?;
    let user = repos::users::find(&state.db, claims.sub)
        .await?
        .ok_or_else(|| AppError::unauthorized("user no longer exists"))?;
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
    let row = repos::api_tokens::find_by_hash(&state.db, &opaque::digest(token))
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown API token"))?;
    let now = Utc::now();
    if row.revoked_at.is_some() {
        return Err(AppError::unauthorized("API token revoked").into());
    }
    if row.expires_at <= now {
        return Err(AppError::unauthorized("API token expired").into());
    }
    let user = repos::users::find(&state.db, row.user_id)
        .await?
        .ok_or_else(|| AppError::unauthorized("user no longer exists"))?;
    let role = Role::parse(&user.role).map_err(crate::server::ServerError::Other)?;
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::seconds(60))
    {
        repos::api_tokens::touch(&state.db, row.id, now).await?;
    }
    Ok(Caller {
        user_id: user.id,
        username: user.username,
        role,
        credential: Credential::ApiToken {
            token_id: row.id,
            scopes: repos::api_tokens::parse_scopes(&row.scopes),
        },
        client_addr: ctx.client_addr(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, credential: Credential) -> Caller {
        Caller {
            user_id: 1,
            username: "u".into(),
            role,
            credential,
            client_addr: None,
        }
    }

    #[test]
    fn every_operation_follows_the_table_for_every_role() {
        for role in Role::ALL {
            let c = caller(role, Credential::Session { session_id: 1 });
            for op in Operation::ALL {
                assert_eq!(
                    c.authorize(op).is_ok(),
                    role >= op.required_role(),
                    "{role} {op:?}"
                );
            }
        }
    }

    #[test]
    fn a_token_without_the_scope_is_refused_even_for_an_owner() {
        let c = caller(
            Role::Owner,
            Credential::ApiToken {
                token_id: 1,
                scopes: vec![Scope::Read],
            },
        );
        assert!(c.authorize(Operation::ViewSelf).is_ok());
        let err = c.authorize(Operation::CreateUser).err();
        assert!(matches!(err, Some(AppError::Forbidden { message }) if message.contains("admin")));
    }
}
