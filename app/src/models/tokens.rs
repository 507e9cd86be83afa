//! API token DTOs.

use super::access::Scope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Creates an API token for the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    /// A name to recognise it by: 1–64 characters, not only spaces, no control characters.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 64,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: String,
    /// What it may do: `read`, `read:secrets`, `write`, `deploy`, `admin` (at least one; only
    /// scopes the caller holds: 422).
    #[cfg_attr(
        feature = "ssr",
        schema(min_items = 1, value_type = Vec<crate::models::access::Scope>)
    )]
    pub scopes: Vec<String>,
    /// Days until it expires (1–365).
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 365))]
    pub expires_in_days: u32,
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// Token id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry time.
    pub expires_at: DateTime<Utc>,
    /// Last time it was used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly created token: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    /// The secret, for `Authorization: Bearer`. It cannot be shown again.
    pub token: String,
    /// The stored description.
    pub info: TokenInfo,
}

/// Names one thing by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IdRequest {
    /// The id.
    pub id: i64,
}
