//! Per-project service counts at a glance, as the project cards show them.

use serde::{Deserialize, Serialize};

/// Asks for per-project service counts (`services/summary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuntimeSummaryQuery {
    /// Only these projects (at most 1000); absent means every project.
    // Left out rather than sent as `null` when absent: the API guard types an optional list as
    // an array only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_items = 1000))]
    pub project_ids: Option<Vec<i64>>,
}

/// One project's services at a glance, as the project cards show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectRuntimeSummary {
    /// The project.
    pub project_id: i64,
    /// Services it defines.
    pub total: u32,
    /// Of which a process is alive (starting, ready, unhealthy or stopping).
    pub running: u32,
    /// Of which restarted too often in a row and were left stopped.
    pub crash_looping: u32,
}
