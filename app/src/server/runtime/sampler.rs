//! Resource sampling: CPU, resident memory, threads, open files and disk I/O of each running
//! service's whole process tree (children included), and the host's totals. Samples are stored
//! in three tiers (raw, 1-minute and 15-minute averages) with retention, published live, and
//! exported to Prometheus.

use super::alerts;
use super::proc::ProcTable;
use crate::models::events::Event;
use crate::models::runtime::{AlertRule, HostSample, ResourceSample};
use crate::server::jobs::Jobs;
use crate::server::notifications;
use crate::server::runtime::entities::{service, service_run};
use crate::server::runtime::repo;
use crate::server::AppState;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use procfs::process::Process;
use procfs::{Current, CurrentSI, WithCurrentSystemInfo};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Tier 0: raw samples, kept an hour.
pub const RAW: i16 = 0;
/// Tier 1: one-minute averages, kept seven days.
pub const MINUTE: i16 = 1;
/// Tier 2: fifteen-minute averages, kept ninety days.
pub const QUARTER: i16 = 2;

/// How long each tier is kept.
pub fn retention(tier: i16) -> TimeDelta {
    match tier {
        RAW => TimeDelta::hours(1),
        MINUTE => TimeDelta::days(7),
        _ => TimeDelta::days(90),
    }
}

/// The bucket width a tier averages over.
pub fn bucket(tier: i16) -> TimeDelta {
    match tier {
        MINUTE => TimeDelta::minutes(1),
        QUARTER => TimeDelta::minutes(15),
        _ => TimeDelta::zero(),
    }
}

/// Counters of a process tree at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeTotals {
    /// CPU time in clock ticks (user + system).
    pub ticks: u64,
    /// Resident memory in bytes.
    pub rss: u64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Bytes read from storage.
    pub read: u64,
    /// Bytes written to storage.
    pub written: u64,
    /// Processes counted.
    pub processes: u64,
}

/// Every how many samples open files are counted again (counting lists `/proc/<pid>/fd`, the
/// dearest read of a sample; a new process is counted at once).
const FD_EVERY: u64 = 10;

/// Open-file counts by pid, recounted every [`FD_EVERY`] samples.
#[derive(Default)]
pub struct FdCounts {
    counts: HashMap<i32, u64>,
    samples: u64,
}

impl FdCounts {
    fn fresh(&self) -> bool {
        !self.samples.is_multiple_of(FD_EVERY)
    }

    fn of(&mut self, p: &Process) -> u64 {
        if self.fresh() {
            if let Some(n) = self.counts.get(&p.pid) {
                return *n;
            }
        }
        let n = p.fd_count().map(|n| n as u64).unwrap_or(0);
        self.counts.insert(p.pid, n);
        n
    }

    /// One sample is done: forget processes that are gone.
    fn next(&mut self, table: &ProcTable) {
        self.samples = self.samples.wrapping_add(1);
        self.counts
            .retain(|pid, _| u32::try_from(*pid).is_ok_and(|p| table.stat(p).is_some()));
    }
}

/// One pass over `/proc` per tick serves every service.
impl TreeTotals {
    /// Sums the counters of `pids` (processes that vanished meanwhile are skipped).
    pub fn of(table: &ProcTable, pids: &[u32], fds: &mut FdCounts) -> Self {
        let mut t = TreeTotals::default();
        for &pid in pids {
            let Some(stat) = table.stat(pid) else {
                continue;
            };
            t.processes += 1;
            t.ticks += stat.utime + stat.stime;
            t.rss += stat.rss_bytes().get();
            t.threads += u64::try_from(stat.num_threads).unwrap_or(0);
            if let Ok(p) = Process::new(stat.pid) {
                t.fds += fds.of(&p);
                if let Ok(io) = p.io() {
                    t.read += io.read_bytes;
                    t.written += io.write_bytes;
                }
            }
        }
        t
    }
}

