//! Deployments: a project's numbered releases and the deployments that put them in service,
//! with how each service is replaced ([`DeployPolicy`], part of a service's definition).

use serde::{Deserialize, Serialize};

/// How a deployment replaces a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Start the new release beside the old one on a fresh port, switch traffic once it is
    /// ready, keep the old one warm through the watch window, then stop it.
    BlueGreen,
    /// Stop the old release, then start the new one (services that cannot run twice).
    Recreate,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::BlueGreen => "blue_green",
            Strategy::Recreate => "recreate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "blue_green" => Some(Strategy::BlueGreen),
            "recreate" => Some(Strategy::Recreate),
            _ => None,
        }
    }
}

/// Where a deployed release of a service runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeployTarget {
    /// A process supervised by Optimus, running the service's `command` in the release's
    /// folder (the default).
    #[default]
    Process,
    /// A container on the Docker Engine, from an image built from the release's Dockerfile (or
    /// the `image` named), published on a port from the registry.
    Docker,
}

impl DeployTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployTarget::Process => "process",
            DeployTarget::Docker => "docker",
        }
    }

    fn is_process(&self) -> bool {
        *self == DeployTarget::Process
    }
}

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Waiting for the project's deployment before it to finish.
    Queued,
    /// Under way (starting, switching, or watching the new release).
    Running,
    /// The new release serves and stayed healthy through the watch window.
    Succeeded,
    /// The new release never served (it did not become ready, or a step failed); the old one
    /// kept serving.
    Failed,
    /// The new release served but failed in the watch window; traffic went back to the old one.
    RolledBack,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 5] = [
        DeploymentStatus::Queued,
        DeploymentStatus::Running,
        DeploymentStatus::Succeeded,
        DeploymentStatus::Failed,
        DeploymentStatus::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Queued => "queued",
            DeploymentStatus::Running => "running",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether it has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::RolledBack
        )
    }
}

/// How deployments replace one service (the `deploy` table of a service in `optimus.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeployPolicy {
    /// `blue_green` or `recreate`; unset: blue-green for a service with a port, else recreate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Readiness checks that must pass in a row before traffic switches (1–20, default 3).
    #[serde(default = "ready_passes")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 20))]
    pub ready_passes: u32,
    /// How long the new release may take to become ready, in seconds (1–3600, default 120).
    #[serde(default = "ready_timeout_secs")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 3600))]
    pub ready_timeout_secs: u32,
    /// How long the old release stays warm after the switch while the new one is watched, in
    /// seconds (0–86400, default 30).
    #[serde(default = "watch_secs")]
    #[cfg_attr(feature = "ssr", schema(maximum = 86400))]
    pub watch_secs: u32,
    /// How long requests under way on the old release may take to finish, in seconds (0–600,
    /// default 30).
    #[serde(default = "drain_secs")]
    #[cfg_attr(feature = "ssr", schema(maximum = 600))]
    pub drain_secs: u32,
    /// Readiness failures in a row during the watch window that roll back (1–20, default 3).
    #[serde(default = "failures")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 20))]
    pub max_ready_failures: u32,
    /// Share of 5xx answers (in percent, 1–100, default 20) during the watch window that rolls
    /// back, once at least `min_requests` were answered.
    #[serde(default = "max_5xx_percent")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub max_5xx_percent: u32,
    /// Answers needed before the 5xx share counts (1–100000, default 20).
    #[serde(default = "min_requests")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100_000))]
    pub min_requests: u32,
    /// A command run once before the release's instances start, e.g. a database migration
    /// (`sh -c`, in the release's folder, or in a container of the release's image for the
    /// docker target; at most 4000 characters). A non-zero exit fails the deployment before
    /// anything started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 4000))]
    pub pre_deploy: Option<String>,
    /// How long `pre_deploy` may run, in seconds (1–86400, default 600).
    #[serde(default = "pre_deploy_timeout_secs")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 86400))]
    pub pre_deploy_timeout_secs: u32,
    /// The project's newest good backup must be at most this many hours old (1–8760) before
    /// the deployment runs anything (its `pre_deploy` migration first of all); otherwise it
    /// fails with nothing started. Unset: no backup is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 8760))]
    pub require_backup_hours: Option<u32>,
    /// Where the release runs: `process` (default) or `docker`.
    #[serde(default, skip_serializing_if = "DeployTarget::is_process")]
    pub target: DeployTarget,
    /// Docker: the Dockerfile, relative to the service's `cwd` in the release (default
    /// `Dockerfile`; at most 500 characters, no `..` segment). Not with `image`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub dockerfile: Option<String>,
    /// Docker: an image to run instead of building one, e.g. `nginx:1.27` (pulled when the
    /// engine lacks it; at most 255 characters of `a-z 0-9 . _ - / : @`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(max_length = 255))]
    pub image: Option<String>,
    /// Docker: the port the container listens on, passed to it as `PORT` (1–65535; default:
    /// the service's `port`, else 8080).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 65535))]
    pub container_port: Option<u16>,
}

