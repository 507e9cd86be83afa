//! Evidence: what the read-only tools found about a situation, numbered so every claim can cite
//! it, and the decision signals it carries. Pure: [`super::sources`] builds the [`Situation`]
//! from the database; tests build it by hand.

use crate::models::council::Evidence;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a signal is about; personas weigh categories by their stance and domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Tests, crashes, service health.
    Reliability,
    /// Backups, schema changes, rollback.
    DataSafety,
    /// Vulnerabilities, secrets, reviews.
    Security,
    /// Deadlines, effort, scope.
    Delivery,
    /// Working tree, upstream, review state.
    Hygiene,
    /// Memory and CPU trends.
    Performance,
    /// Money and resources.
    Cost,
    /// Workload, team size, wellbeing.
    People,
    /// What past decisions taught.
    Knowledge,
    /// Lifecycle and long-term direction.
    Strategy,
}

impl Category {
    /// The persona domains that make a persona an expert in this category.
    pub fn domains(self) -> &'static [&'static str] {
        match self {
            Category::Reliability => &["reliability", "testing", "risk", "deploy"],
            Category::DataSafety => &["backup", "data", "risk"],
            Category::Security => &["security", "risk", "privacy"],
            Category::Delivery => &["delivery", "deadline", "effort", "scope"],
            Category::Hygiene => &["delivery", "reliability", "technical_debt"],
            Category::Performance => &["performance", "metrics", "resources"],
            Category::Cost => &["cost", "budget", "resources"],
            Category::People => &["team", "wellbeing", "workload", "leadership"],
            Category::Knowledge => &["evidence", "learning", "knowledge", "research"],
            Category::Strategy => &["strategy", "roadmap", "lifecycle", "architecture"],
        }
    }
}

/// A decision signal: positive `risk` argues against proceeding, negative for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The evidence it comes from.
    pub evidence: String,
    /// What it is about.
    pub category: Category,
    /// −1 (clearly safe to proceed) … 1 (clearly not).
    pub risk: f64,
    /// What it means, for a rationale.
    pub claim: String,
    /// What would make proceeding acceptable (a condition), when it is a risk.
    pub mitigation: Option<String>,
}

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
    /// Timeline entries in the last 7 days.
    pub activity_7d: Option<u32>,
    /// Audited actions on it in the last 7 days.
    pub audit_7d: Option<u32>,
    /// Hours since the newest backup Optimus knows of (none: no backup recorded).
    pub backup_age_hours: Option<f64>,
    /// Facts the asker stated.
    pub facts: BTreeMap<String, Value>,
    /// Memories recalled for the question.
    pub memories: Vec<Recalled>,
    /// Knowledge-graph neighbours, in words.
    pub graph: Vec<String>,
    /// Domains the question touches.
    pub topics: Vec<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_lowercase().as_str() {
            "yes" | "true" | "y" | "1" => Some(true),
            "no" | "false" | "n" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        _ => None,
    }
}

/// Whether a fact's name is about tests, backups or schema changes (read by their own tools).
fn consumed(key: &str) -> bool {
    ["test", "backup", "schema", "migration"]
        .iter()
        .any(|w| key.contains(w))
}

/// The tests as stated, under the names people use: `tests = failing`, `tests_passing = true`,
/// `failing_tests = 3`, `ci = green`.
fn stated_tests(facts: &BTreeMap<String, Value>) -> Option<String> {
    if let Some(v) = facts.get("tests").or_else(|| facts.get("ci")) {
        return Some(text(v));
    }
    let (k, v) = facts.iter().find(|(k, _)| k.contains("test"))?;
    let failing_name = k.contains("fail") || k.contains("broken") || k.contains("red");
    if let (Value::Number(_), Some(n), true) = (v, number(v), failing_name) {
        return Some(if n > 0.0 { "failing" } else { "passing" }.into());
    }
    if let Some(b) = truthy(v) {
        return Some(
            if b != failing_name {
                "passing"
            } else {
                "failing"
            }
            .into(),
        );
    }
    Some(text(v))
}