/// A rate from two counter readings.
fn per_second(now: u64, before: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        return 0.0;
    }
    now.saturating_sub(before) as f64 / secs
}

/// Host counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct HostCounters {
    busy: u64,
    total: u64,
    rx: u64,
    tx: u64,
}

fn host_counters() -> HostCounters {
    let mut c = HostCounters::default();
    if let Ok(k) = procfs::KernelStats::current() {
        let t = k.total;
        let idle = t.idle + t.iowait.unwrap_or(0);
        let all = t.user
            + t.nice
            + t.system
            + t.idle
            + t.iowait.unwrap_or(0)
            + t.irq.unwrap_or(0)
            + t.softirq.unwrap_or(0)
            + t.steal.unwrap_or(0);
        c.busy = all.saturating_sub(idle);
        c.total = all;
    }
    if let Ok(devs) = procfs::net::dev_status() {
        for (name, d) in devs {
            if name != "lo" {
                c.rx += d.recv_bytes;
                c.tx += d.sent_bytes;
            }
        }
    }
    c
}

/// The sampler's memory between ticks.
#[derive(Default)]
pub struct Sampler {
    previous: HashMap<i64, (TreeTotals, Instant)>,
    host: Option<(HostCounters, Instant)>,
    fds: FdCounts,
}

impl Sampler {
    /// One sample of every live run and of the host. Blocking (reads `/proc`).
    pub fn sample(
        &mut self,
        runs: &[(service::Model, service_run::Model)],
        at: DateTime<Utc>,
    ) -> (Vec<ResourceSample>, HostSample) {
        let tps = procfs::ticks_per_second() as f64;
        let now = Instant::now();
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let table = ProcTable::read();
        for (svc, run) in runs {
            let Some(pid) = run.pid.and_then(|p| u32::try_from(p).ok()) else {
                continue;
            };
            let shim = run.shim_pid.and_then(|p| u32::try_from(p).ok());
            let t = TreeTotals::of(&table, &table.tree(pid, shim), &mut self.fds);
            if t.processes == 0 {
                continue;
            }
            seen.push(svc.id);
            let (cpu, read_bps, write_bps) = match self.previous.get(&svc.id) {
                Some((before, when)) => {
                    let secs = now.duration_since(*when).as_secs_f64();
                    (
                        per_second(t.ticks, before.ticks, secs) / tps * 100.0,
                        per_second(t.read, before.read, secs),
                        per_second(t.written, before.written, secs),
                    )
                }
                None => (0.0, 0.0, 0.0),
            };
            self.previous.insert(svc.id, (t, now));
            out.push(ResourceSample {
                service_id: svc.id,
                project_id: svc.project_id,
                name: svc.name.clone(),
                at,
                cpu_percent: cpu,
                rss_bytes: t.rss,
                threads: t.threads,
                open_files: t.fds,
                read_bps,
                write_bps,
            });
        }
        self.previous.retain(|id, _| seen.contains(id));
        self.fds.next(&table);

        let h = host_counters();
        let (cpu, rx, tx) = match self.host {
            Some((before, when)) => {
                let secs = now.duration_since(when).as_secs_f64();
                let total = h.total.saturating_sub(before.total);
                let cpu = if total == 0 {
                    0.0
                } else {
                    h.busy.saturating_sub(before.busy) as f64 / total as f64 * 100.0
                };
                (
                    cpu,
                    per_second(h.rx, before.rx, secs),
                    per_second(h.tx, before.tx, secs),
                )
            }
            None => (0.0, 0.0, 0.0),
        };
        self.host = Some((h, now));
        let mem = procfs::Meminfo::current().ok();
        let total = mem.as_ref().map(|m| m.mem_total).unwrap_or(0);
        let available = mem
            .as_ref()
            .and_then(|m| m.mem_available)
            .unwrap_or_else(|| mem.as_ref().map(|m| m.mem_free).unwrap_or(0));
        let load = procfs::LoadAverage::current().map(|l| l.one).unwrap_or(0.0);
        let host = HostSample {
            at,
            cpu_percent: cpu,
            cpus: u32::try_from(
                procfs::KernelStats::current()
                    .map(|k| k.cpu_time.len())
                    .unwrap_or(1),
            )
            .unwrap_or(1),
            memory_used_bytes: total.saturating_sub(available),
            memory_total_bytes: total,
            load_1m: f64::from(load),
            net_rx_bps: rx,
            net_tx_bps: tx,
        };
        (out, host)
    }
}

