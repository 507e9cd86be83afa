//! User management DTOs.

use super::access::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// User id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last successful login, if any.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Creates a user.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    /// Username: 3–32 of a-z 0-9 . _ -, starting with a letter (case and surrounding spaces are
    /// ignored).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *[A-Za-z][A-Za-z0-9._-]{2,31} *$")
    )]
    pub username: String,
    /// Initial password: 12–128 characters, neither one character repeated nor the username
    /// (422).
    #[cfg_attr(feature = "ssr", schema(min_length = 12, max_length = 128))]
    pub password: String,
    /// Role: `viewer`, `operator`, `admin` (only an owner may create another owner).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(viewer|operator|admin|owner) *$")
    )]
    pub role: String,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Changes a user's role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateRoleRequest {
    /// The user.
    pub id: i64,
    /// The new role.
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(viewer|operator|admin|owner) *$")
    )]
    pub role: String,
}
