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

/// Every live process below `root` (children, grandchildren, …), not `root` itself.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(all) = all_processes() {
        for p in all.flatten() {
            if let Ok(stat) = p.stat() {
                if stat.state != 'Z' {
                    children.entry(stat.ppid).or_default().push(stat.pid);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![i32::try_from(root).unwrap_or(i32::MAX)];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(c) {
                out.push(u32::try_from(c).unwrap_or_default());
                stack.push(c);
            }
        }
    }
    out
}

/// Live (non-zombie) members of process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(pgid) = i32::try_from(pgid) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Ok(all) = all_processes() {
        for p in all.flatten() {
            if let Ok(stat) = p.stat() {
                if stat.pgrp == pgid && stat.state != 'Z' {
                    out.push(u32::try_from(stat.pid).unwrap_or_default());
                }
            }
        }
    }
    out
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
