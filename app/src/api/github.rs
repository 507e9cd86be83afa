//! `/api/v1/github/*`: GitHub's side of a project (pull requests, CI, release, how far the local
//! HEAD is from the default branch) and the token it is read with.

use crate::models::github::{
    ConfigureGitHubRequest, GitHubProject, GitHubProjectRequest, GitHubSettings,
};

endpoint! {
    /// How GitHub is configured: base URL, whether a token is set, the rate limit as GitHub
    /// last reported it (never the token)
    "github/settings", requires ReadCatalog, |state, caller|
    pub async fn github_settings() -> GitHubSettings {
        use crate::server::github;
        Ok(github::settings(&state, &caller).await?)
    }
}

endpoint! {
    /// Set the GitHub token (sealed with the master key) and the REST API's base URL
    ///
    /// `base_url` defaults to `https://api.github.com`; a GitHub Enterprise server's is
    /// `https://host/api/v3`. Without `token` the configured one is kept; `remove` drops it.
    /// Everything fetched before is forgotten.
    "github/configure", requires ConfigureGitHub, |state, caller|
    pub async fn configure_github(request: ConfigureGitHubRequest) -> GitHubSettings {
        use crate::server::github;
        Ok(github::configure(&state, &caller, request).await?)
    }
}

endpoint! {
    /// A project's GitHub state: default branch, open pull requests, CI of the local HEAD and of
    /// the default branch, latest release, ahead/behind
    ///
    /// Fetched when the last fetch is a minute old, or with `refresh`; every request to GitHub
    /// is conditional (ETag), and while GitHub's rate limit is reached the kept state is
    /// answered with `next_refresh_at` saying when it will be asked again.
    "github/project", requires ReadCatalog, |state, caller|
    pub async fn github_project(request: GitHubProjectRequest) -> GitHubProject {
        use crate::server::github;
        Ok(github::project(&state, &caller, request).await?)
    }
}
