//! Dependencies between projects, in both directions.

use serde::{Deserialize, Serialize};

/// Another project, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectRef {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// A project's dependencies in both directions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectDependencies {
    /// Projects this one depends on.
    pub depends_on: Vec<ProjectRef>,
    /// Projects that depend on this one.
    pub dependents: Vec<ProjectRef>,
}

/// Replaces what a project depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetDependenciesRequest {
    /// The project.
    pub id: i64,
    /// Ids of the projects it depends on (at most 50; itself, unknown ids or a cycle: 422).
    #[cfg_attr(feature = "ssr", schema(max_items = 50))]
    pub depends_on: Vec<i64>,
}
