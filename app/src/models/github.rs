//! GitHub in the project page: for a project whose `origin` is on GitHub (or a GitHub Enterprise
//! server), its default branch, open pull requests, the CI of the local HEAD and of the default
//! branch, the latest release, and how far the local HEAD is from the default branch.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// GitHub's API when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// How GitHub is configured (the token is never shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GitHubSettings {
    /// Whether a token is configured.
    pub configured: bool,
    /// The REST API's base URL (`https://api.github.com`, or an Enterprise server's
    /// `https://host/api/v3`).
    pub base_url: String,
    /// The host whose remotes are this GitHub's (`github.com`, or the Enterprise server's host).
    pub web_host: String,
    /// Requests left in the current rate-limit window, as GitHub last said.
    pub rate_remaining: Option<u32>,
    /// Requests allowed per window.
    pub rate_limit: Option<u32>,
    /// When the window resets.
    pub rate_reset_at: Option<DateTime<Utc>>,
    /// No request is made before this (the rate limit was reached).
    pub paused_until: Option<DateTime<Utc>>,
    /// Who configured it last.
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Configures GitHub: a token (sealed with the master key) and the API's base URL.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConfigureGitHubRequest {
    /// A personal access token (classic or fine-grained) with read access to the repositories;
    /// absent keeps the configured one.
    #[serde(default)]
    pub token: Option<String>,
    /// The REST API's base URL; absent means `https://api.github.com`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Remove the token (and everything fetched with it).
    #[serde(default)]
    pub remove: bool,
}

impl std::fmt::Debug for ConfigureGitHubRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigureGitHubRequest")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("remove", &self.remove)
            .finish()
    }
}

/// Asks for a project's GitHub state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GitHubProjectRequest {
    /// The project.
    pub id: i64,
    /// Ask GitHub again now, even if the state is less than a minute old (the rate limit still
    /// applies).
    #[serde(default)]
    pub refresh: bool,
}

/// An open pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullInfo {
    /// Its number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Who opened it.
    pub author: String,
    /// A draft.
    pub draft: bool,
    /// Last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// Its page.
    pub html_url: String,
}

/// The CI of one commit: commit statuses and check runs together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CiStatus {
    /// The ref asked about (a branch or a commit).
    pub reference: String,
    /// `success`, `failure`, `pending`, or `none` (nothing reported).
    pub state: String,
    /// Statuses and check runs reported.
    pub total: u32,
    /// Those still running.
    pub pending: u32,
    /// The names of those that failed.
    pub failing: Vec<String>,
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseInfo {
    /// Its tag.
    pub tag: String,
    /// Its name.
    pub name: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Its page.
    pub html_url: String,
}

/// A project's GitHub state, as last fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct GitHubProject {
    /// The project.
    pub project_id: i64,
    /// `not_configured` (no token), `not_github` (no origin on this GitHub), `ok`, or `error`.
    pub status: String,
    /// `owner/name` on GitHub.
    pub repository: Option<String>,
    /// The repository's page.
    pub html_url: Option<String>,
    /// GitHub's default branch.
    pub default_branch: Option<String>,
    /// Open pull requests (all pages counted).
    pub open_pulls: Option<u32>,
    /// The 20 most recently updated.
    pub pulls: Vec<PullInfo>,
    /// The local HEAD commit.
    pub local_head: Option<String>,
    /// CI of the local HEAD (absent when that commit is not on GitHub).
    pub head_ci: Option<CiStatus>,
    /// CI of the default branch.
    pub default_branch_ci: Option<CiStatus>,
    /// The latest release (absent when there is none).
    pub latest_release: Option<ReleaseInfo>,
    /// Commits the local HEAD has that the default branch on GitHub has not.
    pub ahead_by: Option<u32>,
    /// Commits the default branch on GitHub has that the local HEAD has not.
    pub behind_by: Option<u32>,
    /// Where the comparison came from: `github`, or `local` (the HEAD is not on GitHub: the
    /// local copy of `origin`'s default branch was used).
    pub compared_by: Option<String>,
    /// When this was fetched.
    pub fetched_at: Option<DateTime<Utc>>,
    /// The next time it will be fetched when the page is opened (later when the rate limit was
    /// reached).
    pub next_refresh_at: Option<DateTime<Utc>>,
    /// Requests the last fetch made, and how many of them GitHub answered "not modified" (which
    /// cost no quota).
    pub requests: u32,
    /// Of those, answered 304 Not Modified.
    pub not_modified: u32,
    /// What went wrong, when `status` is `error` (or the last refresh failed and older data is
    /// shown).
    pub error: Option<String>,
}
