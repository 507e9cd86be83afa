//! The project catalog: workspaces (folders to scan) and the projects found in them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A technology a project is built with, detected from its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stack {
    /// Cargo.
    Rust,
    /// package.json (npm, yarn, pnpm, bun).
    Node,
    /// deno.json.
    Deno,
    /// pyproject.toml, requirements.txt, Pipfile, setup.py.
    Python,
    /// go.mod.
    Go,
    /// Maven or Gradle (Java).
    Java,
    /// Gradle with Kotlin.
    Kotlin,
    /// Gemfile.
    Ruby,
    /// composer.json.
    Php,
    /// .csproj, .fsproj, .sln.
    Dotnet,
    /// mix.exs.
    Elixir,
    /// A plain static site (index.html).
    Static,
    /// Dockerfile or Compose file.
    Docker,
}

impl Stack {
    /// Every stack.
    pub const ALL: [Stack; 13] = [
        Stack::Rust,
        Stack::Node,
        Stack::Deno,
        Stack::Python,
        Stack::Go,
        Stack::Java,
        Stack::Kotlin,
        Stack::Ruby,
        Stack::Php,
        Stack::Dotnet,
        Stack::Elixir,
        Stack::Static,
        Stack::Docker,
    ];

    /// The lower-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Rust => "rust",
            Stack::Node => "node",
            Stack::Deno => "deno",
            Stack::Python => "python",
            Stack::Go => "go",
            Stack::Java => "java",
            Stack::Kotlin => "kotlin",
            Stack::Ruby => "ruby",
            Stack::Php => "php",
            Stack::Dotnet => "dotnet",
            Stack::Elixir => "elixir",
            Stack::Static => "static",
            Stack::Docker => "docker",
        }
    }

    /// Parses a lower-case id.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Stack::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown stack `{s}`"))
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a proposed command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CommandKind {
    /// Fetch dependencies.
    Install,
    /// Build.
    Build,
    /// Run the tests.
    Test,
    /// Run the project.
    Run,
}

/// A command Optimus proposes, and where the proposal came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProposedCommand {
    /// What it is for.
    pub kind: CommandKind,
    /// The shell command, run in `cwd`.
    pub command: String,
    /// Working directory relative to the project root (`.` for the root).
    pub cwd: String,
    /// Where it came from, e.g. `package.json scripts.dev` or `Cargo.toml`.
    pub source: String,
}

/// The last commit on the current branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitInfo {
    /// Full hash.
    pub hash: String,
    /// Author name.
    pub author: String,
    /// Commit time.
    pub time: DateTime<Utc>,
    /// First line of the message.
    pub subject: String,
}

/// A repository's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GitState {
    /// Current branch; absent when HEAD is detached or the repository has no commit.
    pub branch: Option<String>,
    /// HEAD points at a commit, not a branch.
    pub detached: bool,
    /// Any staged, modified or untracked file.
    pub dirty: bool,
    /// Files with staged changes.
    pub staged: u32,
    /// Files with unstaged changes.
    pub modified: u32,
    /// Untracked files.
    pub untracked: u32,
    /// Commits ahead of the upstream.
    pub ahead: u32,
    /// Commits behind the upstream.
    pub behind: u32,
    /// The upstream branch, e.g. `origin/main`.
    pub upstream: Option<String>,
    /// The last commit.
    pub last_commit: Option<CommitInfo>,
    /// The `origin` URL with any credentials removed.
    pub remote_url: Option<String>,
}

/// A part of a monorepo: a folder with its own manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Component {
    /// Its name (from the manifest, or the folder).
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Its stacks.
    pub stacks: Vec<Stack>,
}

/// A service declared in a project's `optimus.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Service name, unique in the project.
    pub name: String,
    /// The command line.
    pub command: String,
    /// Working directory relative to the project root.
    #[serde(default = "dot")]
    pub cwd: String,
    /// The port it listens on: a number, or `"auto"` for one from the registry (`$PORT`).
    #[serde(default)]
    pub port: Option<PortSpec>,
    /// Environment variables.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Services that must be ready first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Must pass once before the others count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<ProbeSpec>,
    /// When the service counts as ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ProbeSpec>,
    /// Failing it restarts the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<ProbeSpec>,
    /// `never`, `on-failure` (default) or `always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Resource ceilings (`memory_mb`, `cpu_percent`, `open_files`).
    #[serde(
        default,
        skip_serializing_if = "crate::models::runtime::ResourceLimits::is_empty"
    )]
    pub limits: crate::models::runtime::ResourceLimits,
    /// Threshold alerts (`[[services.alerts]]` with `metric`, `above`, `for_secs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<crate::models::runtime::AlertRule>,
}

