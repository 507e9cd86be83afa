//! The numbered evidence and its signals, built as the tools report them.

use super::{Category, Nature, Signal};
use crate::models::council::Evidence;

/// One signal as a family reports it: (category, risk, claim, mitigation).
pub(super) type Found = (Category, f64, String, Option<String>);

/// Builds evidence and signals as the tools report them.
#[derive(Default)]
pub(super) struct Book {
    /// The evidence, `E1` first.
    pub(super) evidence: Vec<Evidence>,
    /// Every signal, citing its evidence.
    pub(super) signals: Vec<Signal>,
    /// Stated facts nothing could interpret, as `name = value`.
    pub(super) unused: Vec<String>,
}

impl Book {
    /// Numbers one piece of evidence, rated by its strongest signal, and files its signals.
    pub(super) fn add(&mut self, source: &str, summary: String, signals: Vec<Found>) -> String {
        self.add_as(Nature::Fact, source, summary, signals)
    }

    /// [`Book::add`] for evidence of another nature (a symptom, missing evidence).
    pub(super) fn add_as(
        &mut self,
        nature: Nature,
        source: &str,
        summary: String,
        signals: Vec<Found>,
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
                nature,
            });
        }
        id
    }
}
