//! Restores from a repository: to a new path (taken at once) or in place over what is there,
//! each read back and compared with the snapshot.

use super::{line, node_path, open, Counters, Repo};
use rustic_core::repofile::{Node, NodeType};
use rustic_core::{LocalDestination, LsOptions, RestoreOptions};
use std::path::Path;
use std::sync::Arc;

/// What a restore wrote (or, in a dry run, would write).
#[derive(Debug, Clone, Default)]
pub struct Restored {
    pub files: u64,
    pub bytes: u64,
    pub unchanged: u64,
    /// The files written (or that would be): new, or differing from the snapshot.
    pub changes: Vec<String>,
    /// Files and folders at the target the snapshot does not hold, left as they are.
    pub extra: u64,
    pub verified: bool,
}

/// Where a restore writes and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTo {
    /// A new path, taken at once (see [`claim_target`]).
    New,
    /// Over what is there: files that differ are rewritten, missing ones created, others left.
    InPlace,
}

/// What of a snapshot a restore reads.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// The snapshot's restic id.
    pub id: &'a str,
    /// The project's folder when the snapshot was made.
    pub root: &'a str,
    /// A file or folder relative to `root`; all of it when `None`.
    pub inner: Option<&'a str>,
}

/// Restores `part` of a snapshot into `target`, then reads every restored file back and
/// compares it with the snapshot.
pub fn restore(
    repo: &Repo,
    part: Part<'_>,
    target: &Path,
    into: RestoreTo,
    dry_run: bool,
    counters: Arc<Counters>,
) -> Result<Restored, String> {
    let Part { id, root, inner } = part;
    counters.enter("opening");
    let repo = open(repo, Some(counters.clone()), false)?
        .to_indexed()
        .map_err(line)?;
    let snap = repo.get_snapshot_from_str(id, |_| true).map_err(line)?;
    let at = node_path(root, inner);
    let node = repo
        .node_from_snapshot_and_path(&snap, &at)
        .map_err(|_| format!("{} is not in the snapshot", inner.unwrap_or(".")))?;
    if !dry_run && into == RestoreTo::New {
        claim_target(target, node.is_dir())?;
    }
    let target_s = target.display().to_string();
    let dest = LocalDestination::new(&target_s, !dry_run, !node.is_dir()).map_err(line)?;
    let opts = RestoreOptions::default().no_ownership(true);
    let ls = repo.ls(&node, &LsOptions::default()).map_err(line)?;
    counters.enter("planning");
    let mut changes = Vec::new();
    for item in ls.clone() {
        let (path, n) = item.map_err(line)?;
        if changes.len() >= 1000 {
            break;
        }
        let on_disk = if node.is_dir() {
            target.join(&path)
        } else {
            target.to_path_buf()
        };
        if n.node_type == NodeType::File && differs(&on_disk, &n) {
            changes.push(path.display().to_string());
        }
    }
    let plan = repo
        .prepare_restore(&opts, ls.clone(), &dest, dry_run)
        .map_err(line)?;
    let mut out = Restored {
        files: plan.stats.files.restore + plan.stats.files.modify,
        bytes: plan.restore_size,
        unchanged: plan.stats.files.unchanged + plan.stats.files.verified,
        changes,
        extra: plan.stats.files.additional + plan.stats.dirs.additional,
        verified: false,
    };
    if dry_run {
        return Ok(out);
    }
    counters.enter("restoring");
    repo.restore(plan, &opts, ls.clone(), &dest).map_err(line)?;
    counters.enter("reading back");
    // Read back: every file is hashed against the snapshot; nothing may be left to restore.
    let check = RestoreOptions::default()
        .no_ownership(true)
        .verify_existing(true);
    let again = repo
        .prepare_restore(&check, ls, &dest, true)
        .map_err(line)?;
    let left = again.stats.files.restore + again.stats.files.modify;
    if left > 0 || again.restore_size > 0 {
        return Err(format!(
            "the restore could not be verified: {left} files ({} bytes) differ from the snapshot after it was written",
            again.restore_size
        ));
    }
    out.verified = true;
    Ok(out)
}

/// Whether the file at `on_disk` would be written by a restore of `n`: it is missing, or its
/// size or modification time differ (the test `restic restore` makes before reading a file).
fn differs(on_disk: &Path, n: &Node) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(on_disk) else {
        return true;
    };
    if !meta.is_file() || meta.len() != n.meta.size {
        return true;
    }
    if n.meta.size == 0 {
        return false;
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| rustic_core::jiff::Timestamp::try_from(t).ok());
    mtime != n.meta.mtime
}

/// Takes `target` for a restore at once, so two restores can never write into one place: a new
/// folder is made (it must not exist, or be an empty folder), a new file created empty.
fn claim_target(target: &Path, dir: bool) -> Result<(), String> {
    let taken =
        |e: std::io::Error| format!("{}: {e} (restores go to a new path)", target.display());
    if dir {
        match std::fs::create_dir(target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let empty = std::fs::read_dir(target)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false);
                if empty && target.is_dir() {
                    Ok(())
                } else {
                    Err(taken(e))
                }
            }
            Err(e) => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(taken)?;
                    return std::fs::create_dir(target).map_err(taken);
                }
                Err(taken(e))
            }
        }
    } else {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(taken)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(target)
            .map(|_| ())
            .map_err(taken)
    }
}
