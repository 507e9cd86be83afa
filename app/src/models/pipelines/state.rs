//! Where a pipeline run and each of its steps stand.

use serde::{Deserialize, Serialize};

/// A run's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Waiting for an instance to take it (or for the run before it, under `queue`).
    #[default]
    Queued,
    /// Steps are running.
    Running,
    /// Nothing runs; a gate waits for a person (`waiting_approval`).
    #[serde(rename = "waiting_approval")]
    Waiting,
    /// Every step succeeded (or was allowed to fail, or was skipped by its condition).
    Succeeded,
    /// A step failed, a gate was rejected or timed out.
    Failed,
    /// Someone cancelled it (or a newer run did, under `cancel`).
    Cancelled,
    /// The instance running it died; it was not finished.
    Interrupted,
}

impl RunState {
    /// Every state.
    pub const ALL: [RunState; 7] = [
        Self::Queued,
        Self::Running,
        Self::Waiting,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::Interrupted,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Waiting => "waiting_approval",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Over: nothing more happens in it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::Interrupted
        )
    }
}

/// A step's state within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not started: waits for its dependencies (or a free slot).
    #[default]
    Pending,
    /// Its command runs.
    Running,
    /// A gate waiting for a person (`waiting_approval`).
    #[serde(rename = "waiting_approval")]
    Waiting,
    /// Exited 0, or approved.
    Succeeded,
    /// Exited non-zero, timed out, could not start, or was rejected.
    Failed,
    /// Not run: its condition did not match, or a dependency did not succeed.
    Skipped,
    /// Stopped or never started because the run was cancelled.
    Cancelled,
}

impl StepState {
    /// Every state.
    pub const ALL: [StepState; 7] = [
        Self::Pending,
        Self::Running,
        Self::Waiting,
        Self::Succeeded,
        Self::Failed,
        Self::Skipped,
        Self::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Waiting => "waiting_approval",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Over for this run.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Skipped | Self::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_wire_names() {
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap_or_default(),
                format!("\"{}\"", s.as_str())
            );
        }
        for s in StepState::ALL {
            assert_eq!(StepState::parse(s.as_str()), Some(s));
        }
        assert_eq!(RunState::parse("done"), None);
    }
}
