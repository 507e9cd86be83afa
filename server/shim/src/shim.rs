//! The log shim (`optimus shim`): one small process per run that owns the service's output.
//!
//! Optimus starts it with the run's spec on stdin. The shim leaves Optimus's session, becomes a
//! child subreaper (so everything the service forks stays below it), starts the service in its
//! own process group, and writes each stdout/stderr line — progress collapsed, secrets masked —
//! to the run's log with rotation. When the service ends it stops what the service left
//! behind and records the exit status. Because the shim, not Optimus, holds the pipes, services
//! keep running (and logging) while Optimus restarts; Optimus finds them again from `state.json`.

use crate::log::{self as logs, clean_line, format_line, redact, Stream as LogStream};
use crate::{limits, proc, Enforcement, Limits};
use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run, sent to the shim on stdin (so secret values never appear in argv or on disk).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimSpec {
    /// The command line, run by `sh -c`.
    pub command: String,
    /// Working directory.
    pub cwd: PathBuf,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// Where the log and state files go.
    pub run_dir: PathBuf,
    /// Values masked in the log.
    pub secrets: Vec<String>,
    /// Size of one log segment in bytes.
    pub segment_bytes: u64,
    /// Ceilings on the service's resources.
    #[serde(default)]
    pub limits: Limits,
}

/// Written once the service process exists (`state.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimStarted {
    /// The service's main process (also its process group).
    pub pid: u32,
    /// Its start time, in clock ticks after boot.
    pub pid_start: u64,
    /// The shim itself.
    pub shim_pid: u32,
    /// How each limit is enforced.
    #[serde(default)]
    pub limits: Vec<Enforcement>,
}

/// Written when the service has ended and its leftovers are gone (`exit.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimExit {
    /// Exit status, when it exited.
    pub code: Option<i32>,
    /// Signal number, when one ended it.
    pub signal: Option<i32>,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it could not start, when it could not.
    pub error: Option<String>,
}

/// File names in a run folder.
pub const STATE_FILE: &str = "state.json";
/// See [`ShimExit`].
pub const EXIT_FILE: &str = "exit.json";

/// Writes `value` as JSON to `dir/name` atomically (write, then rename).
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let body = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, body)?;
    std::fs::rename(tmp, dir.join(name))
}

/// Reads `dir/name` as JSON, if present and complete.
pub fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    let body = std::fs::read(dir.join(name)).ok()?;
    serde_json::from_slice(&body).ok()
}

struct LogWriter {
    dir: PathBuf,
    file: File,
    size: u64,
    seq: u64,
    segment_bytes: u64,
    secrets: Vec<String>,
    /// [`logs::STATUS`], created at its full size up front.
    status: Option<File>,
    trouble: logs::Trouble,
    /// When the status file was last rewritten while writing fails.
    told: Option<Instant>,
}

impl LogWriter {
    fn open(dir: &Path, segment_bytes: u64, secrets: Vec<String>) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(logs::CURRENT))?;
        let trouble = logs::Trouble::default();
        let status = File::create(dir.join(logs::STATUS))
            .and_then(|mut f| f.write_all(&trouble.to_status()).map(|()| f))
            .ok();
        Ok(Self {
            dir: dir.to_owned(),
            file,
            size: 0,
            seq: 0,
            segment_bytes: segment_bytes.max(4096),
            secrets,
            status,
            trouble,
            told: None,
        })
    }

    fn write(&mut self, stream: LogStream, raw: &[u8]) {
        let text = redact(&clean_line(raw), &self.secrets);
        let line = format_line(self.seq, Utc::now(), stream, &text);
        self.seq += 1;
        if self.trouble.error.is_some() {
            // Writing failed before: say what was lost first. The `\n` ends a line that was
            // cut off half-way.
            let note = format!(
                "[optimus] {} lines ({} bytes) could not be written to this log: {}",
                self.trouble.lost_lines,
                self.trouble.lost_bytes,
                self.trouble.error.as_deref().unwrap_or_default()
            );
            let note = format!(
                "\n{}",
                format_line(self.seq, Utc::now(), LogStream::Stderr, &note)
            );
            if self.append(note.as_bytes()).is_err() {
                self.lost(line.len(), None);
                return;
            }
            self.seq += 1;
            self.trouble.error = None;
            self.tell();
        }
        if let Err(e) = self.append(line.as_bytes()) {
            self.lost(line.len(), Some(e));
        }
    }

    /// Appends to the current segment, rotating first when it would grow past its size.
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.size + bytes.len() as u64 > self.segment_bytes && self.size > 0 {
            // Keep one previous segment; the oldest output goes.
            let _ = std::fs::rename(self.dir.join(logs::CURRENT), self.dir.join(logs::PREVIOUS));
            self.file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(logs::CURRENT))?;
            self.size = 0;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Counts a line that could not be written (a full disk, a file-size limit): the service
    /// keeps running and its output keeps being read, and the status file says so.
    fn lost(&mut self, bytes: usize, error: Option<std::io::Error>) {
        let t = &mut self.trouble;
        t.lost_lines += 1;
        t.lost_bytes += bytes as u64;
        t.since.get_or_insert_with(Utc::now);
        let first = t.error.is_none();
        if let Some(e) = error {
            t.error = Some(e.to_string());
        }
        // At most four times a second while it lasts.
        if first
            || self
                .told
                .is_none_or(|at| at.elapsed() >= Duration::from_millis(250))
        {
            self.tell();
        }
    }

    /// Rewrites the status file in place (same size: no free space needed).
    fn tell(&mut self) {
        use std::os::unix::fs::FileExt;
        if let Some(f) = &self.status {
            let _ = f.write_all_at(&self.trouble.to_status(), 0);
        }
        self.told = Some(Instant::now());
    }
}

