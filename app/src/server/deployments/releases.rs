//! Releases: a project's numbered, immutable snapshots under `<data_dir>/releases/<project>/<n>`
//! (never the user's working folder), kept per retention, pinned, compared.
//!
//! A release holds the project's files as git sees them (ignored files and `.git` left out;
//! the commit, its summary and the branch recorded when it is a repository) or a succeeded
//! pipeline run's artifacts; the definitions of the services it runs; and keyed hashes of the
//! environment (all of it, and per key), never the values.

use super::entities::release;
use super::repo;
use crate::error::AppError;
use crate::models::deployments::DeployTarget;
use crate::models::deployments::{ReleaseDiff, ReleaseInfo};
use crate::models::runtime::ServiceDefinition;
use crate::server::catalog::Project;
use crate::server::error::{ServerError, ServerResult};
use crate::server::{environments, pipelines, runtime, AppState};
use chrono::Utc;
use sea_orm::Set;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest project folder a release copies (a larger one should release a pipeline's
/// artifacts instead).
const MAX_RELEASE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Where release folders live.
fn root(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("releases")
}

/// A release's folder.
pub fn folder(state: &AppState, r: &release::Model) -> PathBuf {
    state.settings.data_dir.join(&r.path)
}

/// The service definitions a release runs.
pub fn services(r: &release::Model) -> ServerResult<Vec<ServiceDefinition>> {
    serde_json::from_str(&r.services)
        .map_err(|e| ServerError::Other(format!("release {} services: {e}", r.id)))
}

fn env_keys(r: &release::Model) -> BTreeMap<String, String> {
    serde_json::from_str(&r.env_keys).unwrap_or_default()
}

/// Makes the next release of `project`: from its folder, or from a pipeline run's artifacts.
pub async fn make(
    state: &AppState,
    project: &Project,
    created_by: Option<String>,
    pipeline_run_id: Option<i64>,
) -> ServerResult<release::Model> {
    let services = runtime::slots::definitions_of(state, project.id).await?;
    if services.is_empty() {
        return Err(AppError::unprocessable(
            "project_id",
            "the project has no services to deploy; add one first",
        )
        .into());
    }
    let staging = root(state)
        .join(project.id.to_string())
        .join(format!(".new-{}", uuid::Uuid::new_v4()));
    let (source, commit, message, branch, files, bytes) = match pipeline_run_id {
        Some(run_id) => {
            let out = pipelines::outputs::outputs(state, run_id).await?;
            if out.project_id != project.id {
                return Err(AppError::unprocessable(
                    "pipeline_run_id",
                    format!("run {run_id} belongs to another project"),
                )
                .into());
            }
            let to = staging.clone();
            let (files, bytes) = blocking(move || copy_artifacts(&out.files, &to)).await?;
            ("pipeline_run", out.commit, None, out.branch, files, bytes)
        }
        None => {
            let from = PathBuf::from(&project.path);
            let to = staging.clone();
            let skip = state.settings.data_dir.clone();
            let (files, bytes) = blocking(move || copy_folder(&from, &to, &skip)).await?;
            let git = git_head(Path::new(&project.path));
            let (commit, message, branch) = git.unwrap_or_default();
            ("folder", commit, message, branch, files, bytes)
        }
    };
    let resolved = environments::resolved(state, project.id).await?;
    let (env_digest, keys) = digests(state, &resolved.vars);
    let new = release::ActiveModel {
        project_id: Set(project.id),
        number: Set(0),
        source: Set(source.into()),
        commit: Set(commit),
        commit_message: Set(message),
        branch: Set(branch),
        pipeline_run_id: Set(pipeline_run_id),
        services: Set(serde_json::to_string(&services).unwrap_or_else(|_| "[]".into())),
        env_digest: Set(env_digest),
        env_keys: Set(serde_json::to_string(&keys).unwrap_or_else(|_| "{}".into())),
        path: Set(String::new()),
        files: Set(i64::try_from(files).unwrap_or(i64::MAX)),
        bytes: Set(i64::try_from(bytes).unwrap_or(i64::MAX)),
        pinned: Set(false),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        pruned_at: Set(None),
        ..Default::default()
    };
    let made = match repo::releases::insert(&state.db, new).await {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e.into());
        }
    };
    // Now it has its number: the staged folder becomes the release's.
    let relative = PathBuf::from("releases")
        .join(project.id.to_string())
        .join(made.number.to_string());
    let target = state.settings.data_dir.join(&relative);
    let _ = std::fs::remove_dir_all(&target);
    if let Err(e) = std::fs::rename(&staging, &target) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(ServerError::Other(format!(
            "cannot place release folder: {e}"
        )));
    }
    let mut row: release::ActiveModel = made.into();
    row.path = Set(relative.to_string_lossy().into_owned());
    Ok(sea_orm::ActiveModelTrait::update(row, &state.db).await?)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> ServerResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServerError::Other(format!("release copy: {e}")))?
        .map_err(|e| AppError::unprocessable("project_id", e).into())
}