/// The newest backup as stated: `Some(None)` when the asker says there is none, `Some(Some(h))`
/// for its age in hours (`backup_age_hours = 30`, `backup_age_days = 2`, `backup = recent`).
fn stated_backup(facts: &BTreeMap<String, Value>) -> Option<Option<f64>> {
    for (k, v) in facts.iter().filter(|(k, _)| k.contains("backup")) {
        if let (Value::Number(_), Some(n)) = (v, number(v)) {
            let hours = if k.contains("day") {
                n * 24.0
            } else if k.contains("min") {
                n / 60.0
            } else {
                n
            };
            return Some(Some(hours));
        }
        let t = text(v);
        if ["none", "missing", "never", "no", "false", "absent"].contains(&t.as_str()) {
            return Some(None);
        }
        if ["recent", "fresh", "today", "yes", "true", "ok", "verified"].contains(&t.as_str()) {
            return Some(Some(1.0));
        }
        if t.contains("stale") || t.contains("old") || t.contains("week") {
            return Some(Some(24.0 * 14.0));
        }
    }
    None
}

/// Builds evidence and signals as the tools report them.
#[derive(Default)]
struct Book {
    evidence: Vec<Evidence>,
    signals: Vec<Signal>,
}

impl Book {
    fn add(
        &mut self,
        source: &str,
        summary: String,
        signals: Vec<(Category, f64, String, Option<String>)>,
    ) -> String {
        let id = format!("E{}", self.evidence.len() + 1);
        let strongest =
            signals
                .iter()
                .map(|s| s.1)
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        self.evidence.push(Evidence {
            id: id.clone(),
            source: source.to_owned(),
            summary,
            signal: if strongest > 0.05 {
                "risk"
            } else if strongest < -0.05 {
                "support"
            } else {
                "neutral"
            }
            .to_owned(),
            weight: (strongest.abs() * 100.0).round() / 100.0,
        });
        for (category, risk, claim, mitigation) in signals {
            self.signals.push(Signal {
                evidence: id.clone(),
                category,
                risk,
                claim,
                mitigation,
            });
        }
        id
    }
}

