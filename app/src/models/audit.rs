//! Audit log DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Entry id (increasing).
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (absent for anonymous actions such as a failed login).
    pub actor: Option<String>,
    /// What was done, e.g. `users.create`.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Whether it succeeded.
    pub outcome: String,
    /// The client's address.
    pub client_addr: Option<String>,
}

/// Filters the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditQuery {
    /// Only this action (e.g. `auth.login`): at most 64 of a-z . _
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *[a-z._]{0,64} *$"))]
    pub action: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *(c-?[0-9]{1,18})? *$"))]
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}
