//! Resource limits of a run, enforced by the best means the machine allows.
//!
//! The shim applies them to itself just before it starts the service, so the service and
//! everything it forks inherit them with no window in between:
//! - a **cgroup v2** leaf under `/sys/fs/cgroup/optimus` (`memory.max`, `cpu.max`) when the
//!   unified hierarchy has those controllers and Optimus may write there;
//! - else a **cgroup v1** leaf in the `memory` and `cpu` hierarchies, below the shim's own
//!   cgroup (`memory.limit_in_bytes`, `cpu.cfs_quota_us`);
//! - else **rlimits** set by the shell that runs the command: `ulimit -v` (address space per
//!   process) for memory and `ulimit -n` for open files. CPU has no rlimit equivalent and is then
//!   reported as not enforced.
//!
//! What was used is recorded per run and shown. When the service ends, the shim leaves its
//! cgroups and removes them (Optimus created them; it removes nothing else).

use crate::{Enforcement, Limits};
use std::fs;
use std::path::{Path, PathBuf};

/// Where cgroup file systems are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The CPU quota period (`cpu.max`, `cpu.cfs_period_us`), 100 ms.
const PERIOD_US: u64 = 100_000;

/// The limits as applied to one run.
#[derive(Debug, Default)]
pub struct Applied {
    /// How each limit is enforced.
    pub enforcement: Vec<Enforcement>,
    /// Shell lines that set rlimits, run before the command.
    pub shell_prefix: String,
    /// Cgroups joined: (leaf, the cgroup the shim came from).
    joined: Vec<(PathBuf, PathBuf)>,
}

impl Applied {
    /// Moves the shim back where it came from and removes the cgroups it made.
    pub fn release(&self) {
        let me = std::process::id().to_string();
        for (leaf, origin) in &self.joined {
            let _ = fs::write(origin.join("cgroup.procs"), &me);
            let _ = fs::remove_dir(leaf);
            // The shared `optimus` parent goes too once no run uses it (fails harmlessly if one does).
            if let Some(parent) = leaf.parent().filter(|p| p.ends_with("optimus")) {
                let _ = fs::remove_dir(parent);
            }
        }
    }
}

fn entry(limit: &str, value: u64, method: &str, detail: Option<String>) -> Enforcement {
    Enforcement {
        limit: limit.to_owned(),
        value,
        method: method.to_owned(),
        detail,
    }
}

/// This process's cgroup paths from `/proc/self/cgroup`: (hierarchy id line's controllers, path).
fn own_cgroups() -> Vec<(String, String)> {
    fs::read_to_string("/proc/self/cgroup")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?.to_owned();
            let path = parts.next()?.to_owned();
            Some((controllers, path))
        })
        .collect()
}

/// Joins `leaf` (made by the caller) and remembers where to return.
fn join(leaf: &Path, origin: PathBuf, joined: &mut Vec<(PathBuf, PathBuf)>) -> bool {
    if fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()).is_ok() {
        joined.push((leaf.to_owned(), origin));
        true
    } else {
        let _ = fs::remove_dir(leaf);
        false
    }
}

/// Tries a cgroup v2 leaf for memory and CPU; true when it holds the shim now.
fn try_v2(limits: &Limits, key: &str, out: &mut Applied) -> bool {
    let root = Path::new(CGROUP_ROOT);
    let Ok(available) = fs::read_to_string(root.join("cgroup.controllers")) else {
        return false;
    };
    let has = |c: &str| available.split_whitespace().any(|x| x == c);
    let want_mem = limits.memory_mb.is_some();
    let want_cpu = limits.cpu_percent.is_some();
    if (want_mem && !has("memory")) || (want_cpu && !has("cpu")) {
        return false;
    }
    let origin = own_cgroups()
        .into_iter()
        .find(|(c, _)| c.is_empty())
        .map(|(_, p)| root.join(p.trim_start_matches('/')))
        .unwrap_or_else(|| root.to_owned());
    let controllers = match (want_mem, want_cpu) {
        (true, true) => "+memory +cpu",
        (true, false) => "+memory",
        _ => "+cpu",
    };
    let base = root.join("optimus");
    let _ = fs::write(root.join("cgroup.subtree_control"), controllers);
    if fs::create_dir_all(&base).is_err()
        || fs::write(base.join("cgroup.subtree_control"), controllers).is_err()
    {
        return false;
    }
    let leaf = base.join(key);
    if fs::create_dir_all(&leaf).is_err() {
        return false;
    }
    let mut ok = true;
    if let Some(mb) = limits.memory_mb {
        ok &= fs::write(leaf.join("memory.max"), (mb * 1_048_576).to_string()).is_ok();
        let _ = fs::write(leaf.join("memory.swap.max"), "0");
    }
    if let Some(pct) = limits.cpu_percent {
        let quota = u64::from(pct) * PERIOD_US / 100;
        ok &= fs::write(leaf.join("cpu.max"), format!("{quota} {PERIOD_US}")).is_ok();
    }
    if !ok || !join(&leaf, origin, &mut out.joined) {
        let _ = fs::remove_dir(&leaf);
        return false;
    }
    let detail = Some(format!("cgroup {}", leaf.display()));
    if let Some(mb) = limits.memory_mb {
        out.enforcement
            .push(entry("memory", mb, "cgroup v2", detail.clone()));
    }
    if let Some(pct) = limits.cpu_percent {
        out.enforcement
            .push(entry("cpu", u64::from(pct), "cgroup v2", detail));
    }
    true
}

