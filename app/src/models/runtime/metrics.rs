//! Resource samples of services and of the host, and the queries for their history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One service's whole process tree at one moment, or averaged over a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceSample {
    /// The service.
    pub service_id: i64,
    /// Its project.
    pub project_id: i64,
    /// The service's name.
    #[serde(default)]
    pub name: String,
    /// When (a bucket's start for averages).
    pub at: DateTime<Utc>,
    /// CPU use; 100 is one core busy.
    pub cpu_percent: f64,
    /// Resident memory.
    pub rss_bytes: u64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors.
    pub open_files: u64,
    /// Storage reads per second.
    pub read_bps: f64,
    /// Storage writes per second.
    pub write_bps: f64,
}

/// The machine's totals at one moment, or averaged over a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostSample {
    /// When.
    pub at: DateTime<Utc>,
    /// CPU use of the whole machine, 0–100.
    pub cpu_percent: f64,
    /// CPU cores.
    pub cpus: u32,
    /// Memory in use (total minus available).
    pub memory_used_bytes: u64,
    /// Memory in all.
    pub memory_total_bytes: u64,
    /// One-minute load average.
    pub load_1m: f64,
    /// Network bytes received per second (all interfaces but loopback).
    pub net_rx_bps: f64,
    /// Network bytes sent per second.
    pub net_tx_bps: f64,
}

/// A time range for charts: `15m`, `1h`, `6h`, `24h`, `7d`, `30d` or `90d`.
pub const RANGES: [&str; 7] = ["15m", "1h", "6h", "24h", "7d", "30d", "90d"];

/// Asks for resource history of services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricsQuery {
    /// Services (1–50); several overlay on one chart.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 50))]
    pub service_ids: Vec<i64>,
    /// `15m`, `1h`, `6h`, `24h`, `7d`, `30d` or `90d` (default `1h`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^(15m|1h|6h|24h|7d|30d|90d)$"))]
    pub range: Option<String>,
}

/// Asks for the host's history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostMetricsQuery {
    /// `15m`, `1h`, `6h`, `24h`, `7d`, `30d` or `90d` (default `1h`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^(15m|1h|6h|24h|7d|30d|90d)$"))]
    pub range: Option<String>,
}
