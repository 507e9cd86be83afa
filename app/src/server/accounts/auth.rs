//! First-run setup, login, refresh, logout and password changes.

use crate::error::AppError;
use crate::models::auth::{
    ChangePasswordRequest, Credentials, LoginResponse, RefreshRequest, SetupStatus,
};
use crate::models::{Operation, Password, Role, Username};
use crate::server::accounts::entities::{app_meta, user};
use crate::server::accounts::repo;
use crate::server::accounts::{cookies, opaque, password, Caller, Credential};
use crate::server::audit::{self, Actor};
use crate::server::context::RequestCtx;
use crate::server::error::{ServerError, ServerResult};
use crate::server::state::AppState;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use std::time::Duration;

/// A signed-in session: the response body and the cookies to set.
pub struct Issued {
    /// The JSON body.
    pub response: LoginResponse,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
}

/// Whether first-run setup is still open.
pub async fn status(state: &AppState) -> ServerResult<SetupStatus> {
    Ok(SetupStatus {
        needs_setup: repo::users::count(&state.db).await? == 0,
    })
}

async fn limit_auth(state: &AppState, ctx: &RequestCtx, username: &str) -> ServerResult<()> {
    let per_minute = state.settings.auth_rate_per_minute;
    let window = Duration::from_secs(60);
    let ip = ctx.client_addr().unwrap_or_else(|| "unknown".into());
    let by_ip = state
        .limiter
        .hit(&format!("auth:ip:{ip}"), per_minute, window)
        .await;
    let by_user = state
        .limiter
        .hit(
            &format!("auth:user:{}", username.trim().to_lowercase()),
            per_minute,
            window,
        )
        .await;
    match (by_ip, by_user) {
        (Err(a), Err(b)) => Err(AppError::RateLimited {
            retry_after_secs: a.max(b),
        }
        .into()),
        (Err(s), _) | (_, Err(s)) => Err(AppError::RateLimited {
            retry_after_secs: s,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Creates the owner account while no user exists; 409 afterwards.
pub async fn setup(state: &AppState, ctx: &RequestCtx, input: Credentials) -> ServerResult<Issued> {
    limit_auth(state, ctx, &input.username).await?;
    let username =
        Username::parse(&input.username).map_err(|m| AppError::validation("username", m))?;
    // Lengths are the schema's (400); being the username or one repeated character is a 422.
    let password = Password::parse(&input.password, username.as_str())
        .map_err(|m| AppError::unprocessable("password", m))?;
    if repo::users::count(&state.db).await? > 0 {
        return Err(AppError::conflict("setup is already complete; sign in instead").into());
    }
    let hash = password::hash(password.expose().to_owned()).await?;
    let now = Utc::now();
    let txn = crate::server::db::begin(&state.db).await?;
    // The fixed key makes a concurrent second setup fail on the primary key.
    let claimed = app_meta::ActiveModel {
        key: Set("setup_completed_at".into()),
        value: Set(now.to_rfc3339()),
    }
    .insert(&txn)
    .await;
    if claimed.is_err() || repo::users::count(&txn).await? > 0 {
        txn.rollback().await?;
        return Err(AppError::conflict("setup is already complete; sign in instead").into());
    }
    let owner =
        repo::users::insert(&txn, username.as_str(), &hash, Role::Owner.as_str(), now).await?;
    let actor = Actor {
        id: Some(owner.id),
        name: Some(owner.username.clone()),
        client_addr: ctx.client_addr(),
    };
    audit::commit(
        txn,
        &state.bus,
        actor,
        "auth.setup",
        &format!("user:{}", owner.username),
    )
    .await?;
    start_session(state, ctx, &owner, None).await
}

/// Checks credentials and starts a session.
pub async fn login(state: &AppState, ctx: &RequestCtx, input: Credentials) -> ServerResult<Issued> {
    if input.username.trim().is_empty() {
        return Err(AppError::validation("username", "is required").into());
    }
    if input.password.is_empty() {
        return Err(AppError::validation("password", "is required").into());
    }
    if input.password.chars().count() > Password::MAX_LEN {
        return Err(AppError::validation(
            "password",
            format!("must be at most {} characters", Password::MAX_LEN),
        )
        .into());
    }
    limit_auth(state, ctx, &input.username).await?;
    let normalized = input.username.trim().to_lowercase();
    let user = repo::users::find_by_username(&state.db, &normalized).await?;
    let ok = password::verify(
        input.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let target = format!("user:{normalized}");
    let Some(user) = user.filter(|_| ok) else {
        let actor = Actor {
            client_addr: ctx.client_addr(),
            ..Actor::default()
        };
        audit::record(state, actor, "auth.login", &target, "failed").await?;
        return Err(AppError::unauthorized("wrong username or password").into());
    };
    let actor = Actor {
        id: Some(user.id),
        name: Some(user.username.clone()),
        client_addr: ctx.client_addr(),
    };
    let txn = crate::server::db::begin(&state.db).await?;
    repo::users::touch_login(&txn, user.id, Utc::now()).await?;
    let entry = audit::write(&txn, actor, "auth.login", &target, "ok").await?;
    txn.commit().await?;
    entry.publish(&state.bus).await;
    start_session(state, ctx, &user, None).await
}

async fn start_session(
    state: &AppState,
    ctx: &RequestCtx,
    user: &user::Model,
    family: Option<String>,
) -> ServerResult<Issued> {
    let settings = &state.settings;
    let refresh = opaque::generate();
    let family = family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let refresh_ttl = settings.refresh_token_ttl_days * 86_400;
    let expires =
        Utc::now() + chrono::Duration::seconds(i64::try_from(refresh_ttl).unwrap_or(86_400));
    let session = repo::sessions::insert(
        &state.db,
        user.id,
        &family,
        &opaque::digest(&refresh),
        expires,
        ctx.client_addr(),
    )
    .await?;
    let (token, expires_at) =
        state
            .keys
            .issue(user.id, session.id, settings.access_token_ttl_secs)?;
    let role = Role::parse(&user.role).map_err(ServerError::Other)?;
    let caller = Caller {
        user_id: user.id,
        username: user.username.clone(),
        role,
        credential: Credential::Session {
            session_id: session.id,
        },
        client_addr: ctx.client_addr(),
    };
    let secure = settings.secure_cookies;
    Ok(Issued {
        cookies: vec![
            cookies::set(
                cookies::ACCESS_COOKIE,
                &token,
                "/",
                settings.access_token_ttl_secs,
                secure,
            ),
            cookies::set(
                cookies::REFRESH_COOKIE,
                &refresh,
                cookies::REFRESH_PATH,
                refresh_ttl,
                secure,
            ),
        ],
        response: LoginResponse {
            token,
            expires_at,
            refresh_token: refresh,
            user: caller.to_me(),
        },
    })
}

/// Exchanges a refresh token for a new pair (the old one is spent). Presenting a spent token
/// ends every session of its family: it has been stolen or replayed.
pub async fn refresh(
    state: &AppState,
    ctx: &RequestCtx,
    input: RefreshRequest,
) -> ServerResult<Issued> {
    let presented = input
        .refresh_token
        .filter(|t| !t.trim().is_empty())
        .or_else(|| cookies::get(&ctx.headers, cookies::REFRESH_COOKIE))
        .ok_or_else(|| AppError::unauthorized("no refresh token"))?;
    if presented.chars().count() > 256 {
        return Err(AppError::validation("refresh_token", "is not a refresh token").into());
    }
    let now = Utc::now();
    let session = repo::sessions::find_by_hash(&state.db, &opaque::digest(&presented))
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown refresh token"))?;
    if session.revoked_at.is_some() {
        let actor = Actor {
            id: Some(session.user_id),
            client_addr: ctx.client_addr(),
            ..Actor::default()
        };
        let txn = crate::server::db::begin(&state.db).await?;
        repo::sessions::revoke_family(&txn, &session.family, now).await?;
        let entry = audit::write(
            &txn,
            actor,
            "auth.refresh_reuse",
            &format!("session:{}", session.id),
            "denied",
        )
        .await?;
        txn.commit().await?;
        entry.publish(&state.bus).await;
        return Err(AppError::unauthorized(
            "refresh token already used; all sessions of this login ended",
        )
        .into());
    }
    if session.expires_at <= now {
        return Err(AppError::unauthorized("refresh token expired").into());
    }
    if !repo::sessions::revoke(&state.db, session.id, now).await? {
        return Err(AppError::unauthorized("refresh token already used").into());
    }
    let user = repo::users::find(&state.db, session.user_id)
        .await?
        .ok_or_else(|| AppError::unauthorized("user no longer exists"))?;
    start_session(state, ctx, &user, Some(session.family)).await
}

/// Ends the caller's session (the whole rotation family) and clears the cookies.
pub async fn logout(state: &AppState, caller: &Caller) -> ServerResult<Vec<String>> {
    caller.authorize(Operation::Logout)?;
    let now = Utc::now();
    let txn = crate::server::db::begin(&state.db).await?;
    match caller.credential {
        Credential::Session { session_id } => {
            if let Some(session) = repo::sessions::find(&txn, session_id).await? {
                repo::sessions::revoke_family(&txn, &session.family, now).await?;
            }
        }
        Credential::ApiToken { .. } => {
            return Err(AppError::unprocessable(
                "token",
                "API tokens are revoked with tokens/revoke, not logout",
            )
            .into());
        }
    }
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "auth.logout",
        &format!("user:{}", caller.username),
    )
    .await?;
    let secure = state.settings.secure_cookies;
    Ok(vec![
        cookies::clear(cookies::ACCESS_COOKIE, "/", secure),
        cookies::clear(cookies::REFRESH_COOKIE, cookies::REFRESH_PATH, secure),
    ])
}

/// Changes the caller's password and ends their other sessions (the caller's own stays).
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    input: ChangePasswordRequest,
) -> ServerResult<()> {
    caller.authorize(Operation::ChangeOwnPassword)?;
    let user = repo::users::find(&state.db, caller.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    if input.current_password.chars().count() > Password::MAX_LEN
        || !password::verify(input.current_password, Some(user.password_hash.clone())).await?
    {
        return Err(
            AppError::unprocessable("current_password", "is not your current password").into(),
        );
    }
    let new = Password::parse(&input.new_password, &user.username)
        .map_err(|m| AppError::unprocessable("new_password", m))?;
    let hash = password::hash(new.expose().to_owned()).await?;
    let now = Utc::now();
    let txn = crate::server::db::begin(&state.db).await?;
    repo::users::set_password_hash(&txn, user.id, &hash, now).await?;
    // The session that proved the current password stays signed in; every other one ends.
    let keep = match caller.credential {
        Credential::Session { session_id } => repo::sessions::find(&txn, session_id)
            .await?
            .map(|s| s.family),
        Credential::ApiToken { .. } => None,
    };
    repo::sessions::revoke_others_for_user(&txn, user.id, keep.as_deref(), now).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "auth.change_password",
        &format!("user:{}", user.username),
    )
    .await?;
    Ok(())
}
