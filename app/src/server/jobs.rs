//! The one owner of background work.
//!
//! Every task that outlives the request or call that started it (service supervisors, the
//! sampler, scans, graph feeds, the event relay) is spawned here under a name. A task that
//! panics or returns an error is logged once with that name; a blocking call that panics is
//! logged the same way and reported to its caller as an error instead of a default value. On
//! shutdown, [`Jobs::shutdown`] tells every task to stop, waits for them, and names those that
//! had to be aborted. [`Jobs::running`] lists what is still running, so tests can assert that
//! nothing is left over.

use futures::FutureExt;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// What a task returns: nothing, or a result whose error is logged.
pub trait Outcome: Send + 'static {
    /// The error to log, if the task failed.
    fn failure(self) -> Option<String>;
}

impl Outcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: Display + Send + 'static> Outcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// A blocking call that panicked (already logged with its name).
#[derive(Debug, thiserror::Error)]
#[error("background work `{0}` panicked")]
pub struct Panicked(pub String);

struct Entry {
    name: String,
    handle: JoinHandle<()>,
}

struct Inner {
    next: AtomicU64,
    tasks: Mutex<BTreeMap<u64, Entry>>,
    shutdown: watch::Sender<bool>,
}

/// Spawns, names, watches and joins background tasks. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

impl Default for Jobs {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("running", &self.running())
            .finish()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

impl Jobs {
    /// No tasks yet.
    pub fn new() -> Self {
        let (shutdown, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                next: AtomicU64::new(1),
                tasks: Mutex::new(BTreeMap::new()),
                shutdown,
            }),
        }
    }

    /// Turns true when the instance is stopping; long-lived tasks select on its change.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Tells every task to stop, without waiting (the server is still draining requests).
    pub fn signal_shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Runs `task` in the background under `name`. A panic or an error is logged with the name;
    /// the task is joined (or aborted) by [`Jobs::shutdown`]. Returns a handle that can abort it.
    pub fn spawn<F>(&self, name: impl Into<String>, task: F) -> JobHandle
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        let name = name.into();
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let inner = Arc::downgrade(&self.inner);
        let label = name.clone();
        let (done_tx, done) = watch::channel(false);
        let wrapped = async move {
            match AssertUnwindSafe(task).catch_unwind().await {
                Ok(outcome) => {
                    if let Some(error) = outcome.failure() {
                        tracing::error!(job = %label, %error, "background job failed");
                    }
                }
                Err(payload) => {
                    tracing::error!(job = %label, panic = %panic_message(payload.as_ref()), "background job panicked");
                }
            }
            if let Some(inner) = inner.upgrade() {
                if let Ok(mut tasks) = inner.tasks.lock() {
                    tasks.remove(&id);
                }
            }
            let _ = done_tx.send(true);
        };
        // The entry is inserted before the task can run to completion and remove itself.
        let mut tasks = match self.inner.tasks.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let handle = tokio::spawn(wrapped);
        let abort = handle.abort_handle();
        tasks.insert(id, Entry { name, handle });
        JobHandle { abort, done }
    }

    /// Like [`Jobs::spawn`], for work that ends (a scan), not a loop that lives as long as the
    /// instance: the task runs in a root span `job` of its own, named by `name` up to its first
    /// `:` and linked to the span that started it, so an exported trace shows the job whole.
    pub fn spawn_work<F>(&self, name: impl Into<String>, task: F) -> JobHandle
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        let name = name.into();
        let kind = name.split(':').next().unwrap_or_default().to_owned();
        let span = tracing::info_span!(parent: None, "job", otel.name = %kind, job = %name);
        span.follows_from(tracing::Span::current());
        self.spawn(name, task.instrument(span))
    }

    /// Runs blocking `work` on the blocking pool. A panic is logged with `name` and returned as
    /// [`Panicked`], never turned into a default value.
    pub async fn blocking<T, F>(name: &str, work: F) -> Result<T, Panicked>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match tokio::task::spawn_blocking(work).await {
            Ok(v) => Ok(v),
            Err(e) => {
                let why = if e.is_panic() {
                    panic_message(e.into_panic().as_ref())
                } else {
                    "cancelled".to_owned()
                };
                tracing::error!(job = %name, panic = %why, "blocking work panicked");
                Err(Panicked(name.to_owned()))
            }
        }
    }

    /// The names of the tasks still running, sorted.
    pub fn running(&self) -> Vec<String> {
        let tasks = match self.inner.tasks.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut names: Vec<String> = tasks
            .values()
            .filter(|e| !e.handle.is_finished())
            .map(|e| e.name.clone())
            .collect();
        names.sort();
        names
    }

    /// Signals shutdown, waits up to `grace` for every task to end, then aborts the rest and
    /// logs their names. Returns the names of the aborted tasks.
    pub async fn shutdown(&self, grace: Duration) -> Vec<String> {
        let _ = self.inner.shutdown.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        let entries: Vec<Entry> = {
            let mut tasks = match self.inner.tasks.lock() {
                Ok(t) => t,
                Err(poisoned) => poisoned.into_inner(),
            };
            std::mem::take(&mut *tasks).into_values().collect()
        };
        let mut aborted = Vec::new();
        for mut entry in entries {
            if tokio::time::timeout_at(deadline, &mut entry.handle)
                .await
                .is_err()
            {
                entry.handle.abort();
                aborted.push(entry.name);
            }
        }
        if !aborted.is_empty() {
            tracing::warn!(jobs = ?aborted, "background jobs did not stop in time and were aborted");
        }
        aborted
    }
}

