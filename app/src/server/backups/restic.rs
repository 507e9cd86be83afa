//! The one place that speaks to restic repositories, through `rustic_core` (pinned exactly in
//! the workspace manifest: its API changes between minor versions). Everything here blocks
//! (rustic uses threads and rayon): call it from `spawn_blocking`. Errors are one line each.
//!
//! Repositories are written in restic's format version 2 (zstd), which plain `restic` 0.14 and
//! later open. rustic takes no restic locks: the worker runs one job at a time per repository,
//! and nothing else should write to it while Optimus does (reading with `restic` is fine).

use crate::models::backups::{KeepRule, PhaseTime, SnapshotEntry, VerifyLevel};
use rustic_backend::BackendOptions;
use rustic_core::repofile::{NodeType, SnapshotFile, SnapshotId};
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, ForgetGroups, Grouped, KeepOptions,
    KeyOptions, LocalSourceFilterOptions, LsOptions, OpenStatus, ParentOptions, PathList, Progress,
    ProgressBars, ProgressType, PruneOptions, ReadSubsetOption, Repository, RepositoryOptions,
    RusticError, RusticProgress, SnapshotGroupCriterion, SnapshotOptions,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

mod dumps;
mod remote;
mod restore;
mod source;
use dumps::StreamSource;
pub use dumps::{find_dump, read_dump, Dump, Dumped, FoundDump};
pub use remote::{check as check_remote, location as remote_location, restic_env};
pub use restore::{restore, Part, RestoreTo, Restored};
pub use source::Unread;