impl ServiceSpec {
    /// The fixed port, if the service declares one.
    pub fn fixed_port(&self) -> Option<u16> {
        match self.port {
            Some(PortSpec::Number(p)) => Some(p),
            _ => None,
        }
    }
}

/// A declared port: a number, or a word (only `"auto"` is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PortSpec {
    /// A fixed port.
    Number(u16),
    /// `"auto"`: allocate one.
    Keyword(String),
}

/// A probe as written in `optimus.toml`: exactly one of `http`, `tcp`, `exec`, `log`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// GET this path on the service's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// Connect to the service's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<bool>,
    /// Run this command; exit 0 passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
    /// An output line matching this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The expected HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Text the HTTP body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Milliseconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Milliseconds one check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Failures in a row before it counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

impl ProbeSpec {
    /// How many checks it names (exactly one is valid).
    pub fn kinds(&self) -> usize {
        usize::from(self.http.is_some())
            + usize::from(self.tcp == Some(true))
            + usize::from(self.exec.is_some())
            + usize::from(self.log.is_some())
    }
}

fn dot() -> String {
    ".".into()
}

/// A project as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectInfo {
    /// Project id.
    pub id: i64,
    /// The workspace it was found in (absent when added by hand).
    pub workspace_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Absolute path.
    pub path: String,
    /// Description (from the manifest or edited).
    pub description: Option<String>,
    /// Detected stacks.
    pub stacks: Vec<Stack>,
    /// Detected frameworks and tools (`vite`, `next`, `django`, `cargo-workspace`, …).
    pub frameworks: Vec<String>,
    /// Proposed commands with their sources.
    pub commands: Vec<ProposedCommand>,
    /// The port the project is expected to listen on, if one is known.
    pub port: Option<u16>,
    /// Monorepo components.
    pub components: Vec<Component>,
    /// Git state; null when the project is not a repository.
    pub git: Option<GitState>,
    /// `present` or `missing` (vanished from disk since the last scan).
    pub status: String,
    /// Problems met while detecting (unreadable manifest, broken repository).
    pub errors: Vec<String>,
    /// When it was last scanned.
    pub scanned_at: DateTime<Utc>,
    /// Tags.
    pub tags: Vec<String>,
    /// Who owns it (free text, e.g. a username or team).
    pub owner: Option<String>,
    /// `experimental`, `active`, `maintenance`, `deprecated` or `retired`.
    pub lifecycle: Option<String>,
    /// Marked as a favorite.
    pub favorite: bool,
    /// Archived (hidden from the list unless asked for).
    pub archived: bool,
    /// Fields the user set by hand (`name`, `description`, `commands`); rescans keep them.
    pub overridden: Vec<String>,
    /// Services declared in `optimus.toml`.
    pub services: Vec<ServiceSpec>,
}

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
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

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
    /// Ids of the projects it depends on (at most 50; no cycles).
    pub depends_on: Vec<i64>,
}

/// The `optimus.toml` Optimus wrote into a project folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DescriptorWritten {
    /// The file written.
    pub path: String,
    /// Its content.
    pub content: String,
}

/// Adds one project by path, outside any workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateProjectRequest {
    /// Absolute path of the project folder.
    pub path: String,
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
    pub path: String,
}

/// Filters and pages the project list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectQuery {
    /// Words that must all appear in the name, path or description.
    #[serde(default)]
    pub search: Option<String>,
    /// Only projects with this stack.
    #[serde(default)]
    pub stack: Option<String>,
    /// Only projects of this workspace.
    #[serde(default)]
    pub workspace_id: Option<i64>,
    /// Only projects with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only favorites (true) or non-favorites (false).
    #[serde(default)]
    pub favorite: Option<bool>,
    /// Archived projects instead of active ones (default: active only).
    #[serde(default)]
    pub archived: Option<bool>,
    /// Git state: `dirty`, `clean`, `ahead`, `behind` or `none` (not a repository).
    #[serde(default)]
    pub git: Option<String>,
    /// `present` or `missing`.
    #[serde(default)]
    pub status: Option<String>,
    /// Order: `name` (default, A→Z), `last_commit` (newest first, projects without commits
    /// last), `last_scanned` (newest first) or `status` (missing first, then by name).
    #[serde(default)]
    pub sort: Option<String>,

    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (1–200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// How the project list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
