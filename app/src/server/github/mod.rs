//! GitHub in the project page. With a token configured (sealed with the master key), a
//! project whose `origin` remote is on GitHub (or on the configured Enterprise server) shows
//! its default branch, open pull requests, the CI of the local HEAD and of the default branch,
//! the latest release, and how far the local HEAD is from the default branch; the council reads
//! the same state as evidence.
//!
//! A project's state is fetched when its page asks and the last fetch is a minute old (or on
//! "Refresh"); which instance fetches is decided by the database. Every request is conditional
//! ([`client`]), so unchanged data costs no quota, and reaching the rate limit pauses fetching
//! everywhere until GitHub's reset.

pub mod client;
pub mod entities;
pub mod fetch;
pub mod remote;
pub mod repo;

use crate::error::AppError;
use crate::models::github::{
    ConfigureGitHubRequest, GitHubProject, GitHubProjectRequest, GitHubSettings, DEFAULT_BASE_URL,
};
use crate::models::Operation;
use crate::server::audit;
use crate::server::caller::Caller;
use crate::server::catalog;
use crate::server::error::{ServerError, ServerResult};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
use client::{Client, Failure};
use sea_orm::ConnectionTrait;
use std::path::PathBuf;

/// The sealing context of the token.
const SEAL: &str = "github-token";
/// How old a project's state may be before its page fetches it again.
pub const FRESH_SECS: i64 = 60;

fn invalid(field: &str, why: impl Into<String>) -> ServerError {
    AppError::unprocessable(field, why).into()
}

fn parse_base(raw: &str) -> Option<url::Url> {
    url::Url::parse(raw).ok()
}

fn settings_of(row: Option<entities::config::Model>) -> GitHubSettings {
    let Some(c) = row else {
        return GitHubSettings {
            base_url: DEFAULT_BASE_URL.to_owned(),
            web_host: "github.com".to_owned(),
            ..Default::default()
        };
    };
    let web_host = parse_base(&c.base_url)
        .map(|u| remote::web_host(&u))
        .unwrap_or_default();
    let n = |x: Option<i32>| x.and_then(|v| u32::try_from(v).ok());
    GitHubSettings {
        configured: c.token.is_some(),
        base_url: c.base_url,
        web_host,
        rate_remaining: n(c.rate_remaining),
        rate_limit: n(c.rate_limit),
        rate_reset_at: c.rate_reset_at,
        paused_until: c.paused_until.filter(|p| *p > Utc::now()),
        updated_by: c.updated_by,
        updated_at: Some(c.updated_at),
    }
}

/// How GitHub is configured (never the token).
pub async fn settings(state: &AppState, caller: &Caller) -> ServerResult<GitHubSettings> {
    caller.authorize(Operation::ReadCatalog)?;
    Ok(settings_of(repo::config(&state.db).await?))
}

fn check_base(raw: Option<&str>) -> ServerResult<url::Url> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty());
    let raw = raw.unwrap_or(DEFAULT_BASE_URL);
    if raw.len() > 300 {
        return Err(invalid("base_url", "must be at most 300 characters"));
    }
    let u = url::Url::parse(raw).map_err(|e| invalid("base_url", format!("is not a URL: {e}")))?;
    let host = u.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match u.scheme() {
        "https" if !host.is_empty() => {}
        "http" if loopback => {}
        _ => {
            return Err(invalid(
                "base_url",
                "must be an https:// URL with a host (http:// only to a loopback host)",
            ))
        }
    }
    if u.query().is_some()
        || u.fragment().is_some()
        || !u.username().is_empty()
        || u.password().is_some()
    {
        return Err(invalid(
            "base_url",
            "must not carry a query, fragment or credentials",
        ));
    }
    Ok(u)
}

