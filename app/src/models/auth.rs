//! Sign-in and identity DTOs.

use super::access::{Role, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A username and password, for setup and login.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// The username: 3–32 of a-z 0-9 . _ -, starting with a letter (case and surrounding spaces
    /// are ignored).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *[A-Za-z][A-Za-z0-9._-]{2,31} *$")
    )]
    pub username: String,
    /// The password: 12–128 characters (a new one may also be neither one character repeated
    /// nor the username: 422).
    #[cfg_attr(feature = "ssr", schema(min_length = 12, max_length = 128))]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// Exchanges a refresh token for a new pair. API clients send the token they got at login; the
/// browser leaves it out and the cookie is used.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from the login response (optional when the cookie is present).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 256))]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { .. }")
    }
}

/// Changes the caller's own password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// The current password (a wrong one: 422).
    #[cfg_attr(feature = "ssr", schema(max_length = 128))]
    pub current_password: String,
    /// The new password: 12–128 characters, neither one character repeated nor the username
    /// (422).
    #[cfg_attr(feature = "ssr", schema(min_length = 12, max_length = 128))]
    pub new_password: String,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest { .. }")
    }
}

/// What a successful setup, login or refresh returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// A short-lived access token (JWT) for `Authorization: Bearer`.
    pub token: String,
    /// When `token` expires.
    pub expires_at: DateTime<Utc>,
    /// A single-use refresh token for `auth/refresh`.
    pub refresh_token: String,
    /// Who signed in.
    pub user: Me,
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A login session (cookie or access token).
    Session,
    /// An API token.
    ApiToken,
}

/// The caller's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    /// User id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// The scopes in force (all of the role's for a session).
    pub scopes: Vec<Scope>,
}

/// Whether first-run setup is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    /// True while no user exists.
    pub needs_setup: bool,
}
