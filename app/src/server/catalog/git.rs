//! Git state read through libgit2 (no `git` process): branch, dirty counts, ahead/behind,
//! last commit, and the origin URL without credentials.

use crate::models::catalog::{CommitInfo, GitState};
use chrono::{TimeZone, Utc};
use git2::{BranchType, Repository, StatusOptions};
use std::path::Path;

/// Whether `dir` is the top of a git work tree.
pub fn is_repo_root(dir: &Path) -> bool {
    dir.join(".git").exists()
}

/// Reads the state of the repository at `dir`. `Ok(None)` when it is not a repository.
pub fn read_state(dir: &Path) -> Result<Option<GitState>, String> {
    if !is_repo_root(dir) {
        return Ok(None);
    }
    let repo = Repository::open(dir).map_err(|e| format!("git: {}", e.message()))?;
    let mut state = GitState {
        branch: None,
        detached: false,
        dirty: false,
        staged: 0,
        modified: 0,
        untracked: 0,
        ahead: 0,
        behind: 0,
        upstream: None,
        last_commit: None,
        remote_url: None,
    };
    state.detached = repo.head_detached().unwrap_or(false);
    if let Ok(head) = repo.head() {
        if head.is_branch() {
            state.branch = head.shorthand().ok().map(str::to_owned);
        }
        if let Ok(commit) = head.peel_to_commit() {
            let author = commit.author();
            state.last_commit = Some(CommitInfo {
                hash: commit.id().to_string(),
                author: author.name().unwrap_or_default().to_owned(),
                time: Utc
                    .timestamp_opt(commit.time().seconds(), 0)
                    .single()
                    .unwrap_or_default(),
                subject: commit
                    .summary()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        if let (Some(name), Some(local)) = (state.branch.clone(), head.target()) {
            if let Ok(branch) = repo.find_branch(&name, BranchType::Local) {
                if let Ok(upstream) = branch.upstream() {
                    state.upstream = upstream.name().ok().flatten().map(str::to_owned);
                    if let Some(remote) = upstream.get().target() {
                        if let Ok((ahead, behind)) = repo.graph_ahead_behind(local, remote) {
                            state.ahead = u32::try_from(ahead).unwrap_or(u32::MAX);
                            state.behind = u32::try_from(behind).unwrap_or(u32::MAX);
                        }
                    }
                }
            }
        }
    } else {
        // An unborn branch: HEAD names a branch that has no commit yet.
        state.branch = repo.find_reference("HEAD").ok().and_then(|r| {
            r.symbolic_target()
                .ok()
                .flatten()
                .map(|t| t.trim_start_matches("refs/heads/").to_owned())
        });
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(false)
        .include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut opts))
        .map_err(|e| format!("git status: {}", e.message()))?;
    for entry in statuses.iter() {
        let s = entry.status();
        if s.is_wt_new() {
            state.untracked += 1;
            continue;
        }
        if s.is_index_new()
            || s.is_index_modified()
            || s.is_index_deleted()
            || s.is_index_renamed()
            || s.is_index_typechange()
        {
            state.staged += 1;
        }
        if s.is_wt_modified() || s.is_wt_deleted() || s.is_wt_renamed() || s.is_wt_typechange() {
            state.modified += 1;
        }
    }
    state.dirty = state.staged + state.modified + state.untracked > 0;
    state.remote_url = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(strip_credentials));
    Ok(Some(state))
}

/// Removes `user:password@` from a URL; leaves scp-style `git@host:path` alone.
pub fn strip_credentials(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let host_start = rest.find('/').unwrap_or(rest.len());
            match rest[..host_start].rfind('@') {
                Some(at) => format!("{}{}", &url[..i + 3], &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// The commit at the head of local branch `branch` of the repository at `dir`; `None` when the
/// branch does not exist (yet).
pub fn branch_head(dir: &Path, branch: &str) -> Result<Option<String>, String> {
    let repo = Repository::open(dir).map_err(|e| format!("git: {}", e.message()))?;
    let Ok(found) = repo.find_branch(branch, BranchType::Local) else {
        return Ok(None);
    };
    let commit = found
        .get()
        .peel_to_commit()
        .map_err(|e| format!("git: {}", e.message()))?;
    Ok(Some(commit.id().to_string()))
}

/// The `origin` URL (credentials removed) and the HEAD commit of the repository at `dir`,
/// without reading the working tree's status.
pub fn origin_and_head(dir: &Path) -> (Option<String>, Option<String>) {
    let Ok(repo) = Repository::open(dir) else {
        return (None, None);
    };
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(strip_credentials));
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    (origin, head)
}

/// How many commits `head` (a commit id) has that the ref `other` (e.g.
/// `refs/remotes/origin/main`) has not, and the reverse; `None` when either is unknown here.
pub fn ahead_behind(dir: &Path, head: &str, other: &str) -> Option<(u32, u32)> {
    let repo = Repository::open(dir).ok()?;
    let local = git2::Oid::from_str(head).ok()?;
    let theirs = repo.find_reference(other).ok()?.peel_to_commit().ok()?.id();
    let (a, b) = repo.graph_ahead_behind(local, theirs).ok()?;
    Some((
        u32::try_from(a).unwrap_or(u32::MAX),
        u32::try_from(b).unwrap_or(u32::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped_from_remote_urls() {
        assert_eq!(
            strip_credentials("https://user:tok@github.com/a/b.git"),
            "https://github.com/a/b.git"
        );
        assert_eq!(
            strip_credentials("https://github.com/a/b.git"),
            "https://github.com/a/b.git"
        );
        assert_eq!(
            strip_credentials("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
    }
}
