//! Database dumps in a repository: a dump is a stream stored as one file in a snapshot of its
//! own (tagged `database:<name>`), found again by id or tag and read back out.

use super::{line, open, Counters, Made, Repo};
use crate::models::backups::DatabaseKind;
use rustic_core::repofile::{Metadata, Node, NodeType};
use rustic_core::{ReadSource, ReadSourceEntry, RusticResult};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// A database dump stored with a backup: a stream kept as one file in its own snapshot
/// (tagged `database:<name>`), judged only once it has been read to its end.
pub trait Dump: Send {
    /// The policy's name for the database.
    fn name(&self) -> &str;
    /// What kind of database it dumps.
    fn kind(&self) -> DatabaseKind;
    /// The file's name inside its snapshot.
    fn file(&self) -> String;
    /// Starts the dump: its bytes.
    fn start(&mut self) -> Result<Box<dyn Read + Send>, String>;
    /// After every byte was stored: `Err` when the dump failed or is incomplete (its snapshot
    /// is then removed, and with it the whole backup).
    fn finish(&mut self) -> Result<(), String>;
}

/// A stored dump.
#[derive(Debug, Clone)]
pub struct Dumped {
    pub name: String,
    pub kind: DatabaseKind,
    pub file: String,
    pub made: Made,
    pub millis: u64,
}

/// One stream as a source: a single file.
pub(super) struct StreamSource {
    pub(super) path: PathBuf,
    pub(super) open: std::sync::Mutex<Option<Box<dyn Read + Send>>>,
}

impl ReadSource for StreamSource {
    type Open = Box<dyn Read + Send>;
    type Iter = std::iter::Once<RusticResult<ReadSourceEntry<Self::Open>>>;

    fn size(&self) -> RusticResult<Option<u64>> {
        Ok(None)
    }

    fn entries(&self) -> Self::Iter {
        let open = self.open.lock().ok().and_then(|mut o| o.take());
        let meta = Metadata {
            mode: Some(0o100_600),
            mtime: Some(rustic_core::jiff::Timestamp::now()),
            ..Default::default()
        };
        let node = Node::new_node(self.path.as_os_str(), NodeType::File, meta);
        std::iter::once(Ok(ReadSourceEntry {
            path: self.path.clone(),
            node,
            open,
        }))
    }
}

/// A dump found in a repository.
#[derive(Debug, Clone)]
pub struct FoundDump {
    /// The snapshot's id.
    pub id: String,
    /// The dump's file inside it.
    pub file: String,
    pub time: String,
}

/// Snapshot `id`, else the newest snapshot tagged `tag`, and the file it holds.
pub fn find_dump(repo: &Repo, id: Option<&str>, tag: &str) -> Result<FoundDump, String> {
    let opened = open(repo, None, false)?;
    let snap = match id {
        Some(id) => opened.get_snapshot_from_str(id, |_| true).map_err(line)?,
        None => opened
            .get_all_snapshots()
            .map_err(line)?
            .into_iter()
            .filter(|s| s.tags.contains(tag))
            .max_by_key(|s| s.time.timestamp())
            .ok_or_else(|| {
                format!(
                    "there is no snapshot tagged `{tag}` in {}",
                    repo.path.display()
                )
            })?,
    };
    let file = snap
        .paths
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| format!("snapshot {} holds no file", snap.id))?;
    Ok(FoundDump {
        id: snap.id.to_hex().as_str().to_owned(),
        file,
        time: snap.time.to_string(),
    })
}

/// Writes file `file` of snapshot `id` (a dump: a single file at the snapshot's top) to `w`.
pub fn read_dump(
    repo: &Repo,
    id: &str,
    file: &str,
    w: &mut impl std::io::Write,
    counters: Arc<Counters>,
) -> Result<(), String> {
    counters.enter("opening");
    let repo = open(repo, None, false)?.to_indexed().map_err(line)?;
    let snap = repo.get_snapshot_from_str(id, |_| true).map_err(line)?;
    let node = repo
        .node_from_snapshot_and_path(&snap, file)
        .map_err(|_| format!("{file} is not in snapshot {id}"))?;
    counters.total.store(node.meta.size, Relaxed);
    counters.done.store(0, Relaxed);
    counters.enter("restoring");
    let mut counted = CountingWriter {
        inner: w,
        counters: &counters,
    };
    repo.dump(&node, &mut counted).map_err(line)
}

struct CountingWriter<'a, W> {
    inner: &'a mut W,
    counters: &'a Counters,
}

impl<W: std::io::Write> std::io::Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counters.done.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
