//! The live event stream: one typed enum for every state change a user may want to see.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An audited action was recorded.
    AuditRecorded {
        /// The action, e.g. `users.create`.
        action: String,
        /// Its target.
        target: String,
        /// Who did it.
        actor: Option<String>,
    },
    /// A user was created, changed or removed.
    UserChanged {
        /// The user.
        id: i64,
        /// `created`, `role_changed` or `deleted`.
        change: String,
    },
    /// A workspace scan started, progressed or ended.
    ScanProgress {
        /// The workspace.
        workspace_id: i64,
        /// `running`, `done` or `failed`.
        state: String,
        /// Folders examined so far.
        folders_scanned: u32,
        /// Projects found so far.
        projects_found: u32,
    },
    /// A project was discovered, changed, or went missing.
    ProjectChanged {
        /// The project.
        id: i64,
        /// Its name.
        name: String,
        /// `discovered`, `updated`, `missing` or `returned`.
        change: String,
    },
    /// A service changed state (started, became ready, failed, was restarted, stopped, …).
    ServiceChanged {
        /// The service.
        id: i64,
        /// Its project.
        project_id: i64,
        /// Its name.
        name: String,
        /// The new state (see `ServiceState`).
        state: crate::models::runtime::ServiceState,
        /// The state in words.
        message: Option<String>,
        /// Main process id, while running.
        pid: Option<u32>,
        /// Its port.
        port: Option<u16>,
    },
    /// New output lines of a service (topic `logs:<service id>`).
    LogLines {
        /// The service.
        service_id: i64,
        /// The lines, oldest first.
        lines: Vec<crate::models::runtime::LogLine>,
    },
    /// One sampling tick: every running service's resources and the host's (topic `metrics`).
    ResourcesSampled {
        /// Per service.
        samples: Vec<crate::models::runtime::ResourceSample>,
        /// The machine.
        host: crate::models::runtime::HostSample,
    },
    /// A persona finished its turn in a deliberation (topic `council`).
    CouncilTurn {
        /// The deliberation.
        deliberation_id: i64,
        /// The turn.
        turn: crate::models::council::Turn,
    },
    /// A deliberation reached its consensus (topic `council`).
    CouncilDone {
        /// The deliberation.
        deliberation_id: i64,
        /// The consensus.
        consensus: crate::models::council::Consensus,
    },
    /// A deployment, or one of its steps, changed (topic `deployments`).
    DeploymentChanged {
        /// The deployment.
        deployment_id: i64,
        /// Its project.
        project_id: i64,
        /// The release it deploys.
        release: i64,
        /// Its status.
        status: crate::models::deployments::DeploymentStatus,
        /// The step that changed, when one did.
        step: Option<String>,
    },
    /// A backup job (backup, verify, restore) changed state or progressed (topic `backups`).
    BackupJobChanged {
        /// The job.
        job_id: i64,
        /// Its policy.
        policy_id: i64,
        /// The policy's project.
        project_id: i64,
        /// What it does.
        kind: crate::models::backups::JobKind,
        /// Its status.
        status: crate::models::backups::JobStatus,
    },
    /// A pipeline run, or one of its steps, changed state (topic `pipelines`).
    PipelineRunChanged {
        /// The run.
        run_id: i64,
        /// Its pipeline.
        pipeline_id: i64,
        /// Its project.
        project_id: i64,
        /// The run's number in its pipeline.
        number: i64,
        /// The run's state.
        status: crate::models::pipelines::RunState,
        /// The step that changed, when one did.
        step: Option<String>,
        /// That step's new state.
        step_status: Option<crate::models::pipelines::StepState>,
    },
    /// New output lines of a pipeline step (topic `pipeline-logs:<run id>`).
    StepLogLines {
        /// The run.
        run_id: i64,
        /// The step.
        step: String,
        /// Its attempt (from 1).
        attempt: u32,
        /// The lines, oldest first.
        lines: Vec<crate::models::pipelines::StepLogLine>,
    },
    /// A new notification in the notification centre (topic `notifications`).
    Notification {
        /// The notification (`read` is false).
        notification: crate::models::notifications::NotificationInfo,
    },
}

impl Event {
    /// The topic a client subscribes to in order to receive this event.
    pub fn topic(&self) -> String {
        match self {
            Event::AuditRecorded { .. } => "audit".into(),
            Event::UserChanged { .. } => "users".into(),
            Event::ScanProgress { .. } | Event::ProjectChanged { .. } => "catalog".into(),
            Event::ServiceChanged { .. } => "runtime".into(),
            Event::LogLines { service_id, .. } => format!("logs:{service_id}"),
            Event::ResourcesSampled { .. } => "metrics".into(),
            Event::Notification { .. } => "notifications".into(),
            Event::PipelineRunChanged { .. } => "pipelines".into(),
            Event::DeploymentChanged { .. } => "deployments".into(),
            Event::BackupJobChanged { .. } => "backups".into(),
            Event::StepLogLines { run_id, .. } => format!("pipeline-logs:{run_id}"),
            Event::CouncilTurn { .. } | Event::CouncilDone { .. } => "council".into(),
        }
    }
}

/// An event as sent over the WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventEnvelope {
    /// Unique id of this event.
    pub id: String,
    /// When it was published.
    pub at: DateTime<Utc>,
    /// Its topic (see [`Event::topic`]).
    pub topic: String,
    /// The event.
    pub event: Event,
}

/// What a WebSocket client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Receive events of these topics (`*` for all).
    Subscribe {
        /// Topics.
        topics: Vec<String>,
    },
    /// Stop receiving these topics.
    Unsubscribe {
        /// Topics.
        topics: Vec<String>,
    },
}

/// The topics a client may subscribe to; besides these, `logs:<service id>` carries one
/// service's output and `pipeline-logs:<run id>` one pipeline run's.
pub const TOPICS: [&str; 10] = [
    "audit",
    "users",
    "catalog",
    "runtime",
    "metrics",
    "notifications",
    "council",
    "pipelines",
    "deployments",
    "backups",
];

/// Whether `topic` is one a client may subscribe to.
pub fn is_known_topic(topic: &str) -> bool {
    let numbered = |prefix: &str| {
        topic
            .strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    };
    topic == "*" || TOPICS.contains(&topic) || numbered("logs:") || numbered("pipeline-logs:")
}

/// What the server sends over the WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
// Only 64-bit builds (the server) cross the lint's size threshold.
#[cfg_attr(
    target_pointer_width = "64",
    expect(
        clippy::large_enum_variant,
        reason = "one short-lived message per event; boxing would cost an allocation for every event"
    )
)]
pub enum ServerMessage {
    /// The subscription now in force (sent after every subscribe/unsubscribe).
    Subscribed {
        /// Topics.
        topics: Vec<String>,
    },
    /// An event on a subscribed topic.
    Event {
        /// The event.
        envelope: EventEnvelope,
    },
    /// The client fell behind and this many events were dropped.
    Lagged {
        /// How many.
        missed: u64,
    },
    /// A client message could not be understood.
    Error {
        /// Why.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_events_go_to_a_topic_clients_may_subscribe_to() {
        let e = Event::DeploymentChanged {
            deployment_id: 1,
            project_id: 1,
            release: 1,
            status: crate::models::deployments::DeploymentStatus::Running,
            step: None,
        };
        assert!(is_known_topic(&e.topic()), "{}", e.topic());
    }
}
