//! Wakes a run's watcher when something changes in its run directory (a log line written, the
//! exit file or the log status written, a log segment switched), so that idle services cost no
//! wake-ups ten times a second each.
//!
//! One inotify instance and one thread serve every run of the process: the thread blocks
//! reading events and wakes the [`Notify`] of the directory they belong to. A watcher that
//! cannot be had (no inotify, the watch limit reached) is `None`, and its run is polled as
//! before; a watcher also checks once a second whatever happened, so a lost event delays
//! nothing by more than that.

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;

/// The process's one inotify instance and who waits on each watch.
struct Watcher {
    inotify: Inotify,
    /// Per watch, the waiters (by a number of their own: a directory watched twice has one
    /// watch descriptor).
    waiters: Mutex<HashMap<WatchDescriptor, Vec<(u64, Arc<Notify>)>>>,
    next: AtomicU64,
}

/// A watch on one run directory; dropping it ends the watch.
pub(super) struct Changes {
    notify: Arc<Notify>,
    wd: WatchDescriptor,
    id: u64,
}

impl Changes {
    /// Starts watching `dir`, or `None` where it cannot be watched (the caller polls).
    pub(super) fn watch(dir: &Path) -> Option<Changes> {
        let w = watcher()?;
        let notify = Arc::new(Notify::new());
        let id = w.next.fetch_add(1, Ordering::Relaxed);
        // Added under the lock, so that no event for the new watch is read before its waiter
        // is known.
        let mut waiters = w.waiters.lock().unwrap_or_else(|p| p.into_inner());
        let wd = match w.inotify.add_watch(dir, mask()) {
            Ok(wd) => wd,
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "run directory not watched; polling it");
                return None;
            }
        };
        waiters
            .entry(wd)
            .or_default()
            .push((id, Arc::clone(&notify)));
        Some(Changes { notify, wd, id })
    }

    /// Returns when something changed in the directory since the last call (at once if it
    /// did meanwhile).
    pub(super) async fn changed(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        let Some(w) = watcher() else {
            return;
        };
        let mut waiters = w.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = waiters.get_mut(&self.wd) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                waiters.remove(&self.wd);
                // Fails harmlessly when the directory is gone (the watch went with it).
                let _ = w.inotify.rm_watch(self.wd);
            }
        }
    }
}

/// What is watched in a run directory: files written, created, moved in or out.
fn mask() -> AddWatchFlags {
    AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_ONLYDIR
}

/// The process's watcher, started on first use; `None` where inotify is unavailable.
fn watcher() -> Option<&'static Watcher> {
    static WATCHER: OnceLock<Option<&'static Watcher>> = OnceLock::new();
    *WATCHER.get_or_init(|| {
        let inotify = match Inotify::init(InitFlags::IN_CLOEXEC) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "inotify unavailable; run directories are polled");
                return None;
            }
        };
        let w: &'static Watcher = Box::leak(Box::new(Watcher {
            inotify,
            waiters: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }));
        let spawned = std::thread::Builder::new()
            .name("optimus-run-changes".into())
            .spawn(move || read_events(w));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the run-directory watcher; polling");
            return None;
        }
        Some(w)
    })
}

/// The watcher thread: blocks reading events and wakes their directories' waiters. An
/// overflowed queue wakes everyone.
fn read_events(w: &'static Watcher) {
    loop {
        let events = match w.inotify.read_events() {
            Ok(events) => events,
            Err(Errno::EINTR) => continue,
            Err(e) => {
                // Waiters still check once a second.
                tracing::warn!(error = %e, "run-directory watcher stopped; polling once a second");
                return;
            }
        };
        let waiters = w.waiters.lock().unwrap_or_else(|p| p.into_inner());
        for event in events {
            if event.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                waiters.values().flatten().for_each(|(_, n)| n.notify_one());
            } else if let Some(list) = waiters.get(&event.wd) {
                list.iter().for_each(|(_, n)| n.notify_one());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn temp_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("optimus-changes-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn a_file_written_in_a_watched_directory_wakes_its_watcher_and_no_other() {
        let (a, b) = (temp_dir(), temp_dir());
        let wa = Changes::watch(&a).expect("inotify is available here");
        let wb = Changes::watch(&b).expect("inotify is available here");
        std::fs::write(a.join("output.log"), "1\n").unwrap();
        tokio::time::timeout(Duration::from_secs(5), wa.changed())
            .await
            .expect("the write in a wakes a's watcher");
        let woke_b = tokio::time::timeout(Duration::from_millis(300), wb.changed()).await;
        assert!(woke_b.is_err(), "a write in a does not wake b's watcher");
        // A change while nobody waits is kept for the next wait.
        std::fs::write(b.join("exit.json"), "{}").unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        tokio::time::timeout(Duration::from_secs(5), wb.changed())
            .await
            .expect("the change made before waiting is not lost");
        // Watching the same directory twice: both are woken, and dropping one keeps the other.
        let wa2 = Changes::watch(&a).unwrap();
        drop(wa);
        std::fs::write(a.join("output.log"), "2\n").unwrap();
        tokio::time::timeout(Duration::from_secs(5), wa2.changed())
            .await
            .expect("the second watcher of a still wakes");
        drop((wa2, wb));
        for d in [a, b] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn a_missing_directory_is_not_watched() {
        assert!(Changes::watch(Path::new("/nonexistent/optimus/run")).is_none());
    }
}