/// The live runs of the services this instance supervises.
async fn live_runs(state: &AppState) -> Vec<(service::Model, service_run::Model)> {
    let Ok(services) = repo::services::all(&state.db).await else {
        return Vec::new();
    };
    let live: Vec<service::Model> = services
        .into_iter()
        .filter(|s| repo::services::state(s).is_live() && state.runtime.is_supervising(s.id))
        .collect();
    let runs = repo::services::latest_runs(&state.db, live.iter().map(|s| s.id).collect())
        .await
        .unwrap_or_default();
    live.into_iter()
        .filter_map(|s| {
            let run = runs
                .iter()
                .find(|r| r.service_id == s.id && r.ended_at.is_none())?
                .clone();
            Some((s, run))
        })
        .collect()
}

/// Samples every `interval` and rolls tiers up every minute until shutdown (run as the
/// `runtime.sampler` job).
pub fn spawn(state: &AppState, interval: Duration) {
    let mut shutdown = state.jobs.shutdown_signal();
    let state = state.clone();
    state.jobs.clone().spawn("runtime.sampler", async move {
        let mut sampler = Sampler::default();
        let mut alerts = alerts::Alerts::default();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_rollup = Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {}
            }
            let runs = live_runs(&state).await;
            let rules: HashMap<i64, Vec<AlertRule>> = runs
                .iter()
                // An unreadable definition (logged) has no alerts to check.
                .filter_map(|(svc, _)| Some((svc.id, repo::services::definition(svc).ok()?.alerts)))
                .filter(|(_, r)| !r.is_empty())
                .collect();
            let at = Utc::now();
            let Ok((taken, samples, host)) = Jobs::blocking("runtime.sampler.read", move || {
                let (s, h) = sampler.sample(&runs, at);
                (sampler, s, h)
            })
            .await
            else {
                // Logged by `blocking`; start over with fresh CPU baselines next tick.
                sampler = Sampler::default();
                continue;
            };
            sampler = taken;
            if let Err(e) = repo::samples::insert(&state.db, &samples, &host).await {
                tracing::warn!(error = %e, "could not store resource samples");
            }
            state.metrics.observe_services(&samples);
            alerts.retain_services(&rules.keys().copied().collect::<Vec<_>>());
            for sample in &samples {
                let Some(r) = rules.get(&sample.service_id) else {
                    continue;
                };
                for t in alerts.observe(r, sample) {
                    notifications::notify(&state, alerts::notification(&t, sample)).await;
                }
            }
            state
                .bus
                .publish(Event::ResourcesSampled { samples, host })
                .await;
            if last_rollup.elapsed() >= Duration::from_secs(60) {
                last_rollup = Instant::now();
                if let Err(e) = roll_up(&state, Utc::now()).await {
                    tracing::warn!(error = %e, "could not roll up resource samples");
                }
            }
        }
    });
}

/// Averages finished buckets of each tier into the next, then drops what retention allows.
pub async fn roll_up(state: &AppState, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    for (from, to) in [(RAW, MINUTE), (MINUTE, QUARTER)] {
        let width = bucket(to);
        let Ok(end) = now.duration_trunc(width) else {
            continue;
        };
        repo::samples::roll_up(&state.db, from, to, width, end).await?;
    }
    for tier in [RAW, MINUTE, QUARTER] {
        repo::samples::prune(&state.db, tier, now - retention(tier)).await?;
    }
    Ok(())
}
