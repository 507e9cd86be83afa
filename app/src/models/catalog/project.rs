//! Projects as listed and shown, and the facts detected from their files (stacks, commands, git).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::ServiceSpec;

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
