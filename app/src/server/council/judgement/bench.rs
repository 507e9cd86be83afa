//! The labelled situations (`situations.json`) run through the offline council as plain
//! facts: each setup becomes the [`Situation`] the sources would gather for it. Prints every
//! call and the figures, refits the calibration (with leave-one-out figures, so the fit is
//! not judged on the cases it saw) and checks the targets with the shipped weights.
//! The same situations built through the API with real processes and git repositories are
//! `server/tests/api/council_judgement.rs`.
//!
//! `cargo test -p app --features ssr --lib judgement::bench -- --nocapture`

use super::calibration::{self, brier, Features, Params, Sample, SHIPPED};
use super::{conclude, frame};
use crate::models::council::{default_options, option_id, OptionInfo};
use crate::server::council::evidence::{
    read, BackupFacts, GitFacts, PipelineFacts, ProjectFacts, ServiceFacts, Situation,
};
use crate::server::council::{offline, personas};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Labelled {
    situations: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    class: String,
    question: String,
    #[serde(default)]
    options: Vec<String>,
    facts: BTreeMap<String, Value>,
    setup: Option<Value>,
    expect: Vec<String>,
}

/// The situation the sources would gather for a setup.
fn situation(c: &Case) -> Situation {
    let mut s = Situation {
        facts: c.facts.clone(),
        ..Default::default()
    };
    let Some(setup) = &c.setup else {
        return s;
    };
    s.project = Some(ProjectFacts {
        name: c.id.clone(),
        lifecycle: setup["lifecycle"].as_str().map(str::to_owned),
        ..Default::default()
    });
    if let Some(g) = setup.get("git") {
        s.git = Some(GitFacts {
            dirty: g["dirty"].as_bool().unwrap_or(false),
            behind: g["behind"].as_u64().map_or(0, |b| b as u32),
            days_since_commit: Some(0),
            ..Default::default()
        });
    }
    if let Some(list) = setup["services"].as_array() {
        let crash_loop: Vec<String> = list
            .iter()
            .filter(|v| v["state"] == "crash_loop")
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect();
        s.services = Some(ServiceFacts {
            total: list.len() as u32,
            ready: list.iter().filter(|v| v["state"] == "ready").count() as u32,
            crashes_24h: 2 * crash_loop.len() as u32,
            crash_loop,
            ..Default::default()
        });
    }
    if let Some(p) = setup.get("pipeline") {
        let mut facts = PipelineFacts::default();
        if let Some(j) = p.get("junit") {
            let (passed, failed) = (
                j["passed"].as_u64().unwrap_or(0) as u32,
                j["failed"].as_u64().unwrap_or(0) as u32,
            );
            let state = if failed > 0 { "failed" } else { "succeeded" };
            facts.latest = vec![("ci #1".into(), state.into())];
            facts.failure_streak = u32::from(failed > 0);
            facts.tests = Some(("ci #1".into(), passed, failed, 0));
        }
        if let Some(runs) = p["runs"].as_array() {
            facts.latest = runs
                .iter()
                .rev()
                .enumerate()
                .map(|(i, r)| {
                    (
                        format!("ci #{}", runs.len() - i),
                        r.as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            facts.failure_streak = facts
                .latest
                .iter()
                .take_while(|(_, st)| st == "failed")
                .count() as u32;
        }
        s.pipelines = Some(facts);
    }
    if let Some(Value::Object(b)) = setup.get("backup") {
        s.backups = Some(BackupFacts {
            policies: 1,
            last_good_age_hours: b.get("age_hours").and_then(Value::as_f64),
            last_failed: b
                .get("last_failed")
                .is_some_and(|f| f == true)
                .then(|| "the folder to back up is missing".to_owned()),
        });
    }
    s
}

/// One call: (id, class, option, features, right).
struct Call {
    id: String,
    class: String,
    option: String,
    kind: String,
    weights: String,
    features: Features,
    /// The confidence reported with the shipped calibration.
    confidence: f64,
    /// The share of the evidence the kind wants that was there.
    coverage: f64,
    right: bool,
}

fn run(c: &Case) -> Call {
    let options: Vec<OptionInfo> = if c.options.is_empty() {
        default_options()
    } else {
        c.options
            .iter()
            .map(|l| OptionInfo {
                id: option_id(l),
                label: l.clone(),
            })
            .collect()
    };
    let mut s = situation(c);
    let topics = personas::topics(&c.question);
    s.topics = topics.iter().map(|t| (*t).to_owned()).collect();
    let a = read(&s);
    let (fr, signals) = frame(&c.question, &c.options, &a.signals);
    let all = personas::builtin_infos();
    let asked = personas::route(&all, &[], &topics);
    let mut consensus = offline::council(&asked, &topics, &options, &signals, &fr);
    conclude(&mut consensus, &fr, a.unused, Vec::new(), &SHIPPED);
    let option = consensus.option.clone().unwrap_or_default();
    Call {
        id: c.id.clone(),
        class: c.class.clone(),
        right: c.expect.contains(&option),
        option,
        kind: consensus.kind.clone().unwrap_or_default(),
        weights: format!(
            "{:?} for: {:?}; against: {:?}",
            consensus.weights,
            consensus.supporters,
            consensus
                .dissenters
                .iter()
                .map(|d| format!("{} {}: {}", d.persona, d.option, d.reason))
                .collect::<Vec<_>>()
        ),
        features: Features::of(consensus.raw_confidence.unwrap_or(0.0), &fr),
        confidence: consensus.confidence,
        coverage: fr.coverage,
    }
}

/// How right a call is for the fit: 1 right on a clear case, ½ right on a split one (reasonable
/// judges differ), 0 wrong.
fn target(c: &Call) -> f64 {
    match (c.right, c.class.as_str()) {
        (false, _) => 0.0,
        (true, "split") => 0.5,
        (true, _) => 1.0,
    }
}

/// Accuracy, Brier score, mean confidence on clear and on split cases.
fn figures(calls: &[Call], confidence: impl Fn(usize, &Call) -> f64) -> (f64, f64, f64, f64) {
    let n = calls.len().max(1) as f64;
    let accuracy = calls.iter().filter(|c| c.right).count() as f64 / n;
    let pairs: Vec<(f64, f64)> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| (confidence(i, c), f64::from(u8::from(c.right))))
        .collect();
    let mean = |class: &str| {
        let v: Vec<f64> = calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.class == class)
            .map(|(i, c)| confidence(i, c))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    (accuracy, brier(&pairs), mean("clear"), mean("split"))
}

#[test]
fn the_offline_council_is_right_and_calibrated_on_the_labelled_situations() {
    let labelled: Labelled = match serde_json::from_str(include_str!("situations.json")) {
        Ok(l) => l,
        Err(e) => panic!("situations.json: {e}"),
    };
    assert!(labelled.situations.len() >= 40);
    let calls: Vec<Call> = labelled.situations.iter().map(run).collect();
    for c in &calls {
        println!(
            "{:<28} {:<6} {:<9} {:<26} raw {:.2} cov {:.2} conf {:.2} top {:.2} net {:.2} → {:.2} {}",
            c.id,
            c.class,
            c.kind,
            c.option,
            c.features.raw,
            c.coverage,
            c.features.conflict,
            c.features.strongest,
            c.features.net,
            c.confidence,
            if c.right {
                "ok".to_owned()
            } else {
                format!("WRONG {}", c.weights)
            }
        );
    }
    let samples: Vec<Sample> = calls
        .iter()
        .map(|c| Sample {
            features: c.features,
            target: target(c),
        })
        .collect();
    let weak = Params([0.0, 1.0, 0.0, 0.0, 0.0]);
    let fitted = calibration::fit(&samples, weak, 0.1);
    // Leave one out: each call's confidence from a fit that did not see it.
    let held_out: Vec<f64> = (0..calls.len())
        .map(|i| {
            let rest: Vec<Sample> = samples
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, s)| *s)
                .collect();
            calibration::fit(&rest, weak, 0.1).apply(&calls[i].features)
        })
        .collect();
    let raw = figures(&calls, |_, c| c.features.raw);
    let shipped = figures(&calls, |_, c| c.confidence);
    let refit = figures(&calls, |_, c| fitted.apply(&c.features));
    let loo = figures(&calls, |i, _| held_out[i]);
    for (name, (acc, b, clear, split)) in [
        ("raw", raw),
        ("shipped", shipped),
        ("refit", refit),
        ("leave-one-out", loo),
    ] {
        println!("{name:<14} accuracy {acc:.3}  brier {b:.3}  clear {clear:.3}  split {split:.3}");
    }
    println!("refit weights: {:?}", fitted.0);
    let (acc, b, clear, split) = shipped;
    assert!(acc >= 0.9, "accuracy {acc:.3}");
    assert!(b <= 0.12, "Brier {b:.3}");
    assert!(clear >= 0.75, "mean confidence on clear cases {clear:.3}");
    assert!(split <= 0.6, "mean confidence on split cases {split:.3}");
}
