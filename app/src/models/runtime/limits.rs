//! Resource ceilings and threshold alerts on a service, with the checks of their ranges.

use serde::{Deserialize, Serialize};

use super::ResourceSample;

/// Ceilings on a service's resources. Each is enforced by the best means the machine allows:
/// a cgroup (v2, else v1) when Optimus may create one, else a resource limit (rlimit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    /// Memory of the whole tree, in MiB (16–1048576). Without a cgroup: the address space of
    /// each process (`ulimit -v`), which programs that reserve much virtual memory may dislike.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 16, maximum = 1_048_576))]
    pub memory_mb: Option<u64>,
    /// CPU of the whole tree; 100 is one core (1–25600). Needs a cgroup.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 25_600))]
    pub cpu_percent: Option<u32>,
    /// Open files per process (16–1048576), as `ulimit -n`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 16, maximum = 1_048_576))]
    pub open_files: Option<u64>,
}

impl ResourceLimits {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.memory_mb.is_none() && self.cpu_percent.is_none() && self.open_files.is_none()
    }

    /// Checks the ranges; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let within = |v: u64, lo: u64, hi: u64| (lo..=hi).contains(&v);
        if let Some(m) = self.memory_mb.filter(|m| !within(*m, 16, 1_048_576)) {
            return Err((
                "limits.memory_mb",
                format!("must be 16–1048576 MiB, not {m}"),
            ));
        }
        if let Some(c) = self
            .cpu_percent
            .filter(|c| !within(u64::from(*c), 1, 25_600))
        {
            return Err((
                "limits.cpu_percent",
                format!("must be 1–25600 (100 is one core), not {c}"),
            ));
        }
        if let Some(n) = self.open_files.filter(|n| !within(*n, 16, 1_048_576)) {
            return Err(("limits.open_files", format!("must be 16–1048576, not {n}")));
        }
        Ok(())
    }
}

/// How one limit of a run is enforced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LimitEnforcement {
    /// `memory`, `cpu` or `open_files`.
    pub limit: String,
    /// The value asked for (MiB, percent of a core, files).
    pub value: u64,
    /// `cgroup v2`, `cgroup v1`, `rlimit` or `not enforced`.
    pub method: String,
    /// Why it is not enforced, or how (e.g. `address space per process`).
    pub detail: Option<String>,
}

/// A resource an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// CPU of the whole tree; 100 is one core.
    Cpu,
    /// Resident memory of the whole tree, in MiB.
    Memory,
}

impl AlertMetric {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertMetric::Cpu => "cpu",
            AlertMetric::Memory => "memory",
        }
    }

    /// The unit of `above`.
    pub fn unit(self) -> &'static str {
        match self {
            AlertMetric::Cpu => "%",
            AlertMetric::Memory => " MiB",
        }
    }

    /// The sample's value in this metric's unit.
    pub fn of(self, sample: &ResourceSample) -> f64 {
        match self {
            AlertMetric::Cpu => sample.cpu_percent,
            AlertMetric::Memory => sample.rss_bytes as f64 / 1_048_576.0,
        }
    }
}

/// "Notify when `metric` stays above `above` for `for_secs` seconds."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// What is watched.
    pub metric: AlertMetric,
    /// The threshold, at least 0 (percent of a core for `cpu`, MiB for `memory`).
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub above: f64,
    /// How long, in seconds, it must stay above before the alert fires (at most 86400, default
    /// 30; 0 fires at once).
    #[serde(default = "thirty")]
    #[cfg_attr(feature = "ssr", schema(maximum = 86_400))]
    pub for_secs: u64,
}

fn thirty() -> u64 {
    30
}

impl Eq for AlertRule {}

impl AlertRule {
    /// Checks the rule; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !self.above.is_finite() || self.above < 0.0 {
            return Err(("alerts.above", "must be a number of at least 0".to_owned()));
        }
        if self.for_secs > 86_400 {
            return Err((
                "alerts.for_secs",
                "must be at most 86400 (a day)".to_owned(),
            ));
        }
        Ok(())
    }

    /// The rule in words: `memory above 512 MiB for 30 s`.
    pub fn describe(&self) -> String {
        format!(
            "{} above {}{} for {} s",
            self.metric.as_str(),
            self.above,
            self.metric.unit(),
            self.for_secs
        )
    }
}
