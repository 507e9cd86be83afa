//! Judgement: what kind of decision is asked, and how that kind reads the evidence.
//!
//! - [`kinds`]: the kind recognised from the question (and why), and its profile: burden of
//!   proof, which evidence counts more, whether missing evidence is a risk, its conditions;
//! - [`frame`] (here): the evidence's signals as the kind reads them — a production symptom is
//!   the reason for a decision that remedies it, missing evidence is a risk only where the kind
//!   requires it (elsewhere it lowers confidence), and the kind's gains;
//! - [`what_if`]: which evidence would change the call;
//! - [`calibration`]: confidence from the raw vote, fitted on the labelled situations
//!   (`situations.json`) and refitted as outcomes are recorded.

#[cfg(test)]
mod bench;
pub mod calibration;
pub mod kinds;
pub mod what_if;

use super::evidence::{Category, Nature, Signal};
use crate::models::council::Consensus;
pub use kinds::{Kind, Profile, Recognised};

/// The kind of decision and what it asks of the evidence.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The kind, why, and whether it remedies a problem.
    pub recognised: Recognised,
    /// Its profile.
    pub profile: Profile,
    /// Whether production symptoms argue for the decision (it remedies them).
    pub remedy: bool,
    /// The evidence the kind wants that is missing, in words, with its category.
    pub missing: Vec<(Category, &'static str)>,
    /// The share of the wanted evidence that is there, 0–1.
    pub coverage: f64,
    /// How much the evidence pulls both ways, 0–1 (the weaker side over the stronger).
    pub conflict: f64,
    /// The strongest signal's weight, 0–1.5: how decisive the single weightiest fact is.
    pub strongest: f64,
    /// How far the evidence itself leans one way: risks less good news, in absolute value.
    pub net: f64,
}

impl Default for Frame {
    fn default() -> Self {
        let recognised = kinds::recognise("", &[]);
        Frame {
            profile: kinds::profile(&recognised),
            recognised,
            remedy: false,
            missing: Vec::new(),
            coverage: 1.0,
            conflict: 0.0,
            strongest: 0.0,
            net: 0.0,
        }
    }
}

/// The most confidence a call can have when nothing bears on it: a coin flip.
const NOTHING_KNOWN: f64 = 0.5;

/// How much of a symptom's weight turns into need when the decision remedies it.
const NEED_SHARE: f64 = 0.8;