/// Copies the files git would see (ignored ones, `.git` and Optimus's own data folder left
/// out) from `from` into `to`; (files, bytes).
fn copy_folder(from: &Path, to: &Path, skip: &Path) -> Result<(u64, u64), String> {
    let skip = skip.canonicalize().unwrap_or_else(|_| skip.to_path_buf());
    let walker = ignore::WalkBuilder::new(from)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .filter_entry(move |e| {
            e.file_name() != ".git"
                && e.path()
                    .canonicalize()
                    .map(|p| !p.starts_with(&skip))
                    .unwrap_or(true)
        })
        .build();
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for entry in walker {
        let entry = entry.map_err(|e| format!("cannot read the project folder: {e}"))?;
        let Ok(rel) = entry.path().strip_prefix(from) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let dest = to.join(rel);
        let kind = entry.file_type();
        if kind.is_some_and(|k| k.is_dir()) {
            std::fs::create_dir_all(&dest)
                .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        } else if kind.is_some_and(|k| k.is_symlink()) {
            let link = std::fs::read_link(entry.path())
                .map_err(|e| format!("cannot read link {}: {e}", rel.display()))?;
            std::os::unix::fs::symlink(link, &dest)
                .map_err(|e| format!("cannot copy link {}: {e}", rel.display()))?;
        } else {
            bytes += std::fs::copy(entry.path(), &dest)
                .map_err(|e| format!("cannot copy {}: {e}", rel.display()))?;
            files += 1;
            if bytes > MAX_RELEASE_BYTES {
                let _ = std::fs::remove_dir_all(to);
                return Err(format!(
                    "the project's files exceed {} GiB; release a pipeline run's artifacts instead",
                    MAX_RELEASE_BYTES >> 30
                ));
            }
        }
    }
    Ok((files, bytes))
}

/// Copies a run's artifacts to their paths under `to`; (files, bytes).
fn copy_artifacts(files: &[(String, PathBuf)], to: &Path) -> Result<(u64, u64), String> {
    let (mut count, mut bytes) = (0u64, 0u64);
    for (rel, stored) in files {
        let rel = Path::new(rel);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            continue;
        }
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        bytes += std::fs::copy(stored, &dest)
            .map_err(|e| format!("cannot copy artifact {}: {e}", rel.display()))?;
        count += 1;
    }
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    Ok((count, bytes))
}

/// (commit, its summary, branch) of the repository holding `folder`, if any.
fn git_head(folder: &Path) -> Option<(Option<String>, Option<String>, Option<String>)> {
    let repo = git2::Repository::discover(folder).ok()?;
    let head = repo.head().ok()?;
    let branch = head
        .is_branch()
        .then(|| head.shorthand().ok().map(str::to_owned))
        .flatten();
    let commit = head.peel_to_commit().ok()?;
    Some((
        Some(commit.id().to_string()),
        commit.summary().ok().flatten().map(str::to_owned),
        branch,
    ))
}

/// The keyed hash of the whole environment, and of each key's value.
fn digests(
    state: &AppState,
    vars: &BTreeMap<String, String>,
) -> (String, BTreeMap<String, String>) {
    let mut all = Vec::new();
    let mut keys = BTreeMap::new();
    for (k, v) in vars {
        all.extend_from_slice(k.as_bytes());
        all.push(0);
        all.extend_from_slice(v.as_bytes());
        all.push(0);
        keys.insert(
            k.clone(),
            state
                .crypto
                .digest(&format!("release-env:{k}"), v.as_bytes()),
        );
    }
    (state.crypto.digest("release-env", &all), keys)
}

/// The wire form of a release.
pub fn info(r: &release::Model, current: Option<i64>) -> ReleaseInfo {
    ReleaseInfo {
        id: r.id,
        project_id: r.project_id,
        number: r.number,
        source: r.source.clone(),
        commit: r.commit.clone(),
        commit_message: r.commit_message.clone(),
        branch: r.branch.clone(),
        pipeline_run_id: r.pipeline_run_id,
        services: services(r)
            .map(|s| s.into_iter().map(|d| d.name).collect())
            .unwrap_or_default(),
        env_digest: r.env_digest.chars().take(12).collect(),
        files: r.files,
        bytes: r.bytes,
        pinned: r.pinned,
        current: current == Some(r.id),
        pruned: r.pruned_at.is_some(),
        created_by: r.created_by.clone(),
        created_at: r.created_at.to_rfc3339(),
    }
}

