//! The offline engine: deterministic reasoning per persona over the evidence's signals.
//!
//! Each persona weighs the signals by its stance (a cautious persona counts data-safety and
//! reliability risks double; a pragmatic one weighs delivery; a bold one discounts hygiene) and
//! by its expertise (signals in its domains count more). The weighted sum is squashed into a net
//! risk in (−1, 1) that maps onto the option scale: proceed, proceed with conditions, defer,
//! reject. Confidence grows with the distance from the nearest boundary and with how much
//! relevant evidence there is, and shrinks when the evidence pulls both ways. Every claim in the
//! rationale names the evidence it comes from.

use super::consensus::{self, Vote};
use super::evidence::{Category, Signal};
use super::judgement::Frame;
use super::personas;
use crate::models::council::{Consensus, OptionInfo, PersonaInfo, Turn};

/// Net-risk boundaries between proceed | with conditions | defer | reject.
const BANDS: [f64; 3] = [-0.25, 0.35, 0.75];
/// How fast weighted risks saturate the net risk: one strong risk in a persona's field
/// (≈1.2 weighted) lands on `defer`, two land on `reject`, two moderate ones (≈0.35 each) stay
/// on `proceed_with_conditions`.
const SCALE: f64 = 0.45;
/// How fast weighted good news does.
const SUPPORT_SCALE: f64 = 0.6;
/// A weighted risk this strong, with a mitigation, rules out a plain `proceed`.
const MATERIAL: f64 = 0.25;
/// A weighted risk this strong is a blocker: it reaches `reject` on its own.
const BLOCKER: f64 = 1.25;

/// How much a stance counts each category, and its lean (added to the net risk).
fn stance_weights(stance: &str, c: Category) -> f64 {
    use Category::*;
    match stance {
        "cautious" => match c {
            Need => 0.8,
            DataSafety | Security => 2.0,
            Reliability => 1.4,
            Hygiene | People | Knowledge => 1.0,
            Performance => 0.8,
            Cost | Strategy => 0.6,
            Delivery => 0.4,
        },
        "pragmatic" => match c {
            Delivery => 1.6,
            Need => 1.3,
            Reliability | DataSafety | Security | Cost | People => 1.0,
            Knowledge => 0.8,
            Hygiene | Performance => 0.6,
            Strategy => 0.5,
        },
        "bold" => match c {
            Need => 1.3,
            Strategy | DataSafety | Security | Delivery => 1.0,
            Reliability => 0.8,
            Performance | Cost | People | Knowledge => 0.6,
            Hygiene => 0.4,
        },
        "evidence" => match c {
            Performance | Knowledge => 1.5,
            Need => 1.2,
            Reliability => 1.3,
            _ => 1.0,
        },
        "long_term" => match c {
            Strategy => 1.6,
            Hygiene | Knowledge => 1.2,
            Delivery => 0.6,
            _ => 1.0,
        },
        _ => 1.0,
    }
}

fn lean(stance: &str) -> f64 {
    match stance {
        "cautious" => 0.1,
        "bold" => -0.15,
        _ => 0.0,
    }
}

/// A persona's multiplier for a signal: stance, times 1.3 when the category is in its domains.
pub fn weight(persona: &PersonaInfo, c: Category) -> f64 {
    let expert = c
        .domains()
        .iter()
        .any(|d| persona.domains.iter().any(|p| p == d));
    stance_weights(&persona.stance, c) * if expert { 1.3 } else { 1.0 }
}

/// The default option a net risk falls on (index into the ordinal scale).
fn band(r: f64) -> usize {
    BANDS.iter().filter(|b| r > **b).count()
}

/// 0–1: how far a net risk lies inside its band — or, nearly as good, how far it lies from the
/// line between acting (proceed, with conditions) and holding back (defer, reject): being torn
/// between `defer` and `reject` is still a confident "not now".
fn margin(r: f64) -> f64 {
    let i = band(r);
    let inside = match i {
        0 => (BANDS[0] - r) / 0.4,
        1 => (r - BANDS[0]).min(BANDS[1] - r) / 0.3,
        2 => (r - BANDS[1]).min(BANDS[2] - r) / 0.2,
        _ => (r - BANDS[2]) / 0.2,
    };
    let direction = (r - BANDS[1]).abs() / 0.4;
    inside.max(0.8 * direction).clamp(0.0, 1.0)
}

/// Words that mark an asker's option as holding back rather than acting.
const HOLD: [&str; 12] = [
    "wait", "defer", "postpone", "later", "keep", "stay", "no", "not", "don", "reject", "hold",
    "current",
];

fn is_hold(option: &OptionInfo) -> bool {
    option.id.split('_').any(|w| HOLD.contains(&w))
}