/// A repository and its password.
#[derive(Clone)]
pub struct Repo {
    /// Its folder, or for a remote repository where it is (as shown).
    pub path: PathBuf,
    pub password: String,
    /// The server holding it, when it is not a local folder.
    pub remote: Option<crate::models::backups::BackupRemote>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What a job is doing and its bytes done and to do, as rustic reports them (shared with the
/// task writing progress).
#[derive(Debug, Default)]
pub struct Counters {
    pub done: AtomicU64,
    pub total: AtomicU64,
    pub phase: std::sync::Mutex<&'static str>,
    /// Each phase entered and when, in order.
    entered: std::sync::Mutex<Vec<(&'static str, std::time::Instant)>>,
    /// Set when the job lost its lease: it must stop writing (another instance may take the
    /// repository over).
    pub cancelled: std::sync::atomic::AtomicBool,
}

impl Counters {
    /// Says what the job does now.
    pub fn enter(&self, phase: &'static str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
        if let Ok(mut e) = self.entered.lock() {
            e.push((phase, std::time::Instant::now()));
        }
    }

    /// How long each phase took so far, in the order first entered (a phase entered twice
    /// counts both times).
    pub fn timings(&self) -> Vec<PhaseTime> {
        let Ok(entered) = self.entered.lock() else {
            return Vec::new();
        };
        let now = std::time::Instant::now();
        let mut out: Vec<PhaseTime> = Vec::new();
        for (i, (phase, at)) in entered.iter().enumerate() {
            let until = entered.get(i + 1).map_or(now, |(_, t)| *t);
            let seconds = until.saturating_duration_since(*at).as_secs_f64();
            match out.iter_mut().find(|p| p.phase == *phase) {
                Some(p) => p.seconds += seconds,
                None => out.push(PhaseTime {
                    phase: (*phase).to_owned(),
                    seconds,
                }),
            }
        }
        out
    }

    /// Stops the job before its next step.
    pub fn cancel(&self) {
        self.cancelled.store(true, Relaxed);
    }

    /// `Err` once the job was told to stop.
    pub fn go_on(&self) -> Result<(), String> {
        if self.cancelled.load(Relaxed) {
            return Err(
                "the job lost its lease (its instance could not renew it); it stopped".into(),
            );
        }
        Ok(())
    }

    /// The phase now (`""` before the first).
    pub fn phase(&self) -> &'static str {
        self.phase.lock().map(|p| *p).unwrap_or("")
    }
}

#[derive(Debug, Clone)]
struct Bars(Arc<Counters>);

#[derive(Debug)]
struct Bar(Arc<Counters>, bool);

impl RusticProgress for Bar {
    // Not hidden: a hidden bar makes the backup skip the size scan, and there is no total.
    fn is_hidden(&self) -> bool {
        !self.1
    }
    fn set_length(&self, n: u64) {
        if self.1 {
            self.0.total.store(n, Relaxed)
        }
    }
    fn set_title(&self, _: &str) {}
    fn inc(&self, n: u64) {
        if self.1 {
            self.0.done.fetch_add(n, Relaxed);
        }
    }
    fn finish(&self) {}
}

impl ProgressBars for Bars {
    fn progress(&self, t: ProgressType, _prefix: &str) -> Progress {
        let bytes = matches!(t, ProgressType::Bytes);
        if bytes {
            self.0.total.store(0, Relaxed);
            self.0.done.store(0, Relaxed);
        }
        Progress::new(Bar(self.0.clone(), bytes))
    }
}

/// One line for a rustic error (its `Display` spans lines and carries a backtrace).
fn line(e: impl AsRef<RusticError>) -> String {
    line_of(e.as_ref())
}

fn line_of(e: &RusticError) -> String {
    let s = e.display_log();
    s.strip_prefix("Error: ").unwrap_or(&s).trim().to_owned()
}

fn options() -> RepositoryOptions {
    // No cache: for a local repository it would only copy it, and it would go to $HOME. A
    // remote repository's index is read from the server again by each job.
    RepositoryOptions::default().no_cache(true)
}

/// The repository's backend, and whether a repository is there already.
fn new(repo: &Repo, counters: Option<Arc<Counters>>) -> Result<(Repository<()>, bool), String> {
    let (backends, exists) = match &repo.remote {
        None => (
            BackendOptions::default()
                .repository(format!("local:{}", repo.path.display()))
                .to_backends()
                .map_err(line)?,
            repo.path.join("config").exists(),
        ),
        Some(r) => remote::backends(r)?,
    };
    let repository = match counters {
        Some(c) => Repository::new_with_progress(&options(), &backends, Bars(c)).map_err(line)?,
        None => Repository::new(&options(), &backends).map_err(line)?,
    };
    Ok((repository, exists))
}

/// Opens the repository. With `create`, a place holding none gets a new one (only a policy's
/// backup may make it: anything else finding no repository reports it missing, so a lost or
/// unmounted repository is never silently replaced by an empty one).
pub fn open(
    repo: &Repo,
    counters: Option<Arc<Counters>>,
    create: bool,
) -> Result<Repository<OpenStatus>, String> {
    let credentials = Credentials::password(&repo.password);
    let (repository, exists) = new(repo, counters)?;
    if exists {
        return repository.open(&credentials).map_err(line);
    }
    if !create {
        return Err(format!(
            "there is no repository at {} (was it moved or removed?)",
            repo.path.display()
        ));
    }
    if repo.remote.is_none() {
        std::fs::create_dir_all(&repo.path)
            .map_err(|e| format!("could not create {}: {e}", repo.path.display()))?;
    }
    let opened = repository
        .init(
            &credentials,
            &KeyOptions::default().with_created(true),
            &ConfigOptions::default(),
        )
        .map_err(line)?;
    if repo.remote.is_none() {
        // restic writes its locks here; rustic takes none and does not make the folder.
        let _ = std::fs::create_dir_all(repo.path.join("locks"));
    }
    Ok(opened)
}

/// Whether a remote repository can be reached, and holds no repository yet (a new policy's
/// repository is made by its first backup, with a password of its own).
pub fn probe_remote(remote: &crate::models::backups::BackupRemote) -> Result<bool, String> {
    remote::backends(remote).map(|(_, exists)| exists)
}

/// `root/rel` when it resolves inside `root` (a symlink may not lead a backup out of the
/// project's folder).
pub fn inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let full = root.join(rel);
    let real_root = root
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let real = full
        .canonicalize()
        .map_err(|_| format!("{} does not exist", full.display()))?;
    if !real.starts_with(&real_root) {
        return Err(format!(
            "{} leads outside the project's folder (to {})",
            full.display(),
            real.display()
        ));
    }
    Ok(full)
}

/// What a backup made.
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub id: String,
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    pub added_bytes: u64,
    /// Files and folders that could not be read, and so are not in the snapshot.
    pub unread: Unread,
}

