//! Process facts from `/proc` (through the `procfs` crate): identity by pid and start time, the
//! process tree under a run, and signals to all of it.

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use procfs::process::{all_processes, Process};
use std::collections::{HashMap, HashSet};

/// A process's start time in clock ticks after boot: with the pid, it names one process even
/// after the pid is reused.
pub fn start_time(pid: u32) -> Option<u64> {
    let pid = i32::try_from(pid).ok()?;
    let stat = Process::new(pid).ok()?.stat().ok()?;
    // A zombie has ended; only its parent's wait is missing.
    (stat.state != 'Z').then_some(stat.starttime)
}

/// Whether `pid` is still the process that started at `started` (and has not ended).
pub fn is_same_process(pid: u32, started: u64) -> bool {
    start_time(pid) == Some(started)
}

/// Every live process, read in one pass over `/proc`.
#[derive(Default)]
pub struct ProcTable {
    stats: HashMap<i32, procfs::process::Stat>,
    children: HashMap<i32, Vec<i32>>,
}

impl ProcTable {
    /// Reads `/proc` (zombies are left out: they have ended).
    pub fn read() -> Self {
        let mut t = ProcTable::default();
        if let Ok(all) = all_processes() {
            for p in all.flatten() {
                if let Ok(stat) = p.stat() {
                    if stat.state != 'Z' {
                        t.children.entry(stat.ppid).or_default().push(stat.pid);
                        t.stats.insert(stat.pid, stat);
                    }
                }
            }
        }
        t
    }

    /// A process's `stat`, if it is alive.
    pub fn stat(&self, pid: u32) -> Option<&procfs::process::Stat> {
        self.stats.get(&i32::try_from(pid).ok()?)
    }

    /// The live members of process group `pgid` (the group leader included) and every live
    /// process below `below` (a shim: children, grandchildren, …).
    pub fn tree(&self, pgid: u32, below: Option<u32>) -> Vec<u32> {
        let group = i32::try_from(pgid).unwrap_or(i32::MAX);
        let mut out: Vec<i32> = self
            .stats
            .values()
            .filter(|s| s.pgrp == group)
            .map(|s| s.pid)
            .collect();
        let mut seen = HashSet::new();
        let mut stack: Vec<i32> = below
            .and_then(|b| i32::try_from(b).ok())
            .into_iter()
            .collect();
        while let Some(p) = stack.pop() {
            for &c in self.children.get(&p).map(Vec::as_slice).unwrap_or_default() {
                if seen.insert(c) {
                    out.push(c);
                    stack.push(c);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out.into_iter()
            .filter_map(|p| u32::try_from(p).ok())
            .collect()
    }
}

/// Live (non-zombie) members of process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    ProcTable::read().tree(pgid, None)
}

/// Sends `signal` to the process group `pgid` and to each of `extra` (processes that left the
/// group). Processes already gone are ignored.
pub fn signal_all(pgid: u32, extra: &[u32], signal: Signal) {
    if let Ok(g) = i32::try_from(pgid) {
        let _ = killpg(Pid::from_raw(g), signal);
    }
    for &p in extra {
        if let Ok(p) = i32::try_from(p) {
            let _ = kill(Pid::from_raw(p), signal);
        }
    }
}
