//! What people set on a project: name, description, tags, owner, lifecycle, commands, flags.

use serde::{Deserialize, Serialize};

use super::CommandKind;

/// The lifecycles a project may be in.
pub const LIFECYCLES: [&str; 5] = [
    "experimental",
    "active",
    "maintenance",
    "deprecated",
    "retired",
];

/// Replaces the proposed command of one kind; an empty command removes the override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommandOverride {
    /// Which command.
    pub kind: CommandKind,
    /// The command line (empty: go back to the detected one).
    pub command: String,
}

/// Edits a project. Absent fields are unchanged; an empty `name`, `description`, `owner` or
/// `lifecycle` clears the value (name and description go back to what detection finds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateProjectRequest {
    /// The project.
    pub id: i64,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// The full tag list.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Lifecycle.
    #[serde(default)]
    pub lifecycle: Option<String>,
    /// Command overrides.
    #[serde(default)]
    pub commands: Option<Vec<CommandOverride>>,
}

/// Sets a yes/no flag (favorite, archived) on a project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectFlagRequest {
    /// The project.
    pub id: i64,
    /// The new value.
    pub value: bool,
}
