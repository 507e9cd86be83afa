//! Evidence: what the read-only tools found about a situation, numbered so every claim can cite
//! it, and the decision signals it carries. Pure: [`super::sources`] builds the [`Situation`]
//! from the database; tests build it by hand.
//!
//! [`assess`] numbers the evidence in a fixed order, one family of signals after another:
//! the project and its git state, the runtime, the pipelines, the deployments, GitHub's CI, the tests (recorded by pipelines,
//! else stated) and backups, the asker's other facts,
//! then what the council remembers and the knowledge graph.

mod asked;
mod book;
mod checks;
mod knowledge;
mod measures;
mod project;
pub mod quantity;
mod runtime;
mod signal;
mod situation;
mod stated;

pub use signal::{Category, Nature, Signal};
pub use situation::{
    BackupFacts, DeploymentFacts, GitFacts, GitHubFacts, PipelineFacts, ProjectFacts, Recalled,
    ResourceFacts, ServiceFacts, Situation,
};

use crate::models::council::Evidence;
use book::Book;

/// What the tools found, numbered, with its signals and the stated facts nothing could read.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// The numbered evidence.
    pub evidence: Vec<Evidence>,
    /// Its decision signals.
    pub signals: Vec<Signal>,
    /// Stated facts not interpreted, as `name = value`.
    pub unused: Vec<String>,
}

/// The numbered evidence and its signals.
pub fn assess(s: &Situation) -> (Vec<Evidence>, Vec<Signal>) {
    let a = read(s);
    (a.evidence, a.signals)
}

/// The whole [`Assessment`] of a situation.
pub fn read(s: &Situation) -> Assessment {
    let mut b = Book::default();
    if let Some(p) = &s.project {
        project::project(&mut b, p);
    }
    if let Some(g) = &s.git {
        project::git(&mut b, g);
    }
    if let Some(sv) = &s.services {
        runtime::services(&mut b, sv);
    }
    if let Some(r) = &s.resources {
        runtime::resources(&mut b, r);
    }
    runtime::activity(&mut b, s);
    if let Some(p) = &s.pipelines {
        checks::pipelines(&mut b, p);
    }
    if let Some(d) = &s.deployments {
        checks::deployments(&mut b, d);
    }
    if let Some(g) = &s.github {
        checks::github(&mut b, g);
    }
    checks::tests(&mut b, &s.facts, s.pipelines.as_ref());
    checks::backups(&mut b, s);
    asked::facts(&mut b, &s.facts, s.today);
    knowledge::memories(&mut b, &s.memories);
    knowledge::graph(&mut b, &s.graph);
    Assessment {
        evidence: b.evidence,
        signals: b.signals,
        unused: b.unused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn stated_facts_are_read_by_meaning_and_what_is_not_understood_is_listed() {
        let s = Situation {
            facts: [
                ("error_rate", Value::from("7%")),
                ("p95_latency_ms", Value::from(1800)),
                ("test_coverage", Value::from("12%")),
                ("deadline", Value::from("2026-12-09")),
                ("mascot", Value::from("otter")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 7),
            ..Default::default()
        };
        let a = read(&s);
        let claim = |part: &str| a.signals.iter().find(|x| x.claim.contains(part));
        assert!(
            claim("error rate is 7%").is_some_and(|x| x.risk > 0.5),
            "{a:?}"
        );
        assert!(claim("p95 is 1.8 s").is_some_and(|x| x.risk > 0.3), "{a:?}");
        assert!(claim("coverage is low (12%)").is_some(), "{a:?}");
        assert!(claim("deadline is 2 day(s) away").is_some(), "{a:?}");
        assert_eq!(a.unused, ["mascot = otter"]);
        let s = Situation {
            facts: [
                ("code_review", Value::from("done")),
                ("security_review", Value::from("no issues found")),
                ("deadline_hours", Value::from(12)),
                ("latest_error_rate", Value::from("2%")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            ..Default::default()
        };
        let a = read(&s);
        let claim = |part: &str| a.signals.iter().find(|x| x.claim.contains(part));
        assert!(claim("the security review passed").is_some(), "{a:?}");
        assert_eq!(
            a.signals
                .iter()
                .filter(|x| x.claim.contains("security"))
                .count(),
            1,
            "a code review is not a security review: {a:?}"
        );
        assert!(claim("deadline is 0 day(s)").is_some(), "{a:?}");
        assert!(
            claim("error rate is 2%").is_some(),
            "not a test fact: {a:?}"
        );
        assert!(
            a.unused.iter().any(|u| u.starts_with("code_review")),
            "{a:?}"
        );
    }

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
}