fn ready_passes() -> u32 {
    3
}
fn ready_timeout_secs() -> u32 {
    120
}
fn watch_secs() -> u32 {
    30
}
fn drain_secs() -> u32 {
    30
}
fn failures() -> u32 {
    3
}
fn max_5xx_percent() -> u32 {
    20
}
fn min_requests() -> u32 {
    20
}
fn pre_deploy_timeout_secs() -> u32 {
    600
}

impl Default for DeployPolicy {
    fn default() -> Self {
        Self {
            strategy: None,
            ready_passes: ready_passes(),
            ready_timeout_secs: ready_timeout_secs(),
            watch_secs: watch_secs(),
            drain_secs: drain_secs(),
            max_ready_failures: failures(),
            max_5xx_percent: max_5xx_percent(),
            min_requests: min_requests(),
            pre_deploy: None,
            pre_deploy_timeout_secs: pre_deploy_timeout_secs(),
            require_backup_hours: None,
            target: DeployTarget::Process,
            dockerfile: None,
            image: None,
            container_port: None,
        }
    }
}

impl DeployPolicy {
    /// Whether every setting is at its default (then it is left out of a definition's JSON).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The first setting out of its range, as (`field`, reason).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let ranges: [(&'static str, u32, u32, u32); 8] = [
            ("ready_passes", self.ready_passes, 1, 20),
            ("ready_timeout_secs", self.ready_timeout_secs, 1, 3600),
            ("watch_secs", self.watch_secs, 0, 86400),
            ("drain_secs", self.drain_secs, 0, 600),
            ("max_ready_failures", self.max_ready_failures, 1, 20),
            ("max_5xx_percent", self.max_5xx_percent, 1, 100),
            ("min_requests", self.min_requests, 1, 100_000),
            (
                "pre_deploy_timeout_secs",
                self.pre_deploy_timeout_secs,
                1,
                86400,
            ),
        ];
        for (field, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err((field, format!("must be {lo} to {hi}, not {value}")));
            }
        }
        if let Some(c) = &self.pre_deploy {
            if c.chars().count() > 4000 {
                return Err(("pre_deploy", "must be at most 4000 characters".into()));
            }
        }
        if self.container_port == Some(0) {
            return Err(("container_port", "must be 1 to 65535, not 0".into()));
        }
        if let Some(h) = self.require_backup_hours {
            if !(1..=8760).contains(&h) {
                return Err((
                    "require_backup_hours",
                    format!("must be 1 to 8760, not {h}"),
                ));
            }
        }
        Ok(())
    }

    /// The rules a schema cannot state, as (`field`, reason): a pre-deploy command is not
    /// blank, the Docker settings need the `docker` target, a Dockerfile and an image exclude
    /// each other, and both are well formed.
    pub fn check_rules(&self) -> Result<(), (&'static str, String)> {
        let docker = self.target == DeployTarget::Docker;
        for (field, set) in [
            ("dockerfile", self.dockerfile.is_some()),
            ("image", self.image.is_some()),
            ("container_port", self.container_port.is_some()),
        ] {
            if set && !docker {
                return Err((
                    field,
                    "is a setting of the docker target (target = \"docker\")".into(),
                ));
            }
        }
        if self
            .pre_deploy
            .as_ref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err((
                "pre_deploy",
                "must not be blank (leave it out instead)".into(),
            ));
        }
        if self.dockerfile.is_some() && self.image.is_some() {
            return Err((
                "image",
                "give a Dockerfile to build or an image to run, not both".into(),
            ));
        }
        if let Some(f) = &self.dockerfile {
            let parts_ok = !f.is_empty()
                && f.len() <= 500
                && !f.starts_with('/')
                && f.split('/').all(|p| !p.is_empty() && p != "..");
            if !parts_ok {
                return Err((
                    "dockerfile",
                    "must be a relative path of at most 500 characters without empty or `..` parts"
                        .into(),
                ));
            }
        }
        if let Some(i) = &self.image {
            let ok = !i.is_empty()
                && i.len() <= 255
                && i.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@')
                })
                && i.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
            if !ok {
                return Err((
                    "image",
                    "must be an image reference of at most 255 characters: a-z 0-9 . _ - / : @, starting with a letter or digit".into(),
                ));
            }
        }
        Ok(())
    }
}

