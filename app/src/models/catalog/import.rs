//! Importing projects from a JSON export, and the report of what it did.

use serde::{Deserialize, Serialize};

/// One project in an import: the objects `GET projects/export?format=json` produces are accepted
/// as they are (fields not listed here are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportItem {
    /// Absolute path of the project folder on this machine.
    pub path: String,
    /// Name (applied only if `overridden` lists it).
    #[serde(default)]
    pub name: Option<String>,
    /// Description (applied only if `overridden` lists it).
    #[serde(default)]
    pub description: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Lifecycle.
    #[serde(default)]
    pub lifecycle: Option<String>,
    /// Favorite.
    #[serde(default)]
    pub favorite: bool,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
    /// Which of name/description were set by hand.
    #[serde(default)]
    pub overridden: Vec<String>,
}

/// Imports projects from a JSON export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportRequest {
    /// The projects (at most 10,000).
    #[cfg_attr(feature = "ssr", schema(max_items = 10000))]
    pub projects: Vec<ImportItem>,
}

/// A project an import could not take, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportSkip {
    /// Its path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Projects added to the catalog.
    pub created: u32,
    /// Projects already there whose curation was updated.
    pub updated: u32,
    /// Projects not imported.
    pub skipped: Vec<ImportSkip>,
}
