//! The project's files as a backup reads them, watched for what cannot be read. rustic logs a
//! file or folder it cannot read (permissions, an I/O error half way) and leaves it out of the
//! snapshot, as `restic` does before exiting with status 3; Optimus counts them and names the
//! first, so a backup that is missing files says so instead of passing for whole. A file gone
//! between listing and reading (a temporary file) is not counted: there was nothing to keep.

use super::line_of;
use rustic_core::repofile::SnapshotFile;
use rustic_core::{
    BackupOptions, IndexedIds, LocalSource, PathList, ReadSource, ReadSourceEntry, ReadSourceOpen,
    Repository, RusticResult,
};
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How many unreadable paths are named (all are counted).
const NAMED: usize = 20;

/// What could not be read: how many, and the first few with why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unread {
    pub count: u64,
    pub first: Vec<String>,
}

#[derive(Debug, Default)]
struct Tally(Mutex<Unread>);

impl Tally {
    fn note(&self, what: String) {
        if let Ok(mut u) = self.0.lock() {
            u.count += 1;
            if u.first.len() < NAMED {
                u.first.push(what);
            }
        }
    }
}

/// What went wrong underneath a rustic error, said briefly: the error it wraps (the walker's
/// names the path), else rustic's own line.
fn said(e: &rustic_core::RusticError) -> String {
    match std::error::Error::source(e) {
        Some(inner) => inner.to_string(),
        None => line_of(e),
    }
}

/// Whether the path was gone by the time it was read (a temporary file removed between listing
/// and reading): not a file the backup failed to keep.
fn vanished(e: &rustic_core::RusticError) -> bool {
    let mut cur = std::error::Error::source(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::NotFound;
        }
        cur = err.source();
    }
    false
}

type Inner = <LocalSource as ReadSource>::Open;
type InnerReader = <Inner as ReadSourceOpen>::Reader;

/// A [`LocalSource`] that tells its [`Tally`] what it could not read.
struct Watched {
    inner: LocalSource,
    tally: Arc<Tally>,
}

/// A file to open, watched.
struct WatchedOpen {
    inner: Inner,
    path: PathBuf,
    tally: Arc<Tally>,
}

/// An open file, watched: its first read error is noted.
struct WatchedRead {
    inner: InnerReader,
    path: PathBuf,
    tally: Arc<Tally>,
    failed: bool,
}

impl Read for WatchedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf);
        if let Err(e) = &read {
            if !self.failed && e.kind() != std::io::ErrorKind::Interrupted {
                self.failed = true;
                self.tally.note(format!("{}: {e}", self.path.display()));
            }
        }
        read
    }
}

impl ReadSourceOpen for WatchedOpen {
    type Reader = WatchedRead;

    fn open(self) -> RusticResult<WatchedRead> {
        match self.inner.open() {
            Ok(inner) => Ok(WatchedRead {
                inner,
                path: self.path,
                tally: self.tally,
                failed: false,
            }),
            Err(e) => {
                if !vanished(&e) {
                    self.tally
                        .note(format!("{}: {}", self.path.display(), said(&e)));
                }
                Err(e)
            }
        }
    }
}

type Entries = Box<dyn Iterator<Item = RusticResult<ReadSourceEntry<WatchedOpen>>> + Send>;

impl ReadSource for Watched {
    type Open = WatchedOpen;
    type Iter = Entries;

    fn size(&self) -> RusticResult<Option<u64>> {
        self.inner.size()
    }

    fn entries(&self) -> Entries {
        let tally = self.tally.clone();
        Box::new(self.inner.entries().map(move |entry| match entry {
            Err(e) => {
                if !vanished(&e) {
                    tally.note(said(&e));
                }
                Err(e)
            }
            Ok(ReadSourceEntry { path, node, open }) => Ok(ReadSourceEntry {
                open: open.map(|inner| WatchedOpen {
                    inner,
                    path: path.clone(),
                    tally: tally.clone(),
                }),
                path,
                node,
            }),
        }))
    }
}

/// Backs up `list` as `rustic_core`'s own `backup` does, counting what could not be read.
pub(super) fn back_up<S: IndexedIds>(
    repo: &Repository<S>,
    opts: &BackupOptions,
    list: &PathList,
    snap: SnapshotFile,
) -> RusticResult<(SnapshotFile, Unread)> {
    let paths = list.paths();
    let inner = LocalSource::new(
        opts.ignore_save_opts,
        &opts.excludes,
        &opts.ignore_filter_opts,
        &paths,
    )?;
    let tally = Arc::new(Tally::default());
    let src = Watched {
        inner,
        tally: tally.clone(),
    };
    let made = repo.archive(opts, &src, snap, &paths)?;
    let unread = tally.0.lock().map(|u| u.clone()).unwrap_or_default();
    Ok((made, unread))
}
