//! What the council already knows: recalled memories and knowledge-graph neighbours.

use super::book::Book;
use super::{Category, Recalled};

/// Each recalled memory, a risk or a support when its outcome is known.
pub(super) fn memories(b: &mut Book, memories: &[Recalled]) {
    for m in memories {
        let sig = match m.outcome.as_deref() {
            Some("reject") | Some("defer") => vec![(
                Category::Knowledge,
                // A call to go ahead that turned out wrong teaches more than a confirmed "no":
                // the council has been here and it went badly.
                if matches!(
                    m.chosen.as_deref(),
                    Some("proceed") | Some("proceed_with_conditions")
                ) {
                    1.0
                } else {
                    0.5
                },
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
}

/// Each graph neighbour, in words.
pub(super) fn graph(b: &mut Book, graph: &[String]) {
    for g in graph {
        b.add("graph", g.clone(), Vec::new());
    }
}