/// One job: abort it, or wait for it to end.
#[derive(Debug, Clone)]
pub struct JobHandle {
    abort: tokio::task::AbortHandle,
    done: watch::Receiver<bool>,
}

impl JobHandle {
    /// Waits at most `limit` for the task to end; true when it did.
    pub async fn wait(mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.done.wait_for(|d| *d))
            .await
            .is_ok_and(|r| r.is_ok())
            || self.abort.is_finished()
    }

    /// Stops the task at its next await point.
    pub fn abort(&self) {
        self.abort.abort();
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }
}

#[cfg(test)]
#[expect(clippy::panic, reason = "the tests make jobs panic on purpose")]
mod tests {
    use super::*;

    fn jobs_panic() -> bool {
        true
    }

    #[tokio::test]
    async fn finished_jobs_leave_the_list_and_a_panic_does_not_take_others_down() {
        let jobs = Jobs::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        jobs.spawn("waits", async move {
            let _ = rx.await;
        });
        jobs.spawn("panics", async {
            if jobs_panic() {
                panic!("on purpose");
            }
        });
        jobs.spawn("fails", async { Err::<(), _>("on purpose") });
        for _ in 0..100 {
            if jobs.running() == vec!["waits".to_owned()] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(jobs.running(), vec!["waits".to_owned()]);
        let _ = tx.send(());
        assert!(jobs.shutdown(Duration::from_secs(5)).await.is_empty());
        assert!(jobs.running().is_empty());
    }

    #[tokio::test]
    async fn shutdown_signals_then_aborts_what_does_not_stop() {
        let jobs = Jobs::new();
        let mut signal = jobs.shutdown_signal();
        jobs.spawn("listens", async move {
            let _ = signal.changed().await;
        });
        jobs.spawn("ignores", std::future::pending::<()>());
        let aborted = jobs.shutdown(Duration::from_millis(200)).await;
        assert_eq!(aborted, vec!["ignores".to_owned()]);
    }

    #[tokio::test]
    async fn a_panicking_blocking_call_is_an_error_not_a_default() {
        let r: Result<Vec<u32>, _> = Jobs::blocking("tree", || panic!("bad /proc")).await;
        assert!(r.is_err());
        assert_eq!(Jobs::blocking("ok", || 7).await.ok(), Some(7));
    }
}
