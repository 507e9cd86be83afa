//! Filtering, ordering and paging the project list, and the facet counts beside it.

use serde::{Deserialize, Serialize};

/// Filters and pages the project list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectQuery {
    /// Words that must all appear in the name, path or description (at most 200 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub search: Option<String>,
    /// Only projects with this stack.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^ *(rust|node|deno|python|go|java|kotlin|ruby|php|dotnet|elixir|static|docker)? *$"
        )
    )]
    pub stack: Option<String>,
    /// Only projects of this workspace.
    #[serde(default)]
    pub workspace_id: Option<i64>,
    /// Only projects with this tag.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *([A-Za-z0-9._-]{1,32})? *$"))]
    pub tag: Option<String>,
    /// Only favorites (true) or non-favorites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Archived projects instead of active ones (default: active only).
    #[serde(default)]
    pub archived: Option<bool>,
    /// Git state: `dirty`, `clean`, `ahead`, `behind` or `none` (not a repository).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(dirty|clean|ahead|behind|none)? *$")
    )]
    pub git: Option<String>,
    /// `present` or `missing`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *(present|missing)? *$"))]
    pub status: Option<String>,
    /// Order: `name` (default, A→Z), `last_commit` (newest first, projects without commits
    /// last), `last_scanned` (newest first) or `status` (missing first, then by name).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(name|last_commit|last_scanned|status)? *$")
    )]
    pub sort: Option<String>,

    /// The `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *(c-?[0-9]{1,18})? *$"))]
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// How the project list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProjectSort {
    /// A→Z by name.
    #[default]
    Name,
    /// Newest last commit first; projects without commits last.
    LastCommit,
    /// Most recently scanned first.
    LastScanned,
    /// Missing projects first, then present ones, each by name.
    Status,
}

impl ProjectSort {
    /// Every order, as offered in the UI.
    pub const ALL: [ProjectSort; 4] = [
        ProjectSort::Name,
        ProjectSort::LastCommit,
        ProjectSort::LastScanned,
        ProjectSort::Status,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectSort::Name => "name",
            ProjectSort::LastCommit => "last_commit",
            ProjectSort::LastScanned => "last_scanned",
            ProjectSort::Status => "status",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ProjectSort::Name => "Name",
            ProjectSort::LastCommit => "Last commit",
            ProjectSort::LastScanned => "Last scanned",
            ProjectSort::Status => "Status",
        }
    }

    /// Parses a wire name; empty means the default.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Self::default());
        }
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| "must be name, last_commit, last_scanned or status".to_owned())
    }
}

/// Counts per filter value over the projects matching the other filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectFacets {
    /// Projects matching.
    pub total: u32,
    /// Per stack id.
    pub stacks: std::collections::BTreeMap<String, u32>,
    /// Per tag.
    pub tags: std::collections::BTreeMap<String, u32>,
    /// Favorites.
    pub favorites: u32,
    /// Repositories with uncommitted changes.
    pub dirty: u32,
    /// Repositories behind their upstream.
    pub behind: u32,
    /// Projects missing from disk.
    pub missing: u32,
}
