//! Consensus: a vote weighted by each persona's relevance to the question and its track record,
//! with the plain majority beside it, the agreement level, supporters and dissenters, and a
//! confidence meant to be calibrated — high only when weighty voices agree on solid evidence.

use crate::models::council::{Consensus, Dissent, OptionInfo, Turn};
use std::collections::BTreeMap;

/// A voter: its final turn and its weight (relevance × track record).
pub struct Vote<'a> {
    /// The turn (its last round).
    pub turn: &'a Turn,
    /// Relevance of its expertise, 1–2.
    pub relevance: f64,
    /// Track-record factor: 0.5 + Laplace-smoothed accuracy (1.0 with no history).
    pub track: f64,
}

/// The track-record factor from decided and correct counts.
pub fn track(decided: u32, correct: u32) -> f64 {
    0.5 + (f64::from(correct) + 1.0) / (f64::from(decided) + 2.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Combines the votes. On the default ordinal scale a neighbouring vote counts partly toward
/// agreement: 75% on the same side (proceed ~ with conditions, defer ~ reject: a nuance, not a
/// split), 25% across the line between acting and holding back.
pub fn combine(votes: &[Vote<'_>], options: &[OptionInfo]) -> Consensus {
    let ordinal = options.iter().map(|o| o.id.as_str()).eq([
        "proceed",
        "proceed_with_conditions",
        "defer",
        "reject",
    ]);
    let index = |id: &str| options.iter().position(|o| o.id == id);
    let mut weights: BTreeMap<String, f64> = options.iter().map(|o| (o.id.clone(), 0.0)).collect();
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut abstained = Vec::new();
    let mut total = 0.0;
    for v in votes {
        match &v.turn.option {
            Some(o) if !v.turn.abstained => {
                // Confidence counts too: a hesitant vote moves the result less.
                let w = v.relevance * v.track * (0.5 + 0.5 * v.turn.confidence);
                *weights.entry(o.clone()).or_default() += w;
                *counts.entry(o.clone()).or_default() += 1;
                total += w;
            }
            _ => abstained.push(v.turn.persona.clone()),
        }
    }
    let winner = weights
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(o, _)| o.clone());
    let majority = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(o, _)| o.clone());
    let Some(option) = winner else {
        return Consensus {
            option: None,
            confidence: 0.0,
            agreement: 0.0,
            majority: None,
            weights,
            supporters: Vec::new(),
            dissenters: Vec::new(),
            abstained,
            explanation: "Every persona abstained: there is no consensus.".into(),
            ..Default::default()
        };
    };
    let near = |o: &str| -> f64 {
        if !ordinal {
            return 0.0;
        }
        match (index(o), index(&option)) {
            (Some(a), Some(b)) if a.abs_diff(b) == 1 => {
                if (a < 2) == (b < 2) {
                    0.75
                } else {
                    0.25
                }
            }
            _ => 0.0,
        }
    };
    let mut agreeing = 0.0;
    for (o, w) in &weights {
        if *o == option {
            agreeing += w;
        } else {
            agreeing += near(o) * w;
        }
    }
    let agreement = if total > 0.0 { agreeing / total } else { 0.0 };
    let supporters: Vec<&Vote<'_>> = votes
        .iter()
        .filter(|v| v.turn.option.as_deref() == Some(option.as_str()) && !v.turn.abstained)
        .collect();
    // The confidence of those who agree, neighbours counted as far as they agree.
    let mut support_weight = 0.0;
    let mut support_confidence = 0.0;
    for v in votes.iter().filter(|v| !v.turn.abstained) {
        let Some(o) = v.turn.option.as_deref() else {
            continue;
        };
        let share = if o == option { 1.0 } else { near(o) };
        support_weight += share * v.relevance * v.track;
        support_confidence += share * v.relevance * v.track * v.turn.confidence;
    }
    let mean_confidence = if support_weight > 0.0 {
        support_confidence / support_weight
    } else {
        0.0
    };
    let voters = votes.len().max(1) as f64;
    let turnout = 1.0 - abstained.len() as f64 / voters;
    // Few voices cannot be very sure, however much they agree.
    let quorum = (votes.len() - abstained.len()).min(3) as f64 / 3.0;
    let confidence = agreement * mean_confidence * (0.6 + 0.4 * turnout) * (0.7 + 0.3 * quorum);
    let dissenters: Vec<Dissent> = votes
        .iter()
        .filter_map(|v| {
            let o = v.turn.option.as_ref()?;
            (o != &option && !v.turn.abstained).then(|| Dissent {
                persona: v.turn.persona.clone(),
                option: o.clone(),
                reason: v.turn.rationale.clone(),
            })
        })
        .collect();
    let mut why = format!(
        "{:.0}% of the weighted vote agrees on `{option}`; its supporters' confidence averages {:.0}%",
        agreement * 100.0,
        mean_confidence * 100.0
    );
    if !abstained.is_empty() {
        why.push_str(&format!("; {} abstained", abstained.len()));
    }
    if agreement < 0.7 {
        why.push_str(". The council is split, so the confidence is low");
    } else if mean_confidence < 0.6 {
        why.push_str(". The evidence is thin or mixed, so the confidence is low");
    }
    if majority.as_deref() != Some(option.as_str()) {
        why.push_str(&format!(
            ". One persona, one vote would have chosen `{}`",
            majority.as_deref().unwrap_or_default()
        ));
    }
    why.push('.');
    Consensus {
        supporters: supporters.iter().map(|v| v.turn.persona.clone()).collect(),
        option: Some(option),
        confidence: round2(confidence.clamp(0.0, 1.0)),
        agreement: round2(agreement),
        majority,
        weights: weights.into_iter().map(|(k, v)| (k, round2(v))).collect(),
        dissenters,
        abstained,
        explanation: why,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(persona: &str, option: &str, confidence: f64) -> Turn {
        Turn {
            persona: persona.into(),
            round: 1,
            option: Some(option.into()),
            confidence,
            rationale: format!("{persona} says {option}"),
            concerns: Vec::new(),
            conditions: Vec::new(),
            evidence: Vec::new(),
            abstained: false,
            error: None,
        }
    }

    fn options() -> Vec<OptionInfo> {
        crate::models::council::default_options()
    }

    fn votes(turns: &[Turn]) -> Vec<Vote<'_>> {
        turns
            .iter()
            .map(|t| Vote {
                turn: t,
                relevance: 1.0,
                track: 1.0,
            })
            .collect()
    }

    #[test]
    fn agreement_on_solid_evidence_is_confident_and_a_split_is_not() {
        let agree: Vec<Turn> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|p| turn(p, "reject", 0.85))
            .collect();
        let c = combine(&votes(&agree), &options());
        assert_eq!(c.option.as_deref(), Some("reject"));
        assert!(c.confidence > 0.7, "{c:?}");
        let split = vec![
            turn("a", "proceed", 0.7),
            turn("b", "proceed", 0.7),
            turn("c", "reject", 0.7),
            turn("d", "reject", 0.7),
            turn("e", "defer", 0.6),
        ];
        let c = combine(&votes(&split), &options());
        assert!(c.confidence < 0.5, "{c:?}");
        assert!(c.explanation.contains("split"), "{}", c.explanation);
        assert_eq!(c.dissenters.len(), 3);
    }

    #[test]
    fn weight_can_overrule_the_head_count_and_both_are_reported() {
        let t = vec![
            turn("guardian", "defer", 0.9),
            turn("a", "proceed", 0.3),
            turn("b", "proceed", 0.3),
        ];
        let mut v = votes(&t);
        v[0].relevance = 2.0;
        v[0].track = track(10, 9);
        let c = combine(&v, &options());
        assert_eq!(c.option.as_deref(), Some("defer"));
        assert_eq!(c.majority.as_deref(), Some("proceed"));
    }

    #[test]
    fn everyone_abstaining_gives_no_option_and_zero_confidence() {
        let mut t = turn("a", "proceed", 0.0);
        t.abstained = true;
        t.option = None;
        let c = combine(&votes(&[t]), &options());
        assert_eq!(c.option, None);
        assert_eq!(c.confidence, 0.0);
        assert_eq!(c.abstained, ["a"]);
    }
}
