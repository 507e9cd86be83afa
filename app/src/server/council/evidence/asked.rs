//! The asker's other stated facts (deadline, team, effort, risk, rollback, security review,
//! workload, budget, users): one piece of evidence each, with the signal its value carries.

use super::book::{Book, Found};
use super::measures;
use super::quantity::{self, Unit};
use super::stated::{consumed, number, text, truthy};
use super::Category;
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::BTreeMap;

/// Each stated fact not read by its own tool: the measures first (a latency with its objective,
/// a cost with its budget), then the facts known by name, in name order. A fact neither
/// interprets is shown as neutral evidence and listed as unused.
pub(super) fn facts(b: &mut Book, facts: &BTreeMap<String, Value>, today: Option<NaiveDate>) {
    let (readings, used) = measures::read(facts);
    for r in readings {
        b.add_as(r.nature, "fact", r.summary, r.signals);
    }
    for (key, value) in facts {
        if consumed(key) || key == "ci" || used.contains(key) {
            continue;
        }
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let Some(sig) = signals(key, value, today) else {
            b.unused.push(format!("{key} = {shown}"));
            b.add(
                "fact",
                format!("Stated: {key} = {shown} (not interpreted)"),
                Vec::new(),
            );
            continue;
        };
        b.add("fact", format!("Stated: {key} = {shown}"), sig);
    }
}

/// What a fact of this name and value signals; `None` when neither is understood.
/// A date counts as the days from `today` to it (`deadline = 2026-12-24`).
fn signals(key: &str, value: &Value, today: Option<NaiveDate>) -> Option<Vec<Found>> {
    let t = text(value);
    let n = number(value)
        .or_else(|| {
            quantity::parse(value).map(|q| match q.unit {
                Unit::Seconds => q.value / 86_400.0,
                _ => q.value,
            })
        })
        .or_else(|| {
            let d = quantity::date(value.as_str()?)?;
            Some((d - today?).num_days() as f64)
        });
    let w: Vec<&str> = key.split('_').collect();
    // A bare number in a name that says hours or weeks (`deadline_hours = 12`) is not days.
    let n = n.map(|x| {
        if w.iter().any(|x| matches!(*x, "hours" | "hour" | "h")) {
            x / 24.0
        } else if w.iter().any(|x| matches!(*x, "weeks" | "week")) {
            x * 7.0
        } else {
            x
        }
    });
    // A share (`users_affected = 5%`) is not a count.
    let n = n.filter(|_| {
        !matches!(
            quantity::parse(value).map(|q| q.unit),
            Some(Unit::Percent | Unit::Money(_))
        )
    });
    let is = |names: &[&str]| names.contains(&key) || names.iter().any(|n| w.contains(n));
    let found = if is(&[
        "deadline_days",
        "days_to_deadline",
        "deadline",
        "due",
        "days_left",
        "expires",
    ]) {
        deadline(n)
    } else if is(&[
        "team_size",
        "team",
        "headcount",
        "engineers",
        "developers",
        "maintainers",
    ]) {
        team_size(n)
    } else if is(&["effort", "size"]) {
        effort(&t)
    } else if key == "risk" || w.last() == Some(&"risk") {
        risk(&t)
    } else if is(&["rollback", "rollback_plan", "revert"]) {
        rollback(truthy(value))
    } else if is(&["security_review", "security", "pentest", "security_audit"]) {
        security_review(&t)
    } else if is(&["workload", "overtime", "on_call_load", "load", "stress"]) {
        workload(&t)
    } else if is(&["budget", "cost"]) {
        budget(&t)
    } else if is(&["users_affected", "users", "customers"]) {
        users_affected(n)
    } else {
        return None;
    };
    // A known name whose value says nothing this reads is not interpreted either.
    (!found.is_empty()).then_some(found)
}

/// A deadline this close argues for going ahead; a far one leaves time to prepare.
fn deadline(n: Option<f64>) -> Vec<Found> {
    match n {
        Some(d) if d < 0.0 => vec![(
            Category::Delivery,
            -0.45,
            format!("the deadline passed {:.0} day(s) ago", -d),
            None,
        )],
        Some(d) if d <= 3.0 => vec![(
            Category::Delivery,
            -0.45,
            format!("the deadline is {d:.0} day(s) away: waiting misses it"),
            None,
        )],
        Some(d) if d <= 14.0 => vec![(
            Category::Delivery,
            -0.15,
            format!("the deadline is {d:.0} days away"),
            None,
        )],
        Some(d) => vec![(
            Category::Delivery,
            0.1,
            format!("the deadline is {d:.0} days away: there is time to prepare"),
            Some("use the time to reduce the risks".to_owned()),
        )],
        None => Vec::new(),
    }
}