/// The numbered evidence and its signals.
pub fn assess(s: &Situation) -> (Vec<Evidence>, Vec<Signal>) {
    let mut b = Book::default();
    let about_data = s
        .topics
        .iter()
        .any(|t| matches!(t.as_str(), "data" | "deploy" | "backup"));
    if let Some(p) = &s.project {
        let mut sig = Vec::new();
        if p.missing {
            sig.push((
                Category::Reliability,
                0.5,
                format!("the folder of {} is missing on disk", p.name),
                Some("restore the project folder".to_owned()),
            ));
        }
        match p.lifecycle.as_deref() {
            Some("deprecated") | Some("retired") => sig.push((
                Category::Strategy,
                0.45,
                format!(
                    "{} is marked {}",
                    p.name,
                    p.lifecycle.as_deref().unwrap_or_default()
                ),
                Some("confirm the project is worth further investment".to_owned()),
            )),
            Some("experimental") => sig.push((
                Category::Strategy,
                -0.2,
                format!("{} is experimental: change is expected", p.name),
                None,
            )),
            _ => {}
        }
        b.add(
            "project",
            format!(
                "Project {} ({}), lifecycle {}{}",
                p.name,
                if p.stacks.is_empty() {
                    "no stack detected".to_owned()
                } else {
                    p.stacks.join(", ")
                },
                p.lifecycle.as_deref().unwrap_or("not set"),
                if p.missing { ", folder missing" } else { "" }
            ),
            sig,
        );
        if p.dependents > 0 {
            let risk = (0.1 * f64::from(p.dependents)).min(0.4);
            b.add(
                "graph",
                format!("{} other project(s) depend on {}", p.dependents, p.name),
                vec![(
                    Category::Reliability,
                    risk,
                    format!("a failure reaches {} dependent project(s)", p.dependents),
                    Some("tell the owners of dependent projects first".to_owned()),
                )],
            );
        }
    }
    if let Some(g) = &s.git {
        let mut sig = Vec::new();
        if g.dirty {
            sig.push((
                Category::Hygiene,
                0.3,
                "the working tree has uncommitted changes".to_owned(),
                Some("commit or stash local changes".to_owned()),
            ));
        }
        if g.behind > 0 {
            sig.push((
                Category::Hygiene,
                (0.15 + 0.05 * f64::from(g.behind)).min(0.4),
                format!("{} upstream commit(s) are not pulled", g.behind),
                Some("pull and re-test the upstream changes".to_owned()),
            ));
        }
        if !g.dirty && g.behind == 0 {
            sig.push((
                Category::Hygiene,
                -0.2,
                "the working tree is clean and up to date".to_owned(),
                None,
            ));
        }
        if let Some(d) = g.days_since_commit.filter(|d| *d > 180) {
            sig.push((
                Category::Strategy,
                0.2,
                format!("no commit for {d} days"),
                Some("find out who still knows the code".to_owned()),
            ));
        }
        b.add(
            "git",
            format!(
                "Git: {}, {} ahead, {} behind{}",
                if g.dirty {
                    "uncommitted changes"
                } else {
                    "clean"
                },
                g.ahead,
                g.behind,
                g.days_since_commit
                    .map(|d| format!(", last commit {d} day(s) ago"))
                    .unwrap_or_default()
            ),
            sig,
        );
    }
    if let Some(sv) = &s.services {
        let mut sig = Vec::new();
        if !sv.crash_loop.is_empty() {
            sig.push((
                Category::Reliability,
                0.8,
                format!("{} in crash loop", sv.crash_loop.join(", ")),
                Some(format!("fix {} first", sv.crash_loop.join(", "))),
            ));
        } else if !sv.failing.is_empty() {
            sig.push((
                Category::Reliability,
                0.5,
                format!("{} failing", sv.failing.join(", ")),
                Some(format!("get {} healthy", sv.failing.join(", "))),
            ));
        } else if sv.total > 0 && sv.ready == sv.total {
            sig.push((
                Category::Reliability,
                -0.3,
                format!("all {} service(s) are ready", sv.total),
                None,
            ));
        }
        b.add(
            "services",
            format!(
                "Services: {} defined, {} ready, {} in crash loop, {} failing",
                sv.total,
                sv.ready,
                sv.crash_loop.len(),
                sv.failing.len()
            ),
            sig,
        );
        let crash = match sv.crashes_24h {
            0 if sv.total > 0 => vec![(
                Category::Reliability,
                -0.2,
                "no crash in the last 24 hours".to_owned(),
                None,
            )],
            0 => Vec::new(),
            n @ 1..=2 => vec![(
                Category::Reliability,
                0.3,
                format!("{n} crash(es) in the last 24 hours"),
                Some("understand the recent crashes".to_owned()),
            )],
            n => vec![(
                Category::Reliability,
                0.6,
                format!("{n} crashes in the last 24 hours"),
                Some("understand the recent crashes".to_owned()),
            )],
        };
        b.add(
            "crashes",
            format!("{} failed run(s) in the last 24 hours", sv.crashes_24h),
            crash,
        );
    }
    if let Some(r) = &s.resources {
        let mut sig = Vec::new();
        if r.memory_change_pct > 30.0 {
            sig.push((
                Category::Performance,
                0.4,
                format!("memory grew {:.0}% in the last hour", r.memory_change_pct),
                Some("rule out a memory leak".to_owned()),
            ));
        }
        if r.cpu_mean > 80.0 {
            sig.push((
                Category::Performance,
                0.3,
                format!("CPU averages {:.0}% of a core", r.cpu_mean),
                Some("check capacity first".to_owned()),
            ));
        }
        if sig.is_empty() {
            sig.push((
                Category::Performance,
                -0.15,
                "resources are steady".to_owned(),
                None,
            ));
        }
        b.add(
            "resources",
            format!(
                "Resources (last hour): {:.0} MiB now ({:+.0}%), CPU mean {:.0}%",
                r.memory_mb, r.memory_change_pct, r.cpu_mean
            ),
            sig,
        );
    }
    if let Some(n) = s.activity_7d {
        b.add(
            "activity",
            format!("{n} timeline entries in the last 7 days"),
            Vec::new(),
        );
    }
    if let Some(n) = s.audit_7d {
        b.add(
            "audit",
            format!("{n} audited actions in the last 7 days"),
            Vec::new(),
        );
    }
    // Tests: stated by the asker until pipelines record them.
    let tests = stated_tests(&s.facts);
    match tests.as_deref() {
        Some(t) if t.contains("fail") || t.contains("red") || t == "false" => {
            b.add(
                "tests",
                format!("Tests: {t} (stated)"),
                vec![(
                    Category::Reliability,
                    0.9,
                    "the tests are failing".to_owned(),
                    Some("make the tests pass".to_owned()),
                )],
            );
        }
        Some(t) if t.contains("flaky") => {
            b.add(
                "tests",
                format!("Tests: {t} (stated)"),
                vec![(
                    Category::Reliability,
                    0.35,
                    "the tests are flaky".to_owned(),
                    Some("stabilise the flaky tests".to_owned()),
                )],
            );
        }
        Some(t) if t.contains("pass") || t.contains("green") || t == "true" => {
            b.add(
                "tests",
                format!("Tests: {t} (stated)"),
                vec![(
                    Category::Reliability,
                    -0.4,
                    "the tests pass".to_owned(),
                    None,
                )],
            );
        }
        Some(t) => {
            b.add("tests", format!("Tests: {t} (stated)"), Vec::new());
        }
        None => {
            b.add(
                "tests",
                "No test results are recorded".to_owned(),
                vec![(
                    Category::Reliability,
                    0.1,
                    "nobody has shown the tests pass".to_owned(),
                    Some("run the tests".to_owned()),
                )],
            );
        }
    }
    // Backups: the newest Optimus knows of, or the asker's statement.
    let stated = stated_backup(&s.facts);
    let stated_age = stated.flatten();
    let backup = match stated {
        Some(said) => said,
        None => s.backup_age_hours,
    };
    let schema_change = s
        .facts
        .iter()
        .filter(|(k, _)| {
            (k.contains("schema") || k.contains("migration")) && !k.ends_with("_hours")
        })
        .filter_map(|(_, v)| truthy(v))
        .any(|b| b);
    let schema_age = s.facts.get("schema_change_hours").and_then(number);
    match backup {
        None => {
            let risk = if schema_change {
                0.9
            } else if about_data {
                0.45
            } else {
                0.15
            };
            b.add(
                "backups",
                "No backup of this project is recorded".to_owned(),
                vec![(
                    Category::DataSafety,
                    risk,
                    if schema_change {
                        "a schema change with no backup to return to".to_owned()
                    } else {
                        "there is no backup to restore from".to_owned()
                    },
                    Some("take a backup and check it restores".to_owned()),
                )],
            );
        }
        Some(age) => {
            let older_than_schema = schema_age.is_some_and(|s| age > s);
            let (risk, claim) = if schema_change && older_than_schema {
                (
                    0.85,
                    format!("the newest backup ({age:.0} h) is older than the schema change"),
                )
            } else if age > 24.0 * 7.0 {
                (
                    if schema_change { 0.7 } else { 0.35 },
                    format!("the newest backup is {:.0} days old", age / 24.0),
                )
            } else if age > 24.0 {
                (
                    if schema_change { 0.3 } else { 0.05 },
                    format!("the newest backup is {age:.0} hours old"),
                )
            } else {
                (
                    -0.35,
                    format!("a backup {age:.0} hour(s) old is there to restore from"),
                )
            };
            b.add(
                "backups",
                format!(
                    "Newest backup: {age:.0} hour(s) ago{}",
                    if stated_age.is_some() {
                        " (stated)"
                    } else {
                        ""
                    }
                ),
                vec![(
                    Category::DataSafety,
                    risk,
                    claim,
                    (risk > 0.0).then(|| "take a fresh backup first".to_owned()),
                )],
            );
        }
    }
    // The asker's other facts.
    for (key, value) in &s.facts {
        if consumed(key) || key == "ci" {
            continue;
        }
        let t = text(value);
        let n = number(value);
        let sig: Vec<(Category, f64, String, Option<String>)> = match key.as_str() {
            "deadline_days" | "days_to_deadline" => match n {
                Some(d) if d <= 3.0 => vec![(
                    Category::Delivery,
                    -0.45,
                    format!("the deadline is {d:.0} day(s) away: waiting misses it"),
                    None,
                )],
                Some(d) if d <= 14.0 => vec![(
                    Category::Delivery,
                    -0.15,
                    format!("the deadline is {d:.0} days away"),
                    None,
                )],
                Some(d) => vec![(
                    Category::Delivery,
                    0.1,
                    format!("the deadline is {d:.0} days away: there is time to prepare"),
                    Some("use the time to reduce the risks".to_owned()),
                )],
                None => Vec::new(),
            },
            "team_size" => match n {
                Some(x) if x <= 2.0 => vec![(
                    Category::People,
                    0.25,
                    format!("a team of {x:.0} carries it"),
                    Some("keep the change small enough for the team".to_owned()),
                )],
                Some(x) => vec![(
                    Category::People,
                    -0.1,
                    format!("a team of {x:.0} can share the work"),
                    None,
                )],
                None => Vec::new(),
            },
            "effort" | "size" => match t.as_str() {
                s if s.contains("small") || s.contains("low") || s.contains("trivial") => vec![(
                    Category::Delivery,
                    -0.3,
                    "the change is small".to_owned(),
                    None,
                )],
                s if s.contains("large") || s.contains("high") || s.contains("big") => vec![(
                    Category::Delivery,
                    0.35,
                    "the change is large".to_owned(),
                    Some("split it into smaller steps".to_owned()),
                )],
                _ => Vec::new(),
            },
            "risk" => match t.as_str() {
                s if s.contains("high") => vec![(
                    Category::Reliability,
                    0.6,
                    "the asker rates the risk high".to_owned(),
                    Some("prepare a rollback plan".to_owned()),
                )],
                s if s.contains("low") => vec![(
                    Category::Reliability,
                    -0.35,
                    "the asker rates the risk low".to_owned(),
                    None,
                )],
                _ => Vec::new(),
            },
            "rollback" | "rollback_plan" => match truthy(value) {
                Some(true) => vec![(
                    Category::DataSafety,
                    -0.3,
                    "a rollback is ready".to_owned(),
                    None,
                )],
                Some(false) => vec![(
                    Category::DataSafety,
                    0.4,
                    "there is no way back".to_owned(),
                    Some("prepare a rollback".to_owned()),
                )],
                None => Vec::new(),
            },
            "security_review" | "security" => match t.as_str() {
                s if s.contains("pass") || s.contains("done") || s == "true" => vec![(
                    Category::Security,
                    -0.35,
                    "the security review passed".to_owned(),
                    None,
                )],
                s if s.contains("fail") || s.contains("vuln") => vec![(
                    Category::Security,
                    0.85,
                    "the security review found problems".to_owned(),
                    Some("fix the security findings".to_owned()),
                )],
                s if s.contains("pending") || s.contains("none") || s == "false" => vec![(
                    Category::Security,
                    0.45,
                    "no security review yet".to_owned(),
                    Some("get a security review".to_owned()),
                )],
                _ => Vec::new(),
            },
            "workload" | "overtime" | "on_call_load" => match t.as_str() {
                s if s.contains("high") || s.contains("heavy") || s == "true" => vec![(
                    Category::People,
                    0.55,
                    "the people involved are overloaded".to_owned(),
                    Some("lighten the load before adding more".to_owned()),
                )],
                s if s.contains("low") || s.contains("light") || s == "false" => {
                    vec![(Category::People, -0.2, "the team has room".to_owned(), None)]
                }
                _ => Vec::new(),
            },
            "budget" | "cost" => match t.as_str() {
                s if s.contains("over") || s.contains("exceed") || s.contains("high") => vec![(
                    Category::Cost,
                    0.5,
                    "it strains the budget".to_owned(),
                    Some("find the money first".to_owned()),
                )],
                s if s.contains("within")
                    || s.contains("low")
                    || s.contains("under")
                    || s.contains("ok") =>
                {
                    vec![(Category::Cost, -0.3, "it fits the budget".to_owned(), None)]
                }
                _ => Vec::new(),
            },
            "users_affected" | "users" => match n {
                Some(u) if u >= 1000.0 => vec![(
                    Category::Reliability,
                    0.2,
                    format!("{u:.0} users are affected if it goes wrong"),
                    Some("roll out gradually".to_owned()),
                )],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        b.add("fact", format!("Stated: {key} = {shown}"), sig);
    }
    for m in &s.memories {
        let sig = match m.outcome.as_deref() {
            Some("reject") | Some("defer") => vec![(
                Category::Knowledge,
                0.5,
                format!(
                    "a similar decision (#{}) turned out to need `{}`",
                    m.deliberation_id.unwrap_or_default(),
                    m.outcome.as_deref().unwrap_or_default()
                ),
                Some("check what went wrong last time is fixed".to_owned()),
            )],
            Some("proceed") | Some("proceed_with_conditions") => vec![(
                Category::Knowledge,
                -0.35,
                format!(
                    "a similar decision (#{}) to proceed turned out right",
                    m.deliberation_id.unwrap_or_default()
                ),
                None,
            )],
            _ => Vec::new(),
        };
        b.add(
            "memory",
            format!(
                "Recalled: {}{}{}",
                m.title,
                m.chosen
                    .as_deref()
                    .map(|c| format!(" — the council chose {c}"))
                    .unwrap_or_default(),
                m.outcome
                    .as_deref()
                    .map(|o| format!("; outcome: {o}"))
                    .unwrap_or_default()
            ),
            sig,
        );
    }
    for g in &s.graph {
        b.add("graph", g.clone(), Vec::new());
    }
    (b.evidence, b.signals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_numbered_and_stated_failing_tests_are_a_strong_risk() {
        let s = Situation {
            facts: [("tests".to_owned(), Value::from("failing"))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let (evidence, signals) = assess(&s);
        assert_eq!(evidence[0].id, "E1");
        let tests = signals
            .iter()
            .find(|x| x.claim.contains("tests are failing"));
        assert!(tests.is_some_and(|t| t.risk >= 0.8 && t.category == Category::Reliability));
        assert!(evidence
            .iter()
            .any(|e| e.source == "backups" && e.signal == "risk"));
    }

    #[test]
    fn facts_are_read_under_the_names_people_use() {
        let f = |pairs: &[(&str, Value)]| -> BTreeMap<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        };
        assert_eq!(
            stated_tests(&f(&[("tests_passing", true.into())])).as_deref(),
            Some("passing")
        );
        assert_eq!(
            stated_tests(&f(&[("failing_tests", 3.into())])).as_deref(),
            Some("failing")
        );
        assert_eq!(
            stated_tests(&f(&[("tests_failing", "yes".into())])).as_deref(),
            Some("failing")
        );
        assert_eq!(stated_backup(&f(&[("backup", "none".into())])), Some(None));
        assert_eq!(
            stated_backup(&f(&[("backup_age_days", 2.into())])),
            Some(Some(48.0))
        );
        assert_eq!(
            stated_backup(&f(&[("last_backup", "recent".into())])),
            Some(Some(1.0))
        );
        let s = Situation {
            facts: f(&[
                ("has_recent_backup", false.into()),
                ("migration", "yes".into()),
            ]),
            ..Default::default()
        };
        let (_, signals) = assess(&s);
        assert!(
            signals
                .iter()
                .any(|x| x.category == Category::DataSafety && x.risk > 0.8),
            "{signals:?}"
        );
    }

    #[test]
    fn a_backup_older_than_the_schema_change_is_a_data_safety_risk() {
        let s = Situation {
            facts: [
                ("schema_change".to_owned(), Value::from(true)),
                ("schema_change_hours".to_owned(), Value::from(2)),
                ("backup_age_hours".to_owned(), Value::from(30)),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let (_, signals) = assess(&s);
        assert!(signals
            .iter()
            .any(|x| x.category == Category::DataSafety && x.risk > 0.8));
    }
}