/// One step of a deployment as it is shown live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeployStep {
    /// What it does, e.g. `start web`, `wait until web is ready`, `switch web`, `watch`.
    pub name: String,
    /// `pending`, `running`, `done`, `failed` or `skipped`.
    pub status: String,
    /// What happened (a probe's last error, the port it started on…).
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentInfo {
    pub id: i64,
    pub project_id: i64,
    /// The project's name.
    pub project: String,
    /// The release number it deploys.
    pub release: i64,
    /// `deploy` or `rollback`.
    pub kind: String,
    /// `blue_green` or `recreate` when asked for every service, else `auto` (each service's
    /// own policy).
    pub strategy: String,
    pub status: DeploymentStatus,
    /// Why it failed or rolled back.
    pub reason: Option<String>,
    /// The deployment this one rolled back (a manual rollback, or the entry recorded for an
    /// automatic one).
    pub rollback_of: Option<i64>,
    /// The release that served before it.
    pub previous_release: Option<i64>,
    /// Who asked for it (none: Optimus itself, for an automatic rollback).
    pub triggered_by: Option<String>,
    /// What the council said, when it was asked.
    pub council: Option<CouncilVerdict>,
    pub steps: Vec<DeployStep>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// When the watch window of a running deployment ends.
    pub watch_until: Option<String>,
}

/// A release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseInfo {
    pub id: i64,
    pub project_id: i64,
    /// 1, 2, 3… per project.
    pub number: i64,
    /// `folder` (the project's files, as git would see them), `git` (a commit's tree) or
    /// `pipeline_run` (a run's artifacts).
    pub source: String,
    pub commit: Option<String>,
    pub commit_message: Option<String>,
    pub branch: Option<String>,
    pub pipeline_run_id: Option<i64>,
    /// The services it runs.
    pub services: Vec<String>,
    /// A keyed hash of the environment it runs with (never the values).
    pub env_digest: String,
    pub files: i64,
    pub bytes: i64,
    pub pinned: bool,
    /// Whether it serves now.
    pub current: bool,
    /// Whether its files were pruned (it can no longer be deployed).
    pub pruned: bool,
    pub created_by: Option<String>,
    pub created_at: String,
}

/// Deploys a project: a new release of its files (or of a pipeline run's artifacts), or an
/// existing release again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeployRequest {
    pub project_id: i64,
    /// `blue_green` or `recreate` for every service (default: each service's own policy).
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// Deploy this kept release instead of making a new one.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub release: Option<i64>,
    /// Make the new release from this pipeline run's artifacts.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub pipeline_run_id: Option<i64>,
    /// Ask the Council of Minds first (needs the `write` scope too): its verdict is kept with
    /// the deployment; `defer` or `reject` stops it before anything starts; and how the
    /// deployment ends is recorded as the deliberation's outcome.
    #[serde(default)]
    pub council: bool,
}

/// What the Council of Minds said before a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CouncilVerdict {
    /// The deliberation.
    pub deliberation_id: i64,
    /// The option it chose (`proceed`, `proceed_with_conditions`, `defer`, `reject`), if any.
    pub option: Option<String>,
    /// Its calibrated confidence, 0–1.
    pub confidence: f64,
    /// The outcome recorded once the deployment ended (`proceed` when it stayed healthy,
    /// `reject` when it failed or rolled back).
    #[serde(default)]
    pub outcome: Option<String>,
}

/// Rolls a project back to a kept release (default: the one before the current one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RollbackRequest {
    pub project_id: i64,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub release: Option<i64>,
}

/// Acts on one deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentRequest {
    pub id: i64,
}

/// Asks for a project's deployments or releases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectDeploymentsRequest {
    pub project_id: i64,
}

/// Asks for the latest deployments of every project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecentDeploymentsRequest {
    /// How many at most (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<i64>,
}

/// Pins a release (kept whatever the retention) or unpins it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PinReleaseRequest {
    pub project_id: i64,
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub release: i64,
    pub pinned: bool,
}

/// Compares two releases of a project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseDiffRequest {
    pub project_id: i64,
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub from: i64,
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub to: i64,
}

/// What changed between two releases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseDiff {
    pub from: i64,
    pub to: i64,
    /// Commits between them (newest first, `<short id> <summary>`), when both come from git.
    pub commits: Vec<String>,
    /// Services added, removed or changed (`+ web`, `- worker`, `~ api: command, env`).
    pub services: Vec<String>,
    /// Environment keys added, removed or whose value changed (names only).
    pub env_added: Vec<String>,
    pub env_removed: Vec<String>,
    pub env_changed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_out_of_range_names_its_field_and_defaults_are_left_out() {
        let p = DeployPolicy::default();
        assert!(p.check().is_ok() && p.is_default());
        let bad = DeployPolicy {
            max_5xx_percent: 0,
            ..DeployPolicy::default()
        };
        assert_eq!(bad.check().map_err(|e| e.0), Err("max_5xx_percent"));
        let parsed: DeployPolicy =
            serde_json::from_str(r#"{"strategy":"recreate"}"#).unwrap_or_default();
        assert_eq!(parsed.strategy, Some(Strategy::Recreate));
        assert_eq!(parsed.watch_secs, 30);
    }

    #[test]
    fn statuses_round_trip_their_wire_names() {
        for s in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Strategy::parse("blue_green"), Some(Strategy::BlueGreen));
        assert!(DeploymentStatus::RolledBack.is_final() && !DeploymentStatus::Queued.is_final());
    }
}