/// A very small team carries the risk alone.
fn team_size(n: Option<f64>) -> Vec<Found> {
    match n {
        Some(x) if x <= 2.0 => vec![(
            Category::People,
            0.25,
            format!("a team of {x:.0} carries it"),
            Some("keep the change small enough for the team".to_owned()),
        )],
        Some(x) => vec![(
            Category::People,
            -0.1,
            format!("a team of {x:.0} can share the work"),
            None,
        )],
        None => Vec::new(),
    }
}

/// Small changes argue for, large ones against.
fn effort(t: &str) -> Vec<Found> {
    match t {
        s if s.contains("small") || s.contains("low") || s.contains("trivial") => vec![(
            Category::Delivery,
            -0.3,
            "the change is small".to_owned(),
            None,
        )],
        s if s.contains("large") || s.contains("high") || s.contains("big") => vec![(
            Category::Delivery,
            0.25,
            "the change is large".to_owned(),
            Some("split it into smaller steps".to_owned()),
        )],
        s if s.contains("medium") || s.contains("moderate") => vec![(
            Category::Delivery,
            0.0,
            "the change is medium-sized".to_owned(),
            None,
        )],
        _ => Vec::new(),
    }
}

/// The asker's own rating of the risk.
fn risk(t: &str) -> Vec<Found> {
    match t {
        s if s.contains("high") => vec![(
            Category::Reliability,
            0.6,
            "the asker rates the risk high".to_owned(),
            Some("prepare a rollback plan".to_owned()),
        )],
        s if s.contains("low") => vec![(
            Category::Reliability,
            -0.35,
            "the asker rates the risk low".to_owned(),
            None,
        )],
        _ => Vec::new(),
    }
}

/// Whether there is a way back.
fn rollback(ready: Option<bool>) -> Vec<Found> {
    match ready {
        Some(true) => vec![(
            Category::DataSafety,
            -0.3,
            "a rollback is ready".to_owned(),
            None,
        )],
        Some(false) => vec![(
            Category::DataSafety,
            0.4,
            "there is no way back".to_owned(),
            Some("prepare a rollback".to_owned()),
        )],
        None => Vec::new(),
    }
}

/// What the security review found.
fn security_review(t: &str) -> Vec<Found> {
    match t {
        s if s.contains("pass")
            || s.contains("done")
            || s.contains("no issue")
            || s.contains("no finding")
            || s == "true" =>
        {
            vec![(
                Category::Security,
                -0.35,
                "the security review passed".to_owned(),
                None,
            )]
        }
        s if s.contains("fail") || s.contains("vuln") => vec![(
            Category::Security,
            0.85,
            "the security review found problems".to_owned(),
            Some("fix the security findings".to_owned()),
        )],
        s if s.contains("pending") || s.contains("progress") || s.contains("scheduled") => {
            vec![(
                Category::Security,
                0.3,
                "the security review is not finished".to_owned(),
                Some("finish the security review before it goes live".to_owned()),
            )]
        }
        s if [
            "none", "no", "false", "not done", "not yet", "missing", "never",
        ]
        .contains(&s) =>
        {
            vec![(
                Category::Security,
                0.5,
                "nobody has reviewed its security".to_owned(),
                Some("get a security review".to_owned()),
            )]
        }
        _ => Vec::new(),
    }
}

/// How loaded the people involved are.
fn workload(t: &str) -> Vec<Found> {
    match t {
        s if s.contains("high") || s.contains("heavy") || s == "true" => vec![(
            Category::People,
            0.55,
            "the people involved are overloaded".to_owned(),
            Some("lighten the load before adding more".to_owned()),
        )],
        s if s.contains("low") || s.contains("light") || s == "false" => {
            vec![(Category::People, -0.2, "the team has room".to_owned(), None)]
        }
        _ => Vec::new(),
    }
}

/// Whether the text has one of these whole words.
fn has_any_word(text: &str, any: &[&str]) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| any.contains(&w))
}

/// Whether it fits the budget.
fn budget(t: &str) -> Vec<Found> {
    match t {
        s if has_any_word(
            s,
            &["over", "exceeds", "exceeded", "exceed", "high", "overrun"],
        ) =>
        {
            vec![(
                Category::Cost,
                0.5,
                "it strains the budget".to_owned(),
                Some("find the money first".to_owned()),
            )]
        }
        s if has_any_word(s, &["within", "low", "under", "ok", "fits", "fine"]) => {
            vec![(Category::Cost, -0.3, "it fits the budget".to_owned(), None)]
        }
        _ => Vec::new(),
    }
}

/// How many users a failure would reach.
fn users_affected(n: Option<f64>) -> Vec<Found> {
    match n {
        Some(u) if u >= 1000.0 => vec![(
            Category::Reliability,
            if u >= 10_000.0 { 0.3 } else { 0.2 },
            format!("{u:.0} users are affected if it goes wrong"),
            Some("roll out gradually".to_owned()),
        )],
        Some(u) => vec![(
            Category::Reliability,
            -0.1,
            format!("only {u:.0} users are affected if it goes wrong"),
            None,
        )],
        None => Vec::new(),
    }
}
