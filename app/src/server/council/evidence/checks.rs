//! The safety checks: the pipelines' recent runs, the tests (as the pipelines recorded them,
//! else as stated), and the backups against any schema change.

use super::book::Book;
use super::stated::{number, stated_backup, stated_tests, truthy};
use super::{Category, DeploymentFacts, GitHubFacts, Nature, PipelineFacts, Situation};
use serde_json::Value;
use std::collections::BTreeMap;

/// The pipelines' newest runs and failure streak.
pub(super) fn pipelines(b: &mut Book, p: &PipelineFacts) {
    let Some((newest, state)) = p.latest.first() else {
        return;
    };
    let mut sig = Vec::new();
    if p.failure_streak >= 3 {
        sig.push((
            Category::Reliability,
            0.7,
            format!("the last {} pipeline runs failed", p.failure_streak),
            Some("get the pipeline green again".to_owned()),
        ));
    } else if state == "failed" || state == "interrupted" {
        sig.push((
            Category::Reliability,
            0.45,
            format!("the newest pipeline run ({newest}) {state}"),
            Some(format!("look at why {newest} {state}")),
        ));
    } else if state == "succeeded" {
        sig.push((
            Category::Reliability,
            -0.25,
            format!("the newest pipeline run ({newest}) succeeded"),
            None,
        ));
    }
    let listed = p
        .latest
        .iter()
        .take(5)
        .map(|(run, state)| format!("{run} {state}"))
        .collect::<Vec<_>>()
        .join(", ");
    b.add(
        "pipelines",
        format!(
            "Pipeline runs (newest first): {listed}; {} failed in a row",
            p.failure_streak
        ),
        sig,
    );
}

/// The newest deployments: one that failed or was rolled back is a risk for the next; a run of
/// good ones is reassurance.
pub(super) fn deployments(b: &mut Book, d: &DeploymentFacts) {
    let (release, status, reason) = &d.newest;
    let (bad, of) = d.bad_of_last;
    let why = reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let mut sig = Vec::new();
    if status == "failed" || status == "rolled_back" {
        let what = if status == "failed" {
            "failed"
        } else {
            "was rolled back"
        };
        sig.push((
            Category::Reliability,
            if bad >= 2 { 0.6 } else { 0.45 },
            format!("the deployment of release #{release} {what}{why}"),
            Some(format!("find out why release #{release} {what}")),
        ));
    } else if bad >= 2 {
        sig.push((
            Category::Reliability,
            0.3,
            format!("{bad} of the last {of} deployments failed or were rolled back"),
            Some("find out why deployments keep failing".to_owned()),
        ));
    } else if d.good_streak >= 3 {
        sig.push((
            Category::Reliability,
            -0.25,
            format!("the last {} deployments succeeded", d.good_streak),
            None,
        ));
    }
    b.add(
        "deployments",
        format!(
            "Newest deployment: release #{release} {}{why}{}; {bad} of the last {of} failed or were rolled back",
            status.replace('_', " "),
            d.newest_age_hours
                .map(|h| format!(", {h:.0} h ago"))
                .unwrap_or_default()
        ),
        sig,
    );
}

/// GitHub: the CI of the local HEAD (else of the default branch), open pull requests, and how
/// far HEAD is behind the default branch.
pub(super) fn github(b: &mut Book, g: &GitHubFacts) {
    let mut sig = Vec::new();
    let mut parts = vec![format!("GitHub {}", g.repository)];
    let failing = |f: &[String]| {
        if f.is_empty() {
            String::new()
        } else {
            format!(" ({})", f.join(", "))
        }
    };
    if let Some((commit, state, f)) = &g.head_ci {
        parts.push(format!("CI on HEAD {commit}: {state}{}", failing(f)));
        match state.as_str() {
            "failure" => sig.push((
                Category::Reliability,
                0.6,
                format!("CI is red on HEAD {commit}{}", failing(f)),
                Some("make CI green on HEAD first".to_owned()),
            )),
            "pending" => sig.push((
                Category::Reliability,
                0.15,
                format!("CI is still running on HEAD {commit}"),
                Some("wait for CI on HEAD".to_owned()),
            )),
            "success" => sig.push((
                Category::Reliability,
                -0.3,
                format!("CI passed on HEAD {commit}"),
                None,
            )),
            _ => {}
        }
    }
    if let Some((branch, state, f)) = &g.default_ci {
        parts.push(format!("CI on {branch}: {state}{}", failing(f)));
        if state == "failure" && g.head_ci.as_ref().is_none_or(|h| h.1 == "none") {
            sig.push((
                Category::Reliability,
                0.35,
                format!("CI is red on {branch}{}", failing(f)),
                Some(format!("get {branch} green again")),
            ));
        }
    }
    if let Some(n) = g.open_pulls {
        parts.push(format!("{n} open pull request(s)"));
    }
    if let (Some(ahead), Some(behind)) = (g.ahead_by, g.behind_by) {
        parts.push(format!(
            "HEAD {ahead} ahead, {behind} behind the default branch"
        ));
        if behind > 0 {
            sig.push((
                Category::Reliability,
                if behind >= 20 { 0.25 } else { 0.1 },
                format!("HEAD is {behind} commit(s) behind GitHub's default branch"),
                Some("bring HEAD up to date with the default branch".to_owned()),
            ));
        }
    }
    parts.push(format!("fetched {} min ago", g.age_minutes));
    b.add("github", parts.join("; "), sig);
}