/// Sets the token and the API's base URL (admins). Whatever was fetched before is forgotten.
pub async fn configure(
    state: &AppState,
    caller: &Caller,
    req: ConfigureGitHubRequest,
) -> ServerResult<GitHubSettings> {
    caller.authorize(Operation::ConfigureGitHub)?;
    let base = check_base(req.base_url.as_deref())?;
    let current = repo::config(&state.db).await?;
    let token = if req.remove {
        if req.token.is_some() {
            return Err(invalid("token", "must be absent when removing the token"));
        }
        None
    } else {
        match req.token.as_deref().map(str::trim) {
            Some(t) => {
                if t.is_empty() || t.len() > 255 || !t.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(invalid(
                        "token",
                        "must be 1-255 printable ASCII characters without spaces",
                    ));
                }
                Some(state.crypto.seal(SEAL, t).map_err(ServerError::Other)?)
            }
            None => match current.and_then(|c| c.token) {
                Some(kept) => Some(kept),
                None => return Err(invalid("token", "is required: no token is configured")),
            },
        }
    };
    let base_text = base.as_str().trim_end_matches('/').to_owned();
    if base_text.len() > 300 {
        return Err(invalid(
            "base_url",
            "must be at most 300 characters once encoded",
        ));
    }
    repo::configure(
        &state.db,
        &base_text,
        token.clone(),
        &caller.username,
        Utc::now(),
    )
    .await?;
    audit::record(
        state,
        caller.into(),
        "github.configure",
        &format!("github:{}", base.host_str().unwrap_or_default()),
        if token.is_some() { "ok" } else { "removed" },
    )
    .await?;
    settings(state, caller).await
}

/// What the project's working copy says: its `origin` URL and HEAD commit.
struct Local {
    dir: PathBuf,
    remote: Option<String>,
    head: Option<String>,
}

async fn local(path: &str) -> Local {
    let dir = PathBuf::from(path);
    let d = dir.clone();
    let (remote, head) = tokio::task::spawn_blocking(move || catalog::git::origin_and_head(&d))
        .await
        .unwrap_or_default();
    Local { dir, remote, head }
}

/// The local HEAD of the project at `path` (for the council: CI of another commit is not CI of
/// HEAD).
pub async fn local_head(path: &str) -> Option<String> {
    local(path).await.head
}

/// The kept state as it applies to `head`: what was about another commit is dropped.
fn for_head(mut p: GitHubProject, head: Option<&String>) -> GitHubProject {
    if p.local_head.as_ref() != head {
        p.local_head = head.cloned();
        p.head_ci = None;
        p.ahead_by = None;
        p.behind_by = None;
        p.compared_by = None;
    }
    p
}

fn decode(row: &entities::snapshot::Model) -> Option<GitHubProject> {
    serde_json::from_str(&row.body).ok()
}

async fn keep(
    db: &impl ConnectionTrait,
    p: &GitHubProject,
    now: DateTime<Utc>,
) -> ServerResult<()> {
    let body = serde_json::to_string(p).map_err(|e| ServerError::Other(e.to_string()))?;
    repo::keep_snapshot(
        db,
        entities::snapshot::Model {
            project_id: p.project_id,
            body,
            fetched_at: p.fetched_at.unwrap_or(now),
            next_refresh_at: p.next_refresh_at.unwrap_or(now),
        },
    )
    .await?;
    Ok(())
}

