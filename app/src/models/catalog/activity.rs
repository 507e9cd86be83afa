//! A project's activity timeline and the query for a page of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry of a project's activity timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityEntry {
    /// Entry id (increasing).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `discovered`, `updated`, `missing`, `returned`, `edited`, `favorited`, `archived`, …
    pub kind: String,
    /// What happened.
    pub summary: String,
    /// Who did it (absent for scans).
    pub actor: Option<String>,
}

/// Asks for a page of one project's activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityQuery {
    /// The project.
    pub id: i64,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *(c-?[0-9]{1,18})? *$"))]
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}