/// One persona's position on the evidence, as the kind of decision in `frame` reads it.
pub fn position(
    persona: &PersonaInfo,
    options: &[OptionInfo],
    signals: &[Signal],
    frame: &Frame,
) -> Turn {
    let mut weighted: Vec<(f64, &Signal)> = signals
        .iter()
        .map(|s| (weight(persona, s.category) * s.risk, s))
        .collect();
    weighted.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    // Risks count fully, reassurances as much as the kind of decision lets them (40% by
    // default): good news elsewhere softens a risk but does not cancel it. What standing still
    // costs (need) counts fully. A serious risk (weighted 0.5 or more) keeps at least 90% of its
    // own weight. The kind's burden of proof comes on top.
    let reassurance = frame.profile.reassurance;
    let soft = |(w, s): &(f64, &Signal)| {
        if s.category == Category::Need {
            *w
        } else {
            reassurance * w
        }
    };
    let pos: f64 = weighted.iter().map(|(w, _)| w.max(0.0)).sum();
    let neg: f64 = weighted.iter().filter(|(w, _)| *w < 0.0).map(soft).sum();
    let top = weighted.iter().map(|(w, _)| *w).fold(0.0f64, f64::max);
    let mut x = SCALE * pos + SUPPORT_SCALE * neg;
    if top >= 0.5 {
        x = x.max(SCALE * 0.9 * top);
    }
    // A blocker (a failed security review before exposing something, a cost far over budget)
    // decides on its own.
    if top >= BLOCKER {
        x = x.max(0.75 * top);
    }
    let r = (x + frame.profile.burden + lean(&persona.stance)).tanh();
    let relevant: Vec<&(f64, &Signal)> = weighted.iter().filter(|(w, _)| w.abs() >= 0.2).collect();
    // How much bears on it: the signals this persona weighs, and the evidence the kind wants.
    let coverage = 0.5 * (relevant.len() as f64 / 3.0).min(1.0) + 0.5 * frame.coverage;
    // Reassurance counts as in the net risk: it takes real good news to make the evidence
    // "mixed".
    let pro: f64 = -weighted
        .iter()
        .filter(|(w, _)| *w < 0.0)
        .map(soft)
        .sum::<f64>();
    let con: f64 = weighted
        .iter()
        .filter(|(w, _)| *w > 0.0)
        .map(|(w, _)| *w)
        .sum();
    let conflict = if pro.max(con) > 0.0 {
        pro.min(con) / pro.max(con)
    } else {
        0.0
    };
    let mut confidence =
        (0.2 + 0.75 * margin(r).sqrt() * (0.3 + 0.7 * coverage)) * (1.0 - 0.4 * conflict);
    let default_set = options.iter().map(|o| o.id.as_str()).eq([
        "proceed",
        "proceed_with_conditions",
        "defer",
        "reject",
    ]);
    let cited: Vec<String> = {
        let mut c: Vec<String> = relevant.iter().map(|(_, s)| s.evidence.clone()).collect();
        c.dedup();
        c.truncate(6);
        c
    };
    let claims: Vec<String> = relevant
        .iter()
        .take(4)
        .map(|(_, s)| format!("{} [{}]", s.claim, s.evidence))
        .collect();
    let concerns: Vec<String> = weighted
        .iter()
        .filter(|(w, _)| *w >= 0.2)
        .take(4)
        .map(|(_, s)| format!("{} [{}]", s.claim, s.evidence))
        .collect();
    let mut conditions: Vec<String> = Vec::new();
    for (w, s) in &weighted {
        if *w >= 0.15 {
            if let Some(m) = &s.mitigation {
                if !conditions.contains(m) {
                    conditions.push(m.clone());
                }
            }
        }
    }
    conditions.truncate(4);
    // A plain "proceed" needs no condition: a material risk with a mitigation asks for one.
    let material = weighted
        .iter()
        .any(|(w, s)| *w >= MATERIAL && s.mitigation.is_some());
    let chosen = band(r)
        .max(frame.profile.min_band)
        .max(usize::from(material));
    if chosen == 1 {
        for c in frame.profile.conditions {
            if conditions.len() < 4 && !conditions.iter().any(|x| x == c) {
                conditions.push((*c).to_owned());
            }
        }
    }
    let option = if default_set {
        options.get(chosen).map(|o| o.id.clone())
    } else {
        let (hold, act): (Vec<&OptionInfo>, Vec<&OptionInfo>) =
            options.iter().partition(|o| is_hold(o));
        let pick = if r > BANDS[1] {
            hold.first().or(act.first())
        } else {
            act.first().or(hold.first())
        };
        // Which of several acting options is better is not something the signals tell.
        if act.len() > 1 && r <= BANDS[1] {
            confidence *= 0.5;
        } else {
            confidence *= 0.8;
        }
        pick.map(|o| o.id.clone())
    };
    let Some(option) = option else {
        return abstain(persona, "no options to choose from");
    };
    let thin = coverage < 0.4;
    let lead = match chosen {
        0 => "Go ahead",
        1 => "Go ahead once the risks are handled",
        2 => "Not yet",
        _ => "No",
    };
    let mut rationale = lead.to_owned();
    if claims.is_empty() {
        rationale.push_str(": little of the evidence bears on what I weigh");
    } else {
        rationale.push_str(": ");
        rationale.push_str(&claims.join("; "));
    }
    if thin {
        rationale.push_str(". The evidence is thin, so my confidence is low");
    }
    if conflict > 0.5 {
        rationale.push_str(". The evidence pulls both ways");
    }
    rationale.push('.');
    Turn {
        persona: persona.key.clone(),
        round: 1,
        option: Some(option.clone()),
        confidence: (confidence.clamp(0.05, 0.95) * 100.0).round() / 100.0,
        rationale,
        concerns,
        conditions: if option == "proceed" {
            Vec::new()
        } else {
            conditions
        },
        evidence: cited,
        abstained: false,
        error: None,
    }
}