/// Tests: as the newest pipeline run with a test report counted them, else as the asker stated.
pub(super) fn tests(
    b: &mut Book,
    facts: &BTreeMap<String, Value>,
    recorded: Option<&PipelineFacts>,
) {
    if let Some((run, passed, failed, skipped)) = recorded.and_then(|p| p.tests.clone()) {
        let text = format!("Tests in {run}: {passed} passed, {failed} failed, {skipped} skipped");
        let sig = if failed > 0 {
            vec![(
                Category::Reliability,
                0.9,
                format!("{failed} test(s) failed in {run}"),
                Some("make the tests pass".to_owned()),
            )]
        } else if passed > 0 {
            vec![(
                Category::Reliability,
                -0.4,
                format!("all {passed} test(s) passed in {run}"),
                None,
            )]
        } else {
            Vec::new()
        };
        b.add("tests", text, sig);
        return;
    }
    let tests = stated_tests(facts);
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
        Some(t)
            if ["none", "no", "missing", "untested", "not run", "never"]
                .iter()
                .any(|w| t == *w || t.starts_with(&format!("{w} "))) =>
        {
            b.add(
                "tests",
                format!("Tests: {t} (stated)"),
                vec![(
                    Category::Reliability,
                    0.3,
                    "the change is untested".to_owned(),
                    Some("try it where a mistake is cheap first".to_owned()),
                )],
            );
        }
        Some(t) => {
            b.add("tests", format!("Tests: {t} (stated)"), Vec::new());
        }
        None => {
            b.add_as(
                Nature::Absence,
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
}

/// Backups: what the project's backup policies recorded (it replaces what the asker stated),
/// else the asker's statement, weighed against a schema change and whether the question is
/// about data. A newest backup that failed is evidence of its own.
pub(super) fn backups(b: &mut Book, s: &Situation) {
    let about_data = s
        .topics
        .iter()
        .any(|t| matches!(t.as_str(), "data" | "deploy" | "backup"));
    let stated = stated_backup(&s.facts).filter(|_| s.backups.is_none());
    let stated_age = stated.flatten();
    let backup = match (&s.backups, stated) {
        (Some(recorded), _) => recorded.last_good_age_hours,
        (None, Some(said)) => said,
        (None, None) => s.backup_age_hours,
    };
    if let Some(why) = s.backups.as_ref().and_then(|r| r.last_failed.as_deref()) {
        b.add(
            "backups",
            format!("The newest backup failed: {why}"),
            vec![(
                Category::DataSafety,
                if about_data { 0.4 } else { 0.2 },
                "the last backup attempt failed".to_owned(),
                Some("fix the backup and run it again".to_owned()),
            )],
        );
    }
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
            b.add_as(
                Nature::Absence,
                "backups",
                if s.backups.is_some() {
                    "No good backup of this project is recorded (its policies have made none)"
                        .to_owned()
                } else {
                    "No backup of this project is recorded".to_owned()
                },
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
                    } else if s.backups.is_some() {
                        " (recorded by its backup policies)"
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
}

#[cfg(test)]
mod tests {
    use super::super::assess;
    use super::*;

    #[test]
    fn recorded_backups_replace_what_was_stated_and_a_failed_one_counts_against() {
        use crate::server::council::evidence::BackupFacts;
        let stated = Situation {
            facts: [("backup".to_owned(), Value::from("recent"))]
                .into_iter()
                .collect(),
            topics: vec!["deploy".into()],
            ..Default::default()
        };
        let (evidence, _) = assess(&stated);
        let said = evidence
            .iter()
            .find(|e| e.source == "backups")
            .expect("backups");
        assert!(said.summary.contains("(stated)"), "{}", said.summary);

        let recorded = Situation {
            backups: Some(BackupFacts {
                policies: 1,
                last_good_age_hours: Some(24.0 * 30.0),
                last_failed: Some("database `main`: pg_dump exited with status 1".into()),
            }),
            ..stated
        };
        let (evidence, signals) = assess(&recorded);
        let texts: Vec<&str> = evidence
            .iter()
            .filter(|e| e.source == "backups")
            .map(|e| e.summary.as_str())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("recorded by its backup policies")),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t.contains("pg_dump exited")),
            "{texts:?}"
        );
        assert!(!texts.iter().any(|t| t.contains("(stated)")), "{texts:?}");
        let risk: f64 = signals
            .iter()
            .filter(|s| s.category == Category::DataSafety)
            .map(|s| s.risk)
            .sum();
        assert!(
            risk > 0.5,
            "a month-old backup and a failed one weigh: {risk}"
        );
    }

    #[test]
    fn recorded_test_counts_and_a_failure_streak_replace_what_was_stated() {
        let s = Situation {
            facts: [("tests".to_owned(), Value::from("passing"))]
                .into_iter()
                .collect(),
            pipelines: Some(PipelineFacts {
                latest: vec![
                    ("ci #9".into(), "failed".into()),
                    ("ci #8".into(), "failed".into()),
                    ("ci #7".into(), "failed".into()),
                ],
                failure_streak: 3,
                tests: Some(("ci #9".into(), 40, 2, 1)),
            }),
            ..Default::default()
        };
        let (evidence, signals) = assess(&s);
        assert!(signals
            .iter()
            .any(|x| x.claim == "2 test(s) failed in ci #9" && x.risk >= 0.8));
        assert!(signals
            .iter()
            .any(|x| x.claim == "the last 3 pipeline runs failed"));
        assert!(
            !signals.iter().any(|x| x.claim.contains("tests pass")),
            "the recorded counts win over the stated fact"
        );
        assert!(evidence
            .iter()
            .any(|e| e.summary == "Tests in ci #9: 40 passed, 2 failed, 1 skipped"));
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
