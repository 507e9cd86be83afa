//! What the tools found about a situation: the facts the sources gather and tests build by
//! hand.

use serde_json::Value;
use std::collections::BTreeMap;

/// The project as the catalog knows it.
#[derive(Debug, Clone, Default)]
pub struct ProjectFacts {
    /// Name.
    pub name: String,
    /// Stacks (`rust`, `node`, …).
    pub stacks: Vec<String>,
    /// `active`, `deprecated`, …
    pub lifecycle: Option<String>,
    /// Folder missing on disk.
    pub missing: bool,
    /// Projects that depend on this one.
    pub dependents: u32,
}

/// Git state.
#[derive(Debug, Clone, Default)]
pub struct GitFacts {
    /// Uncommitted changes.
    pub dirty: bool,
    /// Commits not pushed.
    pub ahead: u32,
    /// Upstream commits not pulled.
    pub behind: u32,
    /// Days since the last commit.
    pub days_since_commit: Option<i64>,
}

/// GitHub's side of the project, as last fetched.
#[derive(Debug, Clone, Default)]
pub struct GitHubFacts {
    /// `owner/name`.
    pub repository: String,
    /// CI of the local HEAD: (short commit, `success|failure|pending|none`, failing checks).
    pub head_ci: Option<(String, String, Vec<String>)>,
    /// CI of the default branch: (branch, state, failing checks).
    pub default_ci: Option<(String, String, Vec<String>)>,
    /// Open pull requests.
    pub open_pulls: Option<u32>,
    /// Commits the default branch on GitHub has that HEAD has not.
    pub behind_by: Option<u32>,
    /// Commits HEAD has that the default branch on GitHub has not.
    pub ahead_by: Option<u32>,
    /// Minutes since it was fetched.
    pub age_minutes: i64,
}

/// Services now.
#[derive(Debug, Clone, Default)]
pub struct ServiceFacts {
    /// How many are defined.
    pub total: u32,
    /// How many are ready.
    pub ready: u32,
    /// Names of those in crash loop.
    pub crash_loop: Vec<String>,
    /// Names of those failed or unhealthy.
    pub failing: Vec<String>,
    /// Failed runs in the last 24 hours.
    pub crashes_24h: u32,
}

/// Resource trend over the last hour.
#[derive(Debug, Clone, Default)]
pub struct ResourceFacts {
    /// Resident memory now, MiB.
    pub memory_mb: f64,
    /// Change from the first to the last quarter of the hour, percent.
    pub memory_change_pct: f64,
    /// Mean CPU, percent of a core.
    pub cpu_mean: f64,
}

/// A memory recalled for the question.
#[derive(Debug, Clone, Default)]
pub struct Recalled {
    /// Memory id.
    pub id: i64,
    /// Its deliberation.
    pub deliberation_id: Option<i64>,
    /// Its title.
    pub title: String,
    /// What the council chose then.
    pub chosen: Option<String>,
    /// What turned out right, when recorded.
    pub outcome: Option<String>,
}

/// What the project's pipelines recorded.
#[derive(Debug, Clone, Default)]
pub struct PipelineFacts {
    /// The newest finished runs, newest first: (`ci #12`, its state).
    pub latest: Vec<(String, String)>,
    /// How many finished runs in a row, newest first, failed.
    pub failure_streak: u32,
    /// The newest run whose steps read a test report: (`ci #12`, passed, failed, skipped).
    pub tests: Option<(String, u32, u32, u32)>,
}

/// How a project's newest deployments of new releases ended.
#[derive(Debug, Clone, Default)]
pub struct DeploymentFacts {
    /// The newest: (release number, `succeeded|failed|rolled_back`, why it failed).
    pub newest: (i64, String, Option<String>),
    /// Hours since it ended.
    pub newest_age_hours: Option<f64>,
    /// How many of the last (up to five) failed or were rolled back: (bad, of).
    pub bad_of_last: (u32, u32),
    /// How many in a row, newest first, succeeded.
    pub good_streak: u32,
}

/// What a project's backups recorded.
#[derive(Debug, Clone, Default)]
pub struct BackupFacts {
    /// Its backup policies.
    pub policies: u32,
    /// Hours since its newest good backup (none: no good backup yet).
    pub last_good_age_hours: Option<f64>,
    /// Why its newest backup failed, when it did.
    pub last_failed: Option<String>,
}

/// Everything the tools found.
#[derive(Debug, Clone, Default)]
pub struct Situation {
    /// The project, when the question is about one.
    pub project: Option<ProjectFacts>,
    /// Its git state.
    pub git: Option<GitFacts>,
    /// Its services.
    pub services: Option<ServiceFacts>,
    /// Its resource trend.
    pub resources: Option<ResourceFacts>,
    /// Its pipelines' recent runs and test counts.
    pub pipelines: Option<PipelineFacts>,
    /// Timeline entries in the last 7 days.
    pub activity_7d: Option<u32>,
    /// Audited actions on it in the last 7 days.
    pub audit_7d: Option<u32>,
    /// Hours since the newest backup Optimus knows of (none: no backup recorded).
    pub backup_age_hours: Option<f64>,
    /// What the project's backup policies recorded (none: it has no policy).
    pub backups: Option<BackupFacts>,
    /// How its newest deployments ended (none: never deployed).
    pub deployments: Option<DeploymentFacts>,
    /// GitHub's side (none: not on GitHub, or never fetched).
    pub github: Option<GitHubFacts>,
    /// Facts the asker stated.
    pub facts: BTreeMap<String, Value>,
    /// The day it is asked (stated dates count from it).
    pub today: Option<chrono::NaiveDate>,
    /// Memories recalled for the question.
    pub memories: Vec<Recalled>,
    /// Knowledge-graph neighbours, in words.
    pub graph: Vec<String>,
    /// Domains the question touches.
    pub topics: Vec<String>,
}
