//! Reading the facts the asker stated, under the names people use.

use serde_json::Value;
use std::collections::BTreeMap;

/// A fact as lower-case text (numbers and booleans as written).
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

/// A fact as a number, when it is one or a text that parses as one.
pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// A fact as yes or no, when it reads as one.
pub(super) fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_lowercase().as_str() {
            "yes" | "true" | "y" | "1" => Some(true),
            "no" | "false" | "n" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        _ => None,
    }
}

/// Whether a fact's name is about tests, backups or schema changes (read by their own tools).
/// Test coverage is a measure of its own ([`super::measures`]).
pub(super) fn consumed(key: &str) -> bool {
    !key.contains("coverage") && about_tests(key)
        || ["backup", "schema", "migration"]
            .iter()
            .any(|w| has_word_start(key, w))
}

/// Whether a word of the name starts with `stem` (`latest_error_rate` has no word `test…`).
fn has_word_start(key: &str, stem: &str) -> bool {
    key.split('_').any(|w| w.starts_with(stem))
}

/// Whether the name speaks of tests (`tests`, `failing_tests`, `tests_passing`).
fn about_tests(key: &str) -> bool {
    has_word_start(key, "test")
}

/// The tests as stated, under the names people use: `tests = failing`, `tests_passing = true`,
/// `failing_tests = 3`, `ci = green`.
pub(super) fn stated_tests(facts: &BTreeMap<String, Value>) -> Option<String> {
    if let Some(v) = facts.get("tests").or_else(|| facts.get("ci")) {
        return Some(text(v));
    }
    let (k, v) = facts
        .iter()
        .find(|(k, _)| about_tests(k) && !k.contains("coverage"))?;
    let failing_name = k.contains("fail") || k.contains("broken") || k.contains("red");
    if let (Value::Number(_), Some(n), true) = (v, number(v), failing_name) {
        return Some(if n > 0.0 { "failing" } else { "passing" }.into());
    }
    if let Some(b) = truthy(v) {
        return Some(
            if b != failing_name {
                "passing"
            } else {
                "failing"
            }
            .into(),
        );
    }
    Some(text(v))
}

/// The newest backup as stated: `Some(None)` when the asker says there is none, `Some(Some(h))`
/// for its age in hours (`backup_age_hours = 30`, `backup_age_days = 2`, `backup = recent`).
pub(super) fn stated_backup(facts: &BTreeMap<String, Value>) -> Option<Option<f64>> {
    for (k, v) in facts.iter().filter(|(k, _)| has_word_start(k, "backup")) {
        if let (Value::Number(_), Some(n)) = (v, number(v)) {
            let hours = if k.contains("day") {
                n * 24.0
            } else if k.contains("min") {
                n / 60.0
            } else {
                n
            };
            return Some(Some(hours));
        }
        let t = text(v);
        if ["none", "missing", "never", "no", "false", "absent"].contains(&t.as_str()) {
            return Some(None);
        }
        if ["recent", "fresh", "today", "yes", "true", "ok", "verified"].contains(&t.as_str()) {
            return Some(Some(1.0));
        }
        if t.contains("stale") || t.contains("old") || t.contains("week") {
            return Some(Some(24.0 * 14.0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::council::evidence::{assess, Category, Situation};

    #[test]
    fn facts_are_read_under_the_names_people_use() {
        let f = |pairs: &[(&str, Value)]| -> BTreeMap<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        };
        assert_eq!(
            stated_tests(&f(&[("tests_passing", true.into())])).as_deref(),
            Some("passing")
        );
        assert_eq!(
            stated_tests(&f(&[("failing_tests", 3.into())])).as_deref(),
            Some("failing")
        );
        assert_eq!(
            stated_tests(&f(&[("tests_failing", "yes".into())])).as_deref(),
            Some("failing")
        );
        assert_eq!(stated_backup(&f(&[("backup", "none".into())])), Some(None));
        assert_eq!(
            stated_backup(&f(&[("backup_age_days", 2.into())])),
            Some(Some(48.0))
        );
        assert_eq!(
            stated_backup(&f(&[("last_backup", "recent".into())])),
            Some(Some(1.0))
        );
        let s = Situation {
            facts: f(&[
                ("has_recent_backup", false.into()),
                ("migration", "yes".into()),
            ]),
            ..Default::default()
        };
        let (_, signals) = assess(&s);
        assert!(
            signals
                .iter()
                .any(|x| x.category == Category::DataSafety && x.risk > 0.8),
            "{signals:?}"
        );
    }
}
