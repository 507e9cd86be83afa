//! Workspaces (folders scanned for projects), their scans, and adding a project by hand.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A folder Optimus scans for projects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WorkspaceInfo {
    /// Workspace id.
    pub id: i64,
    /// Absolute path.
    pub path: String,
    /// `idle`, `running`, `done` or `failed`.
    pub scan_state: String,
    /// Why the last scan failed.
    pub scan_error: Option<String>,
    /// Projects found by the last scan.
    pub projects_found: u32,
    /// Folders examined so far in the current or last scan.
    pub folders_scanned: u32,
    /// When the last scan finished.
    pub last_scan_at: Option<DateTime<Utc>>,
    /// How long the last scan took, in milliseconds.
    pub last_scan_ms: Option<u64>,
}

/// Adds a workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AddWorkspaceRequest {
    /// Absolute path of an existing, readable folder.
    #[cfg_attr(feature = "ssr", schema(max_length = 1024, pattern = r"^ */"))]
    pub path: String,
}

/// Adds one project by path, outside any workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateProjectRequest {
    /// Absolute path of the project folder.
    #[cfg_attr(feature = "ssr", schema(max_length = 1024, pattern = r"^ */"))]
    pub path: String,
}
