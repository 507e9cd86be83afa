//! Walking a workspace: finding project roots, fingerprinting them so an unchanged project costs
//! a few `stat` calls on a rescan, and examining the ones that changed. Blocking: call from
//! `spawn_blocking`. Symlinks are never followed; nothing is written.

use super::{descriptor, detect, git};
use crate::models::catalog::{Component, GitState};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Folders never descended into.
pub const SKIPPED: [&str; 14] = [
    "node_modules",
    "target",
    ".venv",
    "venv",
    "vendor",
    "dist",
    "build",
    "out",
    "__pycache__",
    ".next",
    ".nuxt",
    ".gradle",
    "bin",
    "obj",
];

/// How deep below the workspace a project root may sit.
pub const MAX_DEPTH: usize = 6;

/// Project roots under `workspace`, and how many folders were examined. `progress` is called
/// with the running folder count.
pub fn discover(
    workspace: &Path,
    progress: &mut dyn FnMut(u32),
) -> (Vec<PathBuf>, u32, Vec<String>) {
    let mut roots = Vec::new();
    let mut errors = Vec::new();
    let mut folders = 0u32;
    walk(
        workspace,
        0,
        &mut roots,
        &mut folders,
        &mut errors,
        progress,
    );
    roots.sort();
    (roots, folders, errors)
}

fn walk(
    dir: &Path,
    depth: usize,
    roots: &mut Vec<PathBuf>,
    folders: &mut u32,
    errors: &mut Vec<String>,
    progress: &mut dyn FnMut(u32),
) {
    *folders += 1;
    if (*folders).is_multiple_of(64) {
        progress(*folders);
    }
    // A bare index.html makes a static-site project at discovery level only; inside a project
    // it is just one of its files.
    if git::is_repo_root(dir) || detect::is_project_dir(dir) || dir.join("index.html").is_file() {
        roots.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries
        .flatten()
        // `file_type` does not follow symlinks, so a link out of the workspace is never walked.
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && !SKIPPED.contains(&name.as_ref())
        })
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        walk(&child, depth + 1, roots, folders, errors, progress);
    }
}

fn stat_line(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("{}:{}:{mtime}\n", path.display(), m.len())
        }
        Err(_) => format!("{}:-\n", path.display()),
    }
}

/// A cheap summary of what detection and git state depend on: the root folder, the manifests and
/// lock files, and git's HEAD, index and refs. Equal fingerprints mean nothing to re-examine.
pub fn fingerprint(root: &Path) -> String {
    let mut h = Sha256::new();
    h.update(stat_line(root));
    for m in detect::MANIFESTS.iter().chain(
        [
            "package-lock.json",
            "pnpm-lock.yaml",
            "yarn.lock",
            "uv.lock",
            "Makefile",
            "justfile",
            "index.html",
            "manage.py",
            "artisan",
        ]
        .iter(),
    ) {
        h.update(stat_line(&root.join(m)));
    }
    let git_dir = root.join(".git");
    if git_dir.is_dir() {
        for f in [
            "HEAD",
            "index",
            "packed-refs",
            "FETCH_HEAD",
            "refs/heads",
            "refs/remotes/origin",
        ] {
            h.update(stat_line(&git_dir.join(f)));
        }
        if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD")) {
            h.update(head.as_bytes());
            if let Some(r) = head.trim().strip_prefix("ref: ") {
                h.update(stat_line(&git_dir.join(r)));
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything examined about one project root.
#[derive(Debug, Clone)]
pub struct Examined {
    /// The detection result.
    pub detection: detect::Detection,
    /// Git state, if a repository.
    pub git: Option<GitState>,
    /// Monorepo components.
    pub components: Vec<Component>,
    /// The project's `optimus.toml`, when present and valid.
    pub descriptor: Option<descriptor::Descriptor>,
}

/// Examines a project root: detection, git state and components (nested manifests up to three
/// levels down, honouring `.gitignore`).
pub fn examine(root: &Path) -> Examined {
    let mut detection = detect::detect(root);
    let descriptor = match descriptor::read(root) {
        Some(Ok(d)) => {
            d.apply(&mut detection);
            Some(d)
        }
        Some(Err(e)) => {
            detection.errors.push(e);
            None
        }
        None => None,
    };
    let git = match git::read_state(root) {
        Ok(g) => g,
        Err(e) => {
            detection.errors.push(e);
            None
        }
    };
    let mut components = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .max_depth(Some(3))
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !SKIPPED.contains(&name.as_ref())
        })
        .build();
    for entry in walker.flatten() {
        if entry.depth() == 0 || !entry.file_type().is_some_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        if detect::is_project_dir(dir) {
            if let Some(c) = detect::component(root, dir) {
                for s in &c.stacks {
                    detection.stacks.insert(*s);
                }
                components.push(c);
            }
        }
    }
    components.sort_by(|a, b| a.path.cmp(&b.path));
    Examined {
        detection,
        git,
        components,
        descriptor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_project_roots_and_skips_dependency_folders() {
        let base = std::env::temp_dir().join(format!("optimus-scan-{}", uuid::Uuid::new_v4()));
        let mk = |p: &str, f: &str| {
            let d = base.join(p);
            let _ = std::fs::create_dir_all(&d);
            let _ = std::fs::write(d.join(f), "{}");
        };
        mk("a", "package.json");
        mk("a/node_modules/dep", "package.json");
        mk("a/packages/ui", "package.json");
        mk("group/b", "go.mod");
        mk("target/c", "Cargo.toml");
        let (roots, folders, errors) = discover(&base, &mut |_| {});
        let names: Vec<_> = roots
            .iter()
            .map(|r| {
                r.strip_prefix(&base)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(names, vec!["a", "group/b"]);
        assert!(folders >= 3);
        assert!(errors.is_empty());
        let examined = examine(&base.join("a"));
        assert_eq!(examined.components.len(), 1, "{:?}", examined.components);
        assert_eq!(examined.components[0].path, "packages/ui");
        assert_eq!(fingerprint(&base.join("a")), fingerprint(&base.join("a")));
        let _ = std::fs::remove_dir_all(&base);
    }
}
