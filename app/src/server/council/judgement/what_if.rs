//! What would change the call: the council is asked again (with the offline rules) as if a
//! piece of missing evidence had come in good or bad, or as if one of the weightiest signals
//! were not there, and every variant that lands on another option is reported.

use super::{kinds, Frame};
use crate::server::council::evidence::{Category, Nature, Signal};

/// How strongly a hypothetical piece of evidence speaks: (good, bad).
const PROBE: (f64, f64) = (-0.45, 0.7);

/// At most this many answers.
const MOST: usize = 5;

fn probe(frame: &Frame, category: Category, risk: f64, what: &str) -> Signal {
    let (risks, reassurance) = kinds::gain(frame.recognised.kind, category);
    Signal {
        evidence: String::new(),
        category,
        risk: risk * if risk > 0.0 { risks } else { reassurance },
        claim: what.to_owned(),
        mitigation: None,
        nature: Nature::Fact,
    }
}

/// The changes that would move the call away from `current`, in words. `decide` answers the
/// option the council would choose on a set of signals.
pub fn would_change(
    frame: &Frame,
    signals: &[Signal],
    current: Option<&str>,
    decide: impl Fn(&[Signal]) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let ask = |variant: Vec<Signal>, said: String, out: &mut Vec<String>| {
        if out.len() >= MOST {
            return;
        }
        if let Some(o) = decide(&variant) {
            if Some(o.as_str()) != current {
                out.push(format!("{said}, the call would be `{o}`"));
            }
        }
    };
    for (category, what) in &frame.missing {
        // What is missing comes in: the absence it stands for goes.
        let without_absence = || -> Vec<Signal> {
            signals
                .iter()
                .filter(|s| !(s.nature == Nature::Absence && s.category == *category))
                .cloned()
                .collect()
        };
        let probes: &[(f64, &str)] = if *category == Category::Need {
            // Need only argues for acting: it is there, or it is not.
            &[(PROBE.0, "showed a real need for it")]
        } else {
            &[(PROBE.0, "were good"), (PROBE.1, "showed trouble")]
        };
        for (risk, how) in probes {
            let mut v = without_absence();
            v.push(probe(frame, *category, *risk, what));
            ask(v, format!("If {what} {how}"), &mut out);
        }
    }
    let mut weighty: Vec<&Signal> = signals.iter().filter(|s| s.risk.abs() >= 0.2).collect();
    weighty.sort_by(|a, b| b.risk.abs().total_cmp(&a.risk.abs()));
    for s in weighty.into_iter().take(3) {
        let v: Vec<Signal> = signals.iter().filter(|x| *x != s).cloned().collect();
        ask(
            v,
            format!("Without “{}” [{}]", s.claim, s.evidence),
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_variants_that_move_the_call_are_reported() {
        let (frame, signals) = super::super::frame(
            "Deploy it?",
            &[],
            &[Signal {
                evidence: "E1".into(),
                category: Category::Reliability,
                risk: 0.9,
                claim: "the tests fail".into(),
                mitigation: None,
                nature: Nature::Fact,
            }],
        );
        // A stand-in for the council: defer while any risk ≥ 0.5 remains.
        let decide = |s: &[Signal]| {
            Some(
                if s.iter().any(|x| x.risk >= 0.5) {
                    "defer"
                } else {
                    "proceed"
                }
                .to_owned(),
            )
        };
        let w = would_change(&frame, &signals, Some("defer"), decide);
        assert!(
            w.iter().any(|x| x.starts_with("Without “the tests fail” [E1]") && x.ends_with("`proceed`")),
            "{w:?}"
        );
        assert!(w.iter().all(|x| !x.contains("showed trouble")), "{w:?}");
    }
}