/// Tries a cgroup v1 leaf in one hierarchy (`memory` or `cpu`) below the shim's own cgroup;
/// returns the leaf it joined.
fn try_v1(
    controller: &str,
    files: &[(&str, String)],
    key: &str,
    out: &mut Applied,
) -> Option<PathBuf> {
    let mount = Path::new(CGROUP_ROOT).join(controller);
    if !mount.join("cgroup.procs").exists() {
        return None;
    }
    let own = own_cgroups()
        .into_iter()
        .find(|(c, _)| c.split(',').any(|x| x == controller))
        .map(|(_, p)| p)
        .unwrap_or_else(|| "/".into());
    let origin = mount.join(own.trim_start_matches('/'));
    let leaf = origin.join("optimus").join(key);
    if fs::create_dir_all(&leaf).is_err() {
        return None;
    }
    for (file, value) in files {
        if fs::write(leaf.join(file), value).is_err() {
            let _ = fs::remove_dir(&leaf);
            return None;
        }
    }
    join(&leaf, origin, &mut out.joined).then_some(leaf)
}

/// Applies `limits` to the current process (the shim) and says how; `key` names its cgroup.
pub fn apply(limits: &Limits, key: &str) -> Applied {
    let mut out = Applied::default();
    if limits.is_empty() {
        return out;
    }
    let mut memory_done = limits.memory_mb.is_none();
    let mut cpu_done = limits.cpu_percent.is_none();
    if (!memory_done || !cpu_done) && try_v2(limits, key, &mut out) {
        memory_done = true;
        cpu_done = true;
    }
    if let Some(mb) = limits.memory_mb.filter(|_| !memory_done) {
        let bytes = (mb * 1_048_576).to_string();
        if let Some(leaf) = try_v1("memory", &[("memory.limit_in_bytes", bytes)], key, &mut out) {
            memory_done = true;
            out.enforcement.push(entry(
                "memory",
                mb,
                "cgroup v1",
                Some(format!("cgroup {}", leaf.display())),
            ));
        }
    }
    if let Some(pct) = limits.cpu_percent.filter(|_| !cpu_done) {
        let quota = (u64::from(pct) * PERIOD_US / 100).to_string();
        let files = [
            ("cpu.cfs_period_us", PERIOD_US.to_string()),
            ("cpu.cfs_quota_us", quota),
        ];
        if let Some(leaf) = try_v1("cpu", &files, key, &mut out) {
            cpu_done = true;
            out.enforcement.push(entry(
                "cpu",
                u64::from(pct),
                "cgroup v1",
                Some(format!("cgroup {}", leaf.display())),
            ));
        }
    }
    if let Some(mb) = limits.memory_mb.filter(|_| !memory_done) {
        out.shell_prefix
            .push_str(&format!("ulimit -v {}\n", mb * 1024));
        out.enforcement.push(entry(
            "memory",
            mb,
            "rlimit",
            Some("address space per process (no writable cgroup)".into()),
        ));
    }
    if let Some(pct) = limits.cpu_percent.filter(|_| !cpu_done) {
        out.enforcement.push(entry(
            "cpu",
            u64::from(pct),
            "not enforced",
            Some("needs a writable cgroup (v2 or v1)".into()),
        ));
    }
    if let Some(n) = limits.open_files {
        let hard = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map(|(_, hard)| hard)
            .unwrap_or(u64::MAX);
        if n <= hard {
            out.shell_prefix.push_str(&format!("ulimit -n {n}\n"));
            out.enforcement
                .push(entry("open_files", n, "rlimit", Some("per process".into())));
        } else {
            out.enforcement.push(entry(
                "open_files",
                n,
                "not enforced",
                Some(format!("above the hard limit {hard}")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limits_change_nothing() {
        let a = apply(&Limits::default(), "unit-none");
        assert!(a.enforcement.is_empty());
        assert!(a.shell_prefix.is_empty());
    }

    #[test]
    fn open_files_become_a_ulimit_line() {
        let a = apply(
            &Limits {
                open_files: Some(64),
                ..Default::default()
            },
            "unit-files",
        );
        assert_eq!(a.shell_prefix, "ulimit -n 64\n");
        assert_eq!(a.enforcement.len(), 1);
        assert_eq!(a.enforcement[0].method, "rlimit");
    }
}
