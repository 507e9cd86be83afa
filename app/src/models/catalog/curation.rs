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
    /// The command line (empty: go back to the detected one; at most 1000 characters).
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 1000, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub command: String,
}

/// Edits a project. Absent fields are unchanged; an empty `name`, `description`, `owner` or
/// `lifecycle` clears the value (name and description go back to what detection finds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateProjectRequest {
    /// The project.
    pub id: i64,
    /// New name (at most 128 characters, no control characters; empty: re-detect).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 128, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub name: Option<String>,
    /// New description (at most 1000 characters, no control characters; empty: re-detect).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 1000, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub description: Option<String>,
    /// The full tag list (at most 20).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_items = 20, value_type = Option<Vec<crate::models::wire::TagName>>)
    )]
    pub tags: Option<Vec<String>>,
    /// Owner (at most 64 characters, no control characters).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub owner: Option<String>,
    /// Lifecycle: experimental, active, maintenance, deprecated or retired (empty: none).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(experimental|active|maintenance|deprecated|retired)? *$")
    )]
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