fn pump(
    stream: LogStream,
    source: impl Read,
    writer: Arc<Mutex<LogWriter>>,
    done: mpsc::Sender<()>,
) {
    let mut reader = BufReader::new(source);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        // A line longer than this arrives in pieces rather than growing without bound.
        match reader
            .by_ref()
            .take(logs::MAX_LINE as u64 * 4)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if let Ok(mut w) = writer.lock() {
                    w.write(stream, &buf);
                }
            }
        }
    }
    let _ = done.send(());
}

/// Runs the shim; returns the process exit code.
pub fn run() -> i32 {
    let mut input = Vec::new();
    if std::io::stdin().read_to_end(&mut input).is_err() {
        return 2;
    }
    let Ok(spec) = serde_json::from_slice::<ShimSpec>(&input) else {
        return 2;
    };
    // Out of Optimus's session and process group: a Ctrl-C or SIGTERM meant for Optimus does
    // not reach the services.
    let _ = nix::unistd::setsid();
    // Orphans of the service are re-parented to the shim, so the whole tree stays findable.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let exit = supervise(&spec);
    let _ = write_json(&spec.run_dir, EXIT_FILE, &exit);
    0
}

fn failed_to_start(error: String) -> ShimExit {
    ShimExit {
        code: Some(127),
        signal: None,
        at: Utc::now(),
        error: Some(error),
    }
}

fn supervise(spec: &ShimSpec) -> ShimExit {
    let writer = match LogWriter::open(&spec.run_dir, spec.segment_bytes, spec.secrets.clone()) {
        Ok(w) => Arc::new(Mutex::new(w)),
        Err(e) => return failed_to_start(format!("cannot write the log: {e}")),
    };
    // Limits go on the shim itself just before the fork, so the service inherits them at once.
    let applied = limits::apply(&spec.limits, &format!("run-{}", std::process::id()));
    let exit = run_service(spec, writer.clone(), &applied);
    applied.release();
    // The last count of lost lines, which the rate limit on rewrites may have held back.
    if let Ok(mut w) = writer.lock() {
        if w.trouble.lost_lines > 0 {
            w.tell();
        }
    }
    exit
}

fn run_service(
    spec: &ShimSpec,
    writer: Arc<Mutex<LogWriter>>,
    applied: &limits::Applied,
) -> ShimExit {
    let command = format!("{}{}", applied.shell_prefix, spec.command);
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return failed_to_start(format!(
                "cannot start `{}` in {}: {e}",
                spec.command,
                spec.cwd.display()
            ))
        }
    };
    let pid = child.id();
    let started = ShimStarted {
        pid,
        pid_start: proc::start_time(pid).unwrap_or_default(),
        shim_pid: std::process::id(),
        limits: applied.enforcement.clone(),
    };
    let _ = write_json(&spec.run_dir, STATE_FILE, &started);
    let (done_tx, done_rx) = mpsc::channel();
    let mut pumps = 0;
    if let Some(out) = child.stdout.take() {
        let (w, d) = (writer.clone(), done_tx.clone());
        std::thread::spawn(move || pump(LogStream::Stdout, out, w, d));
        pumps += 1;
    }
    if let Some(err) = child.stderr.take() {
        let (w, d) = (writer.clone(), done_tx.clone());
        std::thread::spawn(move || pump(LogStream::Stderr, err, w, d));
        pumps += 1;
    }
    drop(done_tx);

    // Reap everything below us; note how the main process ended.
    let main = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    let (code, signal) = loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(p, c)) if p == main => break (Some(c), None),
            Ok(WaitStatus::Signaled(p, s, _)) if p == main => break (None, Some(s as i32)),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break (None, None),
        }
    };

    // Give the output a moment to drain, then stop whatever the service left running.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut finished = 0;
    while finished < pumps {
        let left = deadline.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
        finished += 1;
    }
    let me = std::process::id();
    let left = || proc::ProcTable::read().tree(pid, Some(me));
    let leftovers = left();
    if !leftovers.is_empty() {
        proc::signal_all(pid, &leftovers, Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && !left().is_empty() {
            reap_any();
            std::thread::sleep(Duration::from_millis(20));
        }
        proc::signal_all(pid, &left(), Signal::SIGKILL);
    }
    reap_any();
    while finished < pumps && done_rx.recv_timeout(Duration::from_secs(1)).is_ok() {
        finished += 1;
    }
    ShimExit {
        code,
        signal,
        at: Utc::now(),
        error: None,
    }
}

fn reap_any() {
    use nix::sys::wait::WaitPidFlag;
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}