/// What a backup did: the files' snapshot (when it backs up paths) and the dumps', then the
/// structure check and retention (each may fail without making the snapshots any less good).
#[derive(Debug)]
pub struct BackedUp {
    pub made: Option<Made>,
    pub dumps: Vec<Dumped>,
    pub checked: Result<(), String>,
    pub removed: Result<Vec<String>, String>,
}

/// What a backup is of.
pub struct Plan {
    /// The project's folder; `paths` and `excludes` are relative to it.
    pub root: PathBuf,
    pub paths: Vec<String>,
    pub excludes: Vec<String>,
    pub dumps: Vec<Box<dyn Dump>>,
    /// Its snapshots' label.
    pub label: String,
    pub keep: KeepRule,
    /// Whether a missing repository is made (the policy's first backup) or is an error.
    pub create: bool,
}

fn snapshot_options(
    label: &str,
    tags: &str,
    time: &rustic_core::jiff::Zoned,
) -> Result<SnapshotFile, String> {
    SnapshotOptions::default()
        .label(label.to_owned())
        .command("optimus backup".to_owned())
        .time(time.clone())
        .add_tags(tags)
        .map_err(line)?
        .to_snapshot()
        .map_err(line)
}

/// Backs up: each database dump into its own snapshot, then `paths` (relative to `root`) as one
/// snapshot, leaving out what the `excludes` globs and the folders' `.gitignore` files exclude;
/// every snapshot of one backup has the same time, so retention treats them alike. Then checks
/// the repository's structure and applies `keep`. A dump that fails removes every snapshot this
/// backup wrote: a backup is whole or it is not there. The repository is opened once (its key
/// derivation is costly).
pub fn backup(repo: &Repo, plan: Plan, counters: Arc<Counters>) -> Result<BackedUp, String> {
    let Plan {
        root,
        paths,
        excludes,
        mut dumps,
        label,
        keep,
        create,
    } = plan;
    let mut sources = Vec::with_capacity(paths.len());
    for p in &paths {
        sources.push(inside(&root, p)?.display().to_string());
    }
    let time = jiff_now();
    counters.enter("opening");
    let indexed = open(repo, Some(counters.clone()), create)?
        .to_indexed_ids()
        .map_err(line)?;
    let mut written: Vec<SnapshotId> = Vec::new();
    let mut stored = Vec::new();
    let undo = |written: &[SnapshotId], why: String| -> String {
        match indexed.delete_snapshots(written) {
            Ok(()) => why,
            Err(e) => format!(
                "{why} (and its snapshots could not be removed from the repository: {})",
                line(e)
            ),
        }
    };
    for d in dumps.iter_mut() {
        counters.go_on()?;
        counters.enter("dumping databases");
        let name = d.name().to_owned();
        let file = d.file();
        let started = std::time::Instant::now();
        let reader = match d.start() {
            Ok(r) => r,
            Err(why) => return Err(undo(&written, format!("database `{name}`: {why}"))),
        };
        let src = StreamSource {
            path: PathBuf::from(&file),
            open: std::sync::Mutex::new(Some(reader)),
        };
        // No parent: a stream has no metadata to tell a changed dump from an unchanged one.
        let opts = BackupOptions::default().parent_opts(ParentOptions::default().force(true));
        let snap = snapshot_options(&label, &format!("optimus,database:{name}"), &time)?;
        let archived = indexed.archive(&opts, &src, snap, &[PathBuf::from(&file)]);
        let finished = d.finish();
        let snap = match archived {
            Ok(s) => s,
            Err(e) => return Err(undo(&written, format!("database `{name}`: {}", line(e)))),
        };
        written.push(snap.id);
        if let Err(why) = finished {
            return Err(undo(&written, format!("database `{name}`: {why}")));
        }
        stored.push(Dumped {
            name,
            kind: d.kind(),
            file,
            made: made_of(&snap),
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }
    let made = if sources.is_empty() {
        None
    } else {
        counters.go_on()?;
        let list = PathList::from_iter(sources.iter().map(PathBuf::from))
            .sanitize()
            .map_err(|e| format!("the paths to back up: {e}"))?;
        let snap = snapshot_options(&label, "optimus", &time)?;
        // The parent is the policy's last backup of these paths, whichever instance made it.
        let opts = files_options(None, &excludes);
        counters.enter("backing up");
        match source::back_up(&indexed, &opts, &list, snap) {
            Ok((s, unread)) => Some(Made {
                unread,
                ..made_of(&s)
            }),
            Err(e) => return Err(undo(&written, line(e))),
        }
    };
    let opened = indexed.drop_index();
    counters.go_on()?;
    counters.enter("checking");
    let checked = check_opened(&opened, VerifyLevel::Structure, 0);
    counters.go_on()?;
    // Retention only after a good check: a damaged repository is not pruned.
    counters.enter("retention");
    let removed = match &checked {
        Ok(()) => forget_opened(&opened, &keep),
        Err(_) => Ok(Vec::new()),
    };
    Ok(BackedUp {
        made,
        dumps: stored,
        checked,
        removed,
    })
}

/// How files are backed up: leaving out what the `excludes` globs and the folders' `.gitignore`
/// files exclude, with `parent` (a restic id) as the parent snapshot, or else the last one of
/// the same label, paths and tags.
fn files_options(parent: Option<&str>, excludes: &[String]) -> BackupOptions {
    let parent = match parent {
        Some(id) => ParentOptions::default().parents(vec![id.to_owned()]),
        None => ParentOptions::default().group_by(
            SnapshotGroupCriterion::new()
                .label(true)
                .paths(true)
                .tags(true),
        ),
    };
    let globs = excludes.iter().map(|g| format!("!{g}")).collect::<Vec<_>>();
    BackupOptions::default()
        .parent_opts(parent)
        .excludes(rustic_core::Excludes::default().globs(globs))
        .ignore_filter_opts(
            LocalSourceFilterOptions::default()
                .git_ignore(true)
                .no_require_git(true),
        )
}

/// Backs up `target` (a file or folder that an in-place restore is about to overwrite) into a
/// snapshot tagged `optimus,safety`, then checks the repository's structure: the restore goes
/// on only over what could be brought back. `parent` (a restic id, the policy's last backup)
/// spares reading the files unchanged since. Retention treats safety snapshots as a group of
/// their own (`--group-by tags`).
pub fn safety(
    repo: &Repo,
    target: &Path,
    excludes: &[String],
    label: &str,
    parent: Option<&str>,
    counters: Arc<Counters>,
) -> Result<Made, String> {
    counters.enter("opening");
    let indexed = open(repo, Some(counters.clone()), false)?
        .to_indexed_ids()
        .map_err(line)?;
    counters.go_on()?;
    counters.enter("safety snapshot");
    let list = PathList::from_iter([target.to_path_buf()])
        .sanitize()
        .map_err(|e| format!("{}: {e}", target.display()))?;
    let snap = snapshot_options(label, "optimus,safety", &jiff_now())?;
    let (made, unread) = source::back_up(&indexed, &files_options(parent, excludes), &list, snap)
        .map_err(|e| format!("the safety snapshot failed: {}", line(e)))?;
    let opened = indexed.drop_index();
    counters.enter("checking");
    check_opened(&opened, VerifyLevel::Structure, 0).map_err(|e| {
        format!("the repository failed its structure check after the safety snapshot: {e}")
    })?;
    Ok(Made {
        unread,
        ..made_of(&made)
    })
}

fn made_of(s: &SnapshotFile) -> Made {
    let summary = s.summary.clone().unwrap_or_default();
    Made {
        id: s.id.to_hex().as_str().to_owned(),
        files: summary.total_files_processed,
        dirs: summary.total_dirs_processed,
        bytes: summary.total_bytes_processed,
        added_bytes: summary.data_added,
        unread: Unread::default(),
    }
}

/// Applies `keep` to the repository's snapshots (see [`forget_opened`]); the ids removed.
pub fn forget(repo: &Repo, keep: &KeepRule) -> Result<Vec<String>, String> {
    forget_opened(&open(repo, None, false)?, keep)
}

/// Removes the snapshots `keep` does not keep and the data only they used; the ids removed.
/// `keep` means what it means to `restic forget --group-by tags`: the files' snapshots are one
/// group and each database's dumps another.
fn forget_opened(repo: &Repository<OpenStatus>, keep: &KeepRule) -> Result<Vec<String>, String> {
    if keep.keeps_all() {
        return Ok(Vec::new());
    }
    let mut k = KeepOptions::default();
    let n = |v: u32| (v > 0).then(|| i32::try_from(v).unwrap_or(i32::MAX));
    k.keep_last = n(keep.last);
    k.keep_hourly = n(keep.hourly);
    k.keep_daily = n(keep.daily);
    k.keep_weekly = n(keep.weekly);
    k.keep_monthly = n(keep.monthly);
    k.keep_yearly = n(keep.yearly);
    let snapshots = repo.get_all_snapshots().map_err(line)?;
    let groups = Grouped::from_items(snapshots, SnapshotGroupCriterion::new().tags(true));
    let plan = ForgetGroups::from_grouped_snapshots_with_retention(groups, &k, &jiff_now())
        .map_err(line)?;
    let ids = plan.into_forget_ids();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let removed = ids
        .iter()
        .map(|i| i.to_hex().as_str().to_owned())
        .collect::<Vec<_>>();
    repo.delete_snapshots(&ids).map_err(line)?;
    // One job at a time per repository: packs may go at once (a two-phase delete leaves a
    // rustic-only mark that plain restic would not understand).
    let popts = PruneOptions::default().instant_delete(true);
    let plan = repo.prune_plan(&popts).map_err(line)?;
    repo.prune(&popts, plan).map_err(line)?;
    Ok(removed)
}

fn jiff_now() -> rustic_core::jiff::Zoned {
    rustic_core::jiff::Zoned::now()
}

/// Checks the repository: its structure (indexes, pack headers, trees), and at `Subset` or
/// `Full` the data packs too (`percent` of them at `Subset`). `Err` lists what is wrong.
pub fn check(repo: &Repo, level: VerifyLevel, percent: u32) -> Result<(), String> {
    check_opened(&open(repo, None, false)?, level, percent)
}

fn check_opened(
    repo: &Repository<OpenStatus>,
    level: VerifyLevel,
    percent: u32,
) -> Result<(), String> {
    let mut opts = CheckOptions::default();
    match level {
        VerifyLevel::Structure => {}
        VerifyLevel::Subset => {
            let subset: ReadSubsetOption = format!("{}%", percent.clamp(1, 100))
                .parse()
                .map_err(|e| format!("subset: {e:?}"))?;
            opts = opts.read_data(true).read_data_subset(subset);
        }
        VerifyLevel::Full => opts = opts.read_data(true),
    }
    let found = repo.check(opts).map_err(line)?;
    let problems = found
        .0
        .iter()
        .filter(|(level, _)| format!("{level:?}") == "Error")
        .map(|(_, e)| e.to_string())
        .collect::<Vec<_>>();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The node path of `inner` (relative to `root`) inside a snapshot.
fn node_path(root: &str, inner: Option<&str>) -> String {
    let mut p = PathBuf::from(root);
    if let Some(i) = inner.filter(|i| !i.is_empty() && *i != ".") {
        p.push(i);
    }
    p.display().to_string()
}

/// The entries of folder `inner` (relative to `root`) of snapshot `id`.
pub fn list(
    repo: &Repo,
    id: &str,
    root: &str,
    inner: Option<&str>,
) -> Result<Vec<SnapshotEntry>, String> {
    let repo = open(repo, None, false)?.to_indexed_ids().map_err(line)?;
    let snap = repo.get_snapshot_from_str(id, |_| true).map_err(line)?;
    let at = node_path(root, inner);
    let node = repo
        .node_from_snapshot_and_path(&snap, &at)
        .map_err(|_| format!("{} is not in the snapshot", inner.unwrap_or(".")))?;
    let base = PathBuf::from(inner.unwrap_or(""));
    let mut out = Vec::new();
    for item in repo
        .ls(&node, &LsOptions::default().recursive(false))
        .map_err(line)?
    {
        let (path, n) = item.map_err(line)?;
        let kind = match n.node_type {
            NodeType::File => "file",
            NodeType::Dir => "dir",
            NodeType::Symlink { .. } => "symlink",
            _ => "other",
        };
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(SnapshotEntry {
            path: base.join(&path).display().to_string(),
            name,
            kind: kind.to_owned(),
            size: n.meta.size,
            mode: n.meta.mode,
            modified: n.meta.mtime.map(|t| t.to_string()),
        });
    }
    Ok(out)
}
