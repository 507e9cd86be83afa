//! Scenario tests of the offline engine: hand-built situations with an obvious right call (and
//! one genuinely split), run through evidence, every routed persona and the consensus.

use super::evidence::{read, GitFacts, ProjectFacts, Recalled, ServiceFacts, Situation};
use super::{consensus, judgement, offline, personas};
use crate::models::council::{default_options, Consensus, OptionInfo, Turn, DEFAULT_OPTIONS};
use serde_json::Value;

fn facts(pairs: &[(&str, Value)]) -> std::collections::BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn healthy_project() -> Situation {
    Situation {
        project: Some(ProjectFacts {
            name: "billing".into(),
            stacks: vec!["rust".into()],
            lifecycle: Some("active".into()),
            ..Default::default()
        }),
        git: Some(GitFacts {
            days_since_commit: Some(1),
            ..Default::default()
        }),
        services: Some(ServiceFacts {
            total: 2,
            ready: 2,
            ..Default::default()
        }),
        backup_age_hours: Some(3.0),
        ..Default::default()
    }
}

/// Runs the council on a situation with custom options (or the default set).
fn run_with(question: &str, mut s: Situation, options: Vec<OptionInfo>) -> (Vec<Turn>, Consensus) {
    let all = personas::builtin_infos();
    let topics = personas::topics(question);
    s.topics = topics.iter().map(|t| (*t).to_owned()).collect();
    let a = read(&s);
    let evidence = a.evidence;
    let labels: Vec<String> = if options
        .iter()
        .map(|o| o.id.as_str())
        .eq(DEFAULT_OPTIONS.iter().map(|(id, _)| *id))
    {
        Vec::new()
    } else {
        options.iter().map(|o| o.label.clone()).collect()
    };
    let (frame, signals) = judgement::frame(question, &labels, &a.signals);
    let asked = personas::route(&all, &[], &topics);
    let turns: Vec<Turn> = asked
        .iter()
        .map(|p| offline::position(p, &options, &signals, &frame))
        .collect();
    for t in &turns {
        for id in &t.evidence {
            assert!(
                evidence.iter().any(|e| &e.id == id),
                "{} cites {id}, which does not exist",
                t.persona
            );
        }
    }
    let votes: Vec<consensus::Vote<'_>> = turns
        .iter()
        .zip(&asked)
        .map(|(t, p)| consensus::Vote {
            turn: t,
            relevance: personas::relevance(p, &topics),
            track: 1.0,
        })
        .collect();
    let mut c = consensus::combine(&votes, &options);
    judgement::conclude(
        &mut c,
        &frame,
        a.unused,
        Vec::new(),
        &judgement::calibration::SHIPPED,
    );
    (turns, c)
}

fn run(question: &str, s: Situation) -> (Vec<Turn>, Consensus) {
    run_with(question, s, default_options())
}

fn chose(c: &Consensus) -> &str {
    c.option.as_deref().unwrap_or("none")
}

fn all_cite_evidence(turns: &[Turn]) {
    for t in turns {
        assert!(
            !t.evidence.is_empty(),
            "{} cites nothing: {}",
            t.persona,
            t.rationale
        );
        assert!(t.rationale.contains("[E"), "{}", t.rationale);
    }
}

#[test]
fn failing_tests_and_no_backup_before_a_schema_change_is_a_confident_no() {
    let mut s = healthy_project();
    s.backup_age_hours = None;
    s.facts = facts(&[("tests", "failing".into()), ("schema_change", true.into())]);
    let (turns, c) = run("Should we deploy the new billing schema today?", s);
    assert!(matches!(chose(&c), "reject" | "defer"), "{c:?}");
    assert!(c.confidence > 0.7, "clear case: {c:?}");
    all_cite_evidence(&turns);
    let guardian = turns.iter().find(|t| t.persona == "guardian");
    assert_eq!(guardian.and_then(|t| t.option.as_deref()), Some("reject"));
}

#[test]
fn all_green_and_low_risk_is_a_confident_go() {
    let mut s = healthy_project();
    s.facts = facts(&[("tests", "passing".into()), ("risk", "low".into())]);
    let (turns, c) = run("Should we deploy release 2.4 of billing?", s);
    assert_eq!(chose(&c), "proceed", "{c:?}");
    assert!(c.confidence > 0.7, "clear case: {c:?}");
    all_cite_evidence(&turns);
    assert!(c.dissenters.is_empty(), "{:?}", c.dissenters);
}

#[test]
fn a_service_in_crash_loop_holds_a_deploy_back() {
    let mut s = healthy_project();
    s.services = Some(ServiceFacts {
        total: 2,
        ready: 1,
        crash_loop: vec!["worker".into()],
        crashes_24h: 7,
        ..Default::default()
    });
    s.facts = facts(&[("tests", "passing".into())]);
    let (turns, c) = run("Can we release the new worker version?", s);
    assert!(matches!(chose(&c), "defer" | "reject"), "{c:?}");
    assert!(turns.iter().any(|t| t
        .concerns
        .iter()
        .any(|x| x.contains("worker in crash loop"))));
}

#[test]
fn a_dirty_tree_behind_upstream_means_go_once_it_is_committed_and_pulled() {
    let mut s = healthy_project();
    s.git = Some(GitFacts {
        dirty: true,
        behind: 3,
        days_since_commit: Some(0),
        ..Default::default()
    });
    s.facts = facts(&[("tests", "passing".into())]);
    let (turns, c) = run("Should we tag and release version 1.8?", s);
    assert_eq!(chose(&c), "proceed_with_conditions", "{c:?}");
    let conditions: Vec<String> = turns.iter().flat_map(|t| t.conditions.clone()).collect();
    assert!(
        conditions.iter().any(|x| x.contains("commit")),
        "{conditions:?}"
    );
    assert!(
        conditions.iter().any(|x| x.contains("pull")),
        "{conditions:?}"
    );
}