/// Removes the files of releases beyond the newest `keep_releases` of a project, except pinned
/// ones, the one serving and the one a rollback would go to. The rows stay (history).
pub async fn prune(state: &AppState, project_id: i64) -> ServerResult<Vec<i64>> {
    let current = repo::deployments::current(&state.db, project_id).await?;
    let protected: Vec<i64> = current
        .iter()
        .flat_map(|d| [Some(d.release_id), d.previous_release_id])
        .flatten()
        .collect();
    let keep = usize::try_from(state.settings.keep_releases).unwrap_or(5);
    let mut pruned = Vec::new();
    let mut had_images = false;
    for r in repo::releases::of_project(&state.db, project_id)
        .await?
        .into_iter()
        .filter(|r| r.pruned_at.is_none())
        .skip(keep)
    {
        if r.pinned || protected.contains(&r.id) {
            continue;
        }
        if repo::releases::mark_pruned(&state.db, r.id, Utc::now()).await? {
            let dir = folder(state, &r);
            // Only ever a folder Optimus made, under its releases folder.
            if dir.starts_with(root(state)) && !r.path.is_empty() {
                let _ = std::fs::remove_dir_all(dir);
            }
            had_images |= services(&r).is_ok_and(|defs| {
                defs.iter()
                    .any(|d| d.deploy.target == DeployTarget::Docker && d.deploy.image.is_none())
            });
            pruned.push(r.number);
        }
    }
    if had_images {
        let kept: Vec<i64> = repo::releases::of_project(&state.db, project_id)
            .await?
            .into_iter()
            .filter(|r| r.pruned_at.is_none())
            .map(|r| r.number)
            .collect();
        super::targets::docker::prune_images(state, project_id, &kept).await;
    }
    Ok(pruned)
}

/// What changed from release `a` to release `b`.
pub fn diff(
    project: &Project,
    a: &release::Model,
    b: &release::Model,
) -> ServerResult<ReleaseDiff> {
    let (sa, sb) = (services(a)?, services(b)?);
    let mut changed = Vec::new();
    for d in &sb {
        match sa.iter().find(|x| x.name == d.name) {
            None => changed.push(format!("+ {}", d.name)),
            Some(old) if old != d => changed.push(format!(
                "~ {}: {}",
                d.name,
                changed_fields(old, d).join(", ")
            )),
            Some(_) => {}
        }
    }
    for d in sa.iter().filter(|x| !sb.iter().any(|y| y.name == x.name)) {
        changed.push(format!("- {}", d.name));
    }
    let (ka, kb) = (env_keys(a), env_keys(b));
    let added = kb
        .keys()
        .filter(|k| !ka.contains_key(*k))
        .cloned()
        .collect();
    let removed = ka
        .keys()
        .filter(|k| !kb.contains_key(*k))
        .cloned()
        .collect();
    let env_changed = kb
        .iter()
        .filter(|(k, v)| ka.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k.clone())
        .collect();
    Ok(ReleaseDiff {
        from: a.number,
        to: b.number,
        commits: commits_between(
            Path::new(&project.path),
            a.commit.as_deref(),
            b.commit.as_deref(),
        ),
        services: changed,
        env_added: added,
        env_removed: removed,
        env_changed,
    })
}

/// The fields of a service definition that differ.
fn changed_fields(a: &ServiceDefinition, b: &ServiceDefinition) -> Vec<&'static str> {
    let (ja, jb) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    const FIELDS: [&str; 15] = [
        "command",
        "cwd",
        "port",
        "allocate_port",
        "env",
        "depends_on",
        "probes",
        "restart",
        "grace_ms",
        "limits",
        "alerts",
        "public_port",
        "public_hosts",
        "deploy",
        "name",
    ];
    FIELDS
        .into_iter()
        .filter(|f| ja.get(*f) != jb.get(*f))
        .collect()
}

/// Commits reachable from `to` but not from `from` (newest first, at most 50).
fn commits_between(folder: &Path, from: Option<&str>, to: Option<&str>) -> Vec<String> {
    let (Some(from), Some(to)) = (from, to) else {
        return Vec::new();
    };
    let walk = || -> Result<Vec<String>, git2::Error> {
        let repo = git2::Repository::discover(folder)?;
        let mut walk = repo.revwalk()?;
        walk.push(git2::Oid::from_str(to)?)?;
        walk.hide(git2::Oid::from_str(from)?)?;
        let mut out = Vec::new();
        for oid in walk.take(50) {
            let c = repo.find_commit(oid?)?;
            let id = c.id().to_string();
            out.push(format!(
                "{} {}",
                id.get(..8).unwrap_or(&id),
                c.summary().ok().flatten().unwrap_or("")
            ));
        }
        Ok(out)
    };
    walk().unwrap_or_default()
}
