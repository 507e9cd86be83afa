//! Restart policies: when a service that ended is started again, and how long to wait.

use serde::{Deserialize, Serialize};

/// When a service that ended is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    /// Never.
    Never,
    /// When it exits with a non-zero status, is killed by a signal, or fails its liveness probe.
    #[default]
    OnFailure,
    /// Whenever it ends, unless a user stopped it.
    Always,
}

impl RestartMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartMode::Never => "never",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Always => "always",
        }
    }
}

/// Restart policy: mode, retry budget and exponential backoff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    /// When to restart.
    #[serde(default)]
    pub mode: RestartMode,
    /// Restarts in a row (without a stable run in between) before the service is left in
    /// `crash_loop` (at most 100, default 5).
    #[serde(default = "five")]
    #[cfg_attr(feature = "ssr", schema(maximum = 100))]
    pub max_retries: u32,
    /// The first delay in milliseconds; each further retry doubles it (10–3600000, default
    /// 500).
    #[serde(default = "half_second")]
    #[cfg_attr(feature = "ssr", schema(minimum = 10, maximum = 3_600_000))]
    pub backoff_ms: u64,
    /// The longest delay in milliseconds (10–3600000, default 30000; below `backoff_ms`: 422).
    #[serde(default = "thirty_seconds")]
    #[cfg_attr(feature = "ssr", schema(minimum = 10, maximum = 3_600_000))]
    pub max_backoff_ms: u64,
}

fn five() -> u32 {
    5
}

fn half_second() -> u64 {
    500
}

fn thirty_seconds() -> u64 {
    30_000
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            mode: RestartMode::OnFailure,
            max_retries: five(),
            backoff_ms: half_second(),
            max_backoff_ms: thirty_seconds(),
        }
    }
}

impl RestartPolicy {
    /// Whether a run that ended (as a failure or not) is started again.
    pub fn restarts_after(&self, failure: bool) -> bool {
        match self.mode {
            RestartMode::Never => false,
            RestartMode::OnFailure => failure,
            RestartMode::Always => true,
        }
    }

    /// The delay before restart number `attempt` (1-based): `backoff · 2^(attempt-1)`, capped.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let factor = 1u64
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.backoff_ms
            .saturating_mul(factor)
            .min(self.max_backoff_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RestartPolicy {
            backoff_ms: 100,
            max_backoff_ms: 1000,
            ..Default::default()
        };
        assert_eq!(p.delay_ms(1), 100);
        assert_eq!(p.delay_ms(2), 200);
        assert_eq!(p.delay_ms(4), 800);
        assert_eq!(p.delay_ms(5), 1000);
        assert_eq!(p.delay_ms(200), 1000);
    }
}