/// Reads the signals as the kind of decision asked in `question` (with these option labels)
/// would: returns the frame and the signals, re-weighed.
pub fn frame(question: &str, options: &[String], signals: &[Signal]) -> (Frame, Vec<Signal>) {
    let recognised = kinds::recognise(question, options);
    let kind = recognised.kind;
    let profile = kinds::profile(&recognised);
    // A rewrite is done to remedy what the old system costs; anything else says so in words
    // (fix, restart, scale, cache, …).
    let remedy = recognised.remedy || kind == Kind::Rewrite;
    let framed: Vec<Signal> = signals
        .iter()
        .map(|s| {
            let mut s = s.clone();
            match s.nature {
                Nature::Absence => s.risk *= kinds::absence(kind, s.category),
                Nature::Symptom if remedy && s.risk > 0.0 => {
                    s.risk = -s.risk * NEED_SHARE;
                    s.category = Category::Need;
                    s.claim = format!("{}, which this would address", s.claim);
                    s.mitigation = None;
                }
                _ => {}
            }
            let (risks, reassurance) = kinds::gain(kind, s.category);
            s.risk *= if s.risk > 0.0 { risks } else { reassurance };
            s.risk = s.risk.clamp(-1.5, 1.5);
            s
        })
        .collect();
    // Evidence is there in the category it was found in (a crash loop read as the need for a
    // restart still tells the services' health), and as need once it is read so.
    let present = |c: Category| {
        signals
            .iter()
            .chain(framed.iter().filter(|s| s.category == Category::Need))
            .any(|s| s.category == c && s.nature != Nature::Absence && s.risk.abs() >= 0.1)
    };
    let missing: Vec<(Category, &'static str)> = profile
        .wanted
        .iter()
        .filter(|(c, _)| !present(*c))
        .copied()
        .collect();
    let coverage = if profile.wanted.is_empty() {
        1.0
    } else {
        1.0 - missing.len() as f64 / profile.wanted.len() as f64
    };
    let pro: f64 = framed
        .iter()
        .filter(|s| s.risk < 0.0)
        .map(|s| {
            -s.risk
                * if s.category == Category::Need {
                    1.0
                } else {
                    profile.reassurance
                }
        })
        .sum();
    // The kind's burden of proof weighs in as a risk (or, when negative, as support).
    let pro = pro + (-profile.burden).max(0.0);
    let con: f64 = framed
        .iter()
        .filter(|s| s.risk > 0.0)
        .map(|s| s.risk)
        .sum::<f64>()
        + profile.burden.max(0.0);
    let conflict = if pro.max(con) > 0.0 {
        pro.min(con) / pro.max(con)
    } else {
        0.0
    };
    let strongest = framed.iter().map(|s| s.risk.abs()).fold(0.0, f64::max);
    // What the evidence itself says, without the burden: none of it is no lean at all.
    let net = ((con - profile.burden.max(0.0)) - (pro - (-profile.burden).max(0.0))).abs();
    (
        Frame {
            recognised,
            profile,
            remedy,
            missing,
            coverage,
            conflict,
            strongest,
            net,
        },
        framed,
    )
}

/// Completes a consensus with the judgement: the kind and why, the facts not used, the missing
/// evidence and what would change the call, and the confidence calibrated by `params` (the
/// vote's own confidence is kept as `raw_confidence`).
pub fn conclude(
    c: &mut Consensus,
    frame: &Frame,
    unused: Vec<String>,
    would_change: Vec<String>,
    params: &calibration::Params,
) {
    let raw = c.confidence;
    c.raw_confidence = Some(raw);
    c.coverage = Some(round2(frame.coverage));
    c.conflict = Some(round2(frame.conflict));
    c.strongest = Some(round2(frame.strongest));
    c.net = Some(round2(frame.net));
    if c.option.is_some() {
        let mut confidence = params.apply(&calibration::Features::of(raw, frame));
        // Nothing bears on it: none of the evidence the kind wants, no signal of any weight.
        if frame.coverage == 0.0 && frame.strongest < 0.1 {
            confidence = confidence.min(NOTHING_KNOWN);
        }
        c.confidence = round2(confidence);
    }
    c.kind = Some(frame.recognised.kind.id().to_owned());
    c.kind_why = frame.recognised.why.clone();
    c.missing_evidence = frame.missing.iter().map(|(_, w)| (*w).to_owned()).collect();
    // The vote's own wording about a low confidence is replaced by one about the reported one.
    let mut why = format!("{}. ", capitalised(&c.kind_why));
    why.push_str(&c.explanation.replace(
        ". The evidence is thin or mixed, so the confidence is low",
        "",
    ));
    if c.option.is_some() && c.confidence < 0.6 && c.agreement >= 0.7 {
        why.push_str(" The evidence is thin or mixed, so the confidence is low.");
    }
    if !c.missing_evidence.is_empty() {
        why.push_str(&format!(
            " Missing evidence: {}.",
            c.missing_evidence.join(", ")
        ));
    }
    if !unused.is_empty() {
        why.push_str(&format!(" Not interpreted: {}.", unused.join(", ")));
    }
    c.explanation = why;
    c.unused_facts = unused;
    c.would_change = would_change;
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(category: Category, risk: f64, nature: Nature) -> Signal {
        Signal {
            evidence: "E1".into(),
            category,
            risk,
            claim: "x".into(),
            mitigation: Some("m".into()),
            nature,
        }
    }

    #[test]
    fn a_symptom_argues_for_a_remedy_and_missing_evidence_counts_only_where_required() {
        let crash = [sig(Category::Reliability, 0.8, Nature::Symptom)];
        let (_, f) = frame("Restart the crash-looping worker?", &[], &crash);
        assert_eq!(f[0].category, Category::Need);
        assert!(f[0].risk < 0.0, "{f:?}");
        let (_, f) = frame("Deploy the new worker release?", &[], &crash);
        assert!(f[0].risk > 0.8, "a risk for a release on top of it: {f:?}");
        let no_backup = [sig(Category::DataSafety, 0.9, Nature::Absence)];
        let (fr, f) = frame("Run the schema migration?", &[], &no_backup);
        assert!(f[0].risk > 0.5, "a risk for a migration: {f:?}");
        assert!(fr.missing.iter().any(|(c, _)| *c == Category::DataSafety));
        let (fr, f) = frame("Restart the web service?", &[], &no_backup);
        assert_eq!(f[0].risk, 0.0);
        assert!(fr.coverage < 1.0);
    }
}