#[test]
fn a_failed_security_review_is_a_no_from_the_guardian() {
    let mut s = healthy_project();
    s.facts = facts(&[
        ("tests", "passing".into()),
        ("security_review", "failed".into()),
    ]);
    let (turns, c) = run("Should we expose the admin API to the internet?", s);
    assert!(matches!(chose(&c), "defer" | "reject"), "{c:?}");
    let g = turns.iter().find(|t| t.persona == "guardian");
    assert!(matches!(
        g.and_then(|t| t.option.as_deref()),
        Some("reject") | Some("defer")
    ));
}

#[test]
fn a_tight_deadline_with_a_small_safe_change_goes_ahead() {
    let mut s = healthy_project();
    s.facts = facts(&[
        ("tests", "passing".into()),
        ("deadline_days", 2.into()),
        ("effort", "small".into()),
    ]);
    let (_, c) = run("Should we ship the invoice PDF fix before the deadline?", s);
    assert!(
        matches!(chose(&c), "proceed" | "proceed_with_conditions"),
        "{c:?}"
    );
}

#[test]
fn thin_evidence_gives_low_confidence_and_says_so() {
    let (turns, c) = run("Should we rewrite the frontend?", Situation::default());
    assert!(c.confidence < 0.6, "thin: {c:?}");
    assert!(
        turns.iter().any(|t| t.rationale.contains("thin")),
        "{turns:?}"
    );
}

#[test]
fn a_genuinely_split_case_has_low_confidence_and_names_its_dissenters() {
    // Green tests and a deadline tomorrow pull one way; a schema change with no backup and a
    // large change pull the other.
    let mut s = healthy_project();
    s.backup_age_hours = None;
    s.facts = facts(&[
        ("tests", "passing".into()),
        ("schema_change", true.into()),
        ("deadline_days", 1.into()),
        ("effort", "large".into()),
        ("rollback", true.into()),
    ]);
    let (_, c) = run("Should we deploy the data migration tomorrow?", s);
    assert!(c.confidence < 0.7, "split: {c:?}");
    assert!(!c.dissenters.is_empty(), "{c:?}");
}

#[test]
fn a_recalled_bad_outcome_tips_a_borderline_call() {
    let mut s = healthy_project();
    s.facts = facts(&[("tests", "flaky".into()), ("effort", "large".into())]);
    let question = "Should we deploy the search rewrite?";
    let (_, before) = run(question, s.clone());
    s.memories.push(Recalled {
        id: 1,
        deliberation_id: Some(41),
        title: "Should we deploy the search rewrite?".into(),
        chosen: Some("proceed_with_conditions".into()),
        outcome: Some("reject".into()),
    });
    let (turns, after) = run(question, s);
    let rank = |o: &str| {
        DEFAULT_OPTIONS
            .iter()
            .position(|(id, _)| *id == o)
            .unwrap_or(0)
    };
    assert!(
        rank(chose(&after)) > rank(chose(&before)),
        "{before:?} → {after:?}"
    );
    assert!(
        turns.iter().any(|t| t.rationale.contains("#41")),
        "the memory is cited"
    );
}

#[test]
fn an_overloaded_team_brings_the_healer_in_and_waits() {
    let mut s = healthy_project();
    s.facts = facts(&[("workload", "high".into()), ("team_size", 2.into())]);
    let (turns, c) = run(
        "The team is close to burnout: should we take on the migration this weekend?",
        s,
    );
    let healer = turns.iter().find(|t| t.persona == "healer");
    assert!(healer.is_some(), "the healer is asked");
    assert!(matches!(
        healer.and_then(|t| t.option.as_deref()),
        Some("defer") | Some("reject")
    ));
    assert!(
        matches!(chose(&c), "defer" | "reject" | "proceed_with_conditions"),
        "{c:?}"
    );
}

#[test]
fn a_deprecated_project_makes_the_strategist_hesitate() {
    let mut s = healthy_project();
    if let Some(p) = s.project.as_mut() {
        p.lifecycle = Some("deprecated".into());
    }
    s.facts = facts(&[("tests", "passing".into()), ("effort", "large".into())]);
    let (turns, _) = run("Should we invest in a new architecture for billing?", s);
    let strategist = turns.iter().find(|t| t.persona == "strategist");
    assert!(matches!(
        strategist.and_then(|t| t.option.as_deref()),
        Some("defer") | Some("reject") | Some("proceed_with_conditions")
    ));
    assert!(strategist.is_some_and(|t| t.rationale.contains("deprecated")));
}

#[test]
fn with_their_own_options_a_risky_situation_keeps_the_current_way() {
    let mut s = healthy_project();
    s.backup_age_hours = None;
    s.facts = facts(&[("tests", "failing".into()), ("schema_change", true.into())]);
    let options = vec![
        OptionInfo {
            id: "migrate_to_postgresql".into(),
            label: "Migrate to PostgreSQL".into(),
        },
        OptionInfo {
            id: "keep_sqlite".into(),
            label: "Keep SQLite".into(),
        },
    ];
    let (_, c) = run_with("Should we move the data to PostgreSQL now?", s, options);
    assert_eq!(chose(&c), "keep_sqlite", "{c:?}");
}