/// The whole council with these rules, round one: each asked persona's position on the
/// signals, combined by relevance to the `topics` and track record. (What-if answers and the
/// labelled-situation benchmark ask it.)
pub fn council(
    asked: &[&PersonaInfo],
    topics: &[&str],
    options: &[OptionInfo],
    signals: &[Signal],
    frame: &Frame,
) -> Consensus {
    let turns: Vec<Turn> = asked
        .iter()
        .map(|p| position(p, options, signals, frame))
        .collect();
    let votes: Vec<Vote<'_>> = turns
        .iter()
        .zip(asked)
        .map(|(t, p)| Vote {
            turn: t,
            relevance: personas::relevance(p, topics),
            track: consensus::track(p.decided, p.correct),
        })
        .collect();
    consensus::combine(&votes, options)
}

/// An abstention with a reason.
pub fn abstain(persona: &PersonaInfo, why: &str) -> Turn {
    Turn {
        persona: persona.key.clone(),
        round: 1,
        option: None,
        confidence: 0.0,
        rationale: format!("{} abstains: {why}.", persona.name),
        concerns: Vec::new(),
        conditions: Vec::new(),
        evidence: Vec::new(),
        abstained: true,
        error: Some(why.to_owned()),
    }
}

/// Round two: a persona sees the others' anonymised positions (option, confidence) and may
/// revise once. An unsure persona facing a clear majority elsewhere joins it; one that the
/// majority agrees with grows a little surer.
pub fn revise(own: &Turn, others: &[(String, f64)]) -> Turn {
    let mut next = own.clone();
    next.round = 2;
    let Some(mine) = own.option.clone() else {
        return next;
    };
    let total: f64 = others.iter().map(|(_, c)| c.max(0.05)).sum();
    if total <= 0.0 {
        return next;
    }
    let mut best: Option<(&str, f64)> = None;
    for (o, _) in others {
        let share: f64 = others
            .iter()
            .filter(|(x, _)| x == o)
            .map(|(_, c)| c.max(0.05))
            .sum::<f64>()
            / total;
        if best.is_none_or(|(_, s)| share > s) {
            best = Some((o.as_str(), share));
        }
    }
    if let Some((o, share)) = best {
        if o != mine && share >= 0.6 && own.confidence < 0.55 {
            next.option = Some(o.to_owned());
            next.rationale = format!(
                "{} Revised: {:.0}% of the others chose `{o}`, and my own case was weak.",
                own.rationale,
                share * 100.0
            );
        } else if o == mine && share >= 0.6 {
            next.confidence = ((own.confidence + 0.05).min(0.95) * 100.0).round() / 100.0;
            next.rationale = format!("{} Most of the others agree.", own.rationale);
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::council::default_options;
    use crate::server::council::personas::builtin_infos;

    fn signal(c: Category, risk: f64, id: &str) -> Signal {
        Signal {
            evidence: id.into(),
            category: c,
            risk,
            claim: format!("claim {id}"),
            mitigation: Some(format!("fix {id}")),
            nature: Default::default(),
        }
    }

    #[test]
    fn the_guardian_weighs_a_data_risk_more_than_the_innovator() {
        let all = builtin_infos();
        let get = |k: &str| all.iter().find(|p| p.key == k).cloned();
        let (Some(g), Some(i)) = (get("guardian"), get("innovator")) else {
            return;
        };
        let s = vec![signal(Category::DataSafety, 0.45, "E1")];
        let tg = position(&g, &default_options(), &s, &Frame::default());
        let ti = position(&i, &default_options(), &s, &Frame::default());
        assert_eq!(tg.option.as_deref(), Some("defer"), "{tg:?}");
        assert_eq!(
            ti.option.as_deref(),
            Some("proceed_with_conditions"),
            "{ti:?}"
        );
        assert_eq!(ti.conditions, ["fix E1"]);
        assert!(tg.rationale.contains("[E1]"));
    }

    #[test]
    fn an_unsure_persona_joins_a_clear_majority_in_round_two() {
        let all = builtin_infos();
        let Some(p) = all.first() else { return };
        let own = Turn {
            option: Some("proceed".into()),
            confidence: 0.4,
            ..abstain(p, "x")
        };
        let others = vec![
            ("defer".to_owned(), 0.8),
            ("defer".to_owned(), 0.7),
            ("proceed".to_owned(), 0.3),
        ];
        assert_eq!(revise(&own, &others).option.as_deref(), Some("defer"));
        let sure = Turn {
            confidence: 0.8,
            ..own
        };
        assert_eq!(revise(&sure, &others).option.as_deref(), Some("proceed"));
    }
}