/// A project's GitHub state: the kept one while it is fresh, else fetched now.
///
/// Once a project has a kept state, each fetch first moves its next-refresh time with a
/// conditional UPDATE, so of the requests (and instances) finding it stale at once one fetches
/// and the others answer the kept state; "Refresh" goes through the same claim (and costs no
/// quota when nothing changed).
pub async fn project(
    state: &AppState,
    caller: &Caller,
    req: GitHubProjectRequest,
) -> ServerResult<GitHubProject> {
    caller.authorize(Operation::ReadCatalog)?;
    let Some(p) = catalog::find_project(&state.db, req.id).await? else {
        return Err(AppError::not_found(format!("project {}", req.id)).into());
    };
    let config = repo::config(&state.db).await?;
    let mut out = GitHubProject {
        project_id: p.id,
        status: "not_configured".into(),
        ..Default::default()
    };
    let Some((cfg, sealed)) = config.and_then(|c| c.token.clone().map(|t| (c, t))) else {
        return Ok(out);
    };
    let Some(base) = parse_base(&cfg.base_url) else {
        out.status = "error".into();
        out.error = Some("the configured base URL cannot be read".into());
        return Ok(out);
    };
    let here = local(&p.path).await;
    out.local_head = here.head.clone();
    let Some((owner, name)) = here
        .remote
        .as_deref()
        .and_then(|r| remote::repository(r, &remote::web_host(&base)))
    else {
        // What was fetched for another origin no longer describes this project.
        repo::forget_snapshot(&state.db, p.id).await?;
        out.status = "not_github".into();
        return Ok(out);
    };
    let full = format!("{owner}/{name}");
    let now = Utc::now();
    let kept = repo::snapshot(&state.db, p.id).await?;
    let previous = kept
        .as_ref()
        .and_then(decode)
        .filter(|x| x.repository.as_deref() == Some(full.as_str()))
        .map(|x| for_head(x, here.head.as_ref()));
    let paused = cfg.paused_until.filter(|u| *u > now);
    if let (Some(row), Some(prev)) = (&kept, &previous) {
        if let Some(until) = paused {
            let mut prev = prev.clone();
            prev.next_refresh_at = Some(until);
            prev.error = Some(Failure::Paused(until).to_string());
            return Ok(prev);
        }
        let unchanged_head = kept
            .as_ref()
            .and_then(decode)
            .is_some_and(|x| x.local_head == here.head);
        let fresh = row.next_refresh_at > now;
        if unchanged_head && fresh && !req.refresh {
            return Ok(prev.clone());
        }
        let next = now + Duration::seconds(FRESH_SECS);
        if !repo::claim_refresh(&state.db, p.id, row.next_refresh_at, next).await? {
            return Ok(prev.clone());
        }
    }
    let token = state
        .crypto
        .open(SEAL, &sealed)
        .map_err(|_| ServerError::Other("the GitHub token cannot be unsealed".into()))?;
    let mut client = Client::new(&state.db, base, token, paused);
    let mut fetched = GitHubProject {
        project_id: p.id,
        status: "ok".into(),
        repository: Some(full.clone()),
        local_head: here.head.clone(),
        ..Default::default()
    };
    let result = fetch::repository(&mut client, &full, here.head.as_deref(), &mut fetched).await;
    fetched.requests = client.requests;
    fetched.not_modified = client.not_modified;
    let now = Utc::now();
    let out = match result {
        Ok(()) => {
            if fetched.compared_by.is_none() {
                compare_locally(&here, &mut fetched).await;
            }
            fetched.fetched_at = Some(now);
            let paused_now = repo::config(&state.db)
                .await?
                .and_then(|c| c.paused_until)
                .filter(|u| *u > now);
            fetched.next_refresh_at =
                Some(paused_now.unwrap_or(now + Duration::seconds(FRESH_SECS)));
            fetched
        }
        Err(Failure::Db(e)) => return Err(e.into()),
        Err(e) => {
            let next = match &e {
                Failure::Paused(until) => *until,
                _ => now + Duration::seconds(FRESH_SECS),
            };
            tracing::info!(project = p.id, error = %e, "GitHub refresh failed");
            // Older data stays shown (what was about another commit dropped), with what went
            // wrong.
            let mut shown = previous.unwrap_or(GitHubProject {
                project_id: p.id,
                status: "error".into(),
                repository: Some(full.clone()),
                local_head: here.head.clone(),
                ..Default::default()
            });
            shown.error = Some(e.to_string());
            shown.next_refresh_at = Some(next);
            shown.requests = client.requests;
            shown.not_modified = client.not_modified;
            shown
        }
    };
    keep(&state.db, &out, now).await?;
    Ok(out)
}

/// Ahead/behind from the local copy of `origin`'s default branch, when GitHub could not compare.
async fn compare_locally(here: &Local, into: &mut GitHubProject) {
    let (Some(h), Some(b)) = (here.head.clone(), into.default_branch.clone()) else {
        return;
    };
    let dir = here.dir.clone();
    let other = format!("refs/remotes/origin/{b}");
    let local = tokio::task::spawn_blocking(move || catalog::git::ahead_behind(&dir, &h, &other))
        .await
        .ok()
        .flatten();
    if let Some((a, b)) = local {
        into.ahead_by = Some(a);
        into.behind_by = Some(b);
        into.compared_by = Some("local".into());
    }
}

/// The project's GitHub state as last fetched (no request is made), as it applies to the local
/// HEAD `head`: for the council.
pub async fn last_known(
    db: &impl ConnectionTrait,
    project_id: i64,
    head: Option<&String>,
) -> Result<Option<GitHubProject>, sea_orm::DbErr> {
    Ok(repo::snapshot(db, project_id)
        .await?
        .as_ref()
        .and_then(decode)
        .filter(|p| p.status == "ok")
        .map(|p| for_head(p, head)))
}
