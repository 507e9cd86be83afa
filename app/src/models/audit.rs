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
    /// Only this action (e.g. `auth.login`).
    #[serde(default)]
    pub action: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}
