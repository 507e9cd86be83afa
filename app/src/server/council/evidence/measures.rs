//! Well-known operational measures in the asker's facts, recognised by meaning in their common
//! spellings (`error_rate`, `errors_pct`, `p95_latency_ms`, `latency_p99`, `test_coverage`,
//! `uptime`, `cost` against `budget`, `incidents_per_month`, `pages_per_week`, `cpu`, a dry
//! run's `mismatch`, `failover`, `peak`, `auth`, `canary`) and compared with the thresholds
//! below. docs/api.md lists them; a measure changes the call only through these rules.
//!
//! | measure | argues against acting | argues for |
//! |---|---|---|
//! | error rate | ≥ 5 % (0.65), ≥ 1 % (0.45), ≥ 0.1 % (0.15) | < 0.1 % |
//! | latency with an objective | ≥ 3× (0.7), ≥ 1.5× (0.4), above (0.3) | within it |
//! | latency alone (p95/p99) | > 2 s (0.5), > 1 s (0.35), > 0.5 s (0.15) | < 0.2 s |
//! | test coverage | < 40 % (0.3), < 60 % (0.15) | ≥ 80 % |
//! | uptime | < 99 % (0.45), < 99.9 % (0.25) | ≥ 99.95 % |
//! | cost / budget | > 1.5 (0.8), > 1.3 (0.6), > 1 (0.45), > 0.5 (0.1) | ≤ 0.5 |
//! | over budget by | > 30 % (0.6), > 0 (0.3) | — |
//! | incidents or pages a month | ≥ 8 (0.55), ≥ 3 (0.35), ≥ 1 (0.15) | none |
//! | CPU, memory, disk use | ≥ 90 % (0.5), ≥ 75 % (0.3) | < 50 % |
//! | rows differing in a dry run | ≥ 1 % (0.7), > 0 (0.3) | none |
//!
//! Production symptoms (errors, latency, uptime, incidents, load) are marked as such: the kind
//! of decision reads them as a risk for a change made on top of them, or as the reason for a
//! decision that remedies them.

use super::book::Found;
use super::quantity::{parse, Period, Quantity, Unit};
use super::stated::{consumed, truthy};
use super::{Category, Nature};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One measure read: the facts it used, what it says, its signals and their nature.
pub(super) struct Reading {
    /// The names of the facts it read.
    pub(super) keys: Vec<String>,
    /// In words, for the evidence.
    pub(super) summary: String,
    /// Its signals.
    pub(super) signals: Vec<Found>,
    /// A production symptom, or a fact.
    pub(super) nature: Nature,
}

fn words(key: &str) -> Vec<&str> {
    key.split('_').filter(|w| !w.is_empty()).collect()
}

fn has(key: &str, any: &[&str]) -> bool {
    words(key)
        .iter()
        .any(|w| any.iter().any(|a| w.starts_with(a)))
}

/// Whether the name has one of these whole words (`pages`, not `page_load`).
fn has_word(key: &str, any: &[&str]) -> bool {
    words(key).iter().any(|w| any.contains(w))
}

/// A percentage: `7%`; a bare number when the name says percent (`errors_pct = 0.5`); else a
/// bare fraction ≤ 1 (`0.07`) or a bare number > 1 read as percent.
fn percent(key: &str, q: &Quantity) -> Option<f64> {
    match q.unit {
        Unit::Percent => Some(q.value),
        Unit::Plain if has_word(key, &["pct", "percent", "percentage"]) => Some(q.value),
        Unit::Plain if q.value <= 1.0 => Some(q.value * 100.0),
        Unit::Plain => Some(q.value),
        _ => None,
    }
}

/// A duration in seconds: with a unit, or a bare number in the unit the name says (`_ms`,
/// `_s`), else milliseconds.
fn seconds(key: &str, q: &Quantity) -> Option<f64> {
    match q.unit {
        Unit::Seconds => Some(q.value),
        Unit::Plain => {
            let w = words(key);
            if w.iter().any(|x| matches!(*x, "s" | "sec" | "seconds")) {
                Some(q.value)
            } else {
                Some(q.value / 1000.0)
            }
        }
        _ => None,
    }
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} ms", s * 1000.0)
    }
}

fn money(q: &Quantity) -> String {
    let c = match q.unit {
        Unit::Money(c) => c,
        _ => "",
    };
    let v = if q.value >= 1000.0 {
        format!("{:.1}k", q.value / 1000.0).replace(".0k", "k")
    } else {
        format!("{:.0}", q.value)
    };
    let per = match q.per {
        Some(Period::Day) => "/day",
        Some(Period::Week) => "/week",
        Some(Period::Month) => "/month",
        Some(Period::Year) => "/year",
        None => "",
    };
    format!("{c}{v}{per}")
}

/// The percentile a name speaks of (`p95`), if any.
fn percentile(key: &str) -> Option<&str> {
    words(key)
        .into_iter()
        .find(|w| w.len() >= 2 && w.starts_with('p') && w[1..].chars().all(|c| c.is_ascii_digit()))
}

fn is_objective(key: &str) -> bool {
    has(key, &["slo", "sla", "target", "objective", "goal", "max"])
}

fn is_latency(key: &str) -> bool {
    has(key, &["latency", "response"]) || percentile(key).is_some()
}

/// Every measure recognised in `facts`, and the names of the facts read.
pub(super) fn read(facts: &BTreeMap<String, Value>) -> (Vec<Reading>, BTreeSet<String>) {
    let mut out = Vec::new();
    let mut used = BTreeSet::new();
    let q: BTreeMap<&str, Quantity> = facts
        .iter()
        .filter_map(|(k, v)| parse(v).map(|q| (k.as_str(), q)))
        .collect();
    for (key, value) in q.iter() {
        let key = *key;
        // No measure here is negative: a negative value is not understood, not good news.
        if consumed(key) || value.value < 0.0 {
            continue;
        }
        let r = if has(key, &["error", "failure"]) && has(key, &["rate", "ratio", "pct", "percent"])
        {
            percent(key, value).map(|p| error_rate(key, p))
        } else if is_latency(key) && !is_objective(key) {
            seconds(key, value).map(|s| latency(key, s, &q))
        } else if has(key, &["coverage"]) {
            percent(key, value).map(|p| coverage(key, p))
        } else if has(key, &["uptime", "availability"]) {
            percent(key, value).map(|p| uptime(key, p))
        } else if has_word(key, &["over", "overrun", "overspend"]) && has(key, &["budget"]) {
            percent(key, value).map(|p| over_budget(key, p))
        } else if has(key, &["cost", "price", "spend", "fee", "quote", "salary"])
            && matches!(value.unit, Unit::Money(_))
        {
            budget_of(&q).and_then(|(bk, b)| cost(key, value, bk, b))
        } else if has_word(
            key,
            &[
                "incident",
                "incidents",
                "outage",
                "outages",
                "pages",
                "alerts",
                "pagerduty",
            ],
        ) && value.unit == Unit::Plain
            && !has(key, &["time", "duration", "ms", "load", "size"])
        {
            Some(incidents(key, value))
        } else if has(key, &["cpu", "memory", "mem", "disk", "load"])
            && matches!(value.unit, Unit::Percent)
        {
            Some(utilisation(key, value.value))
        } else if has_word(
            key,
            &[
                "mismatch",
                "mismatches",
                "mismatched",
                "discrepancy",
                "discrepancies",
                "differ",
                "differs",
                "diff",
                "lost",
                "loss",
            ],
        ) && matches!(value.unit, Unit::Percent | Unit::Plain)
            && (value.unit == Unit::Percent || value.value <= 1.0)
        {
            percent(key, value).map(|p| mismatch(key, p))
        } else {
            None
        };
        take(r, &mut out, &mut used);
    }
    for (key, value) in facts {
        if consumed(key) || used.contains(key) || (q.contains_key(key.as_str()) && !is_flag(key)) {
            continue;
        }
        take(flag(key, value), &mut out, &mut used);
    }
    (out, used)
}

fn take(r: Option<Reading>, out: &mut Vec<Reading>, used: &mut BTreeSet<String>) {
    if let Some(r) = r {
        for k in &r.keys {
            used.insert(k.clone());
        }
        out.push(r);
    }
}

fn is_flag(key: &str) -> bool {
    has(
        key,
        &[
            "failover", "peak", "auth", "canary", "feature", "flag", "dry", "staged",
        ],
    )
}

/// A reading of `keys` with at most one signal: none when `risk` is 0; the mitigation (unless
/// empty) only when it is a risk.
fn reading(
    keys: &[&str],
    summary: String,
    nature: Nature,
    (category, risk, claim): (Category, f64, String),
    mitigation: &str,
) -> Reading {
    Reading {
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        summary,
        signals: if risk == 0.0 {
            Vec::new()
        } else {
            vec![(
                category,
                risk,
                claim,
                (risk > 0.0 && !mitigation.is_empty()).then(|| mitigation.to_owned()),
            )]
        },
        nature,
    }
}

fn error_rate(key: &str, p: f64) -> Reading {
    let (risk, claim) = if p >= 5.0 {
        (0.65, format!("the error rate is {p}%"))
    } else if p >= 1.0 {
        (0.45, format!("the error rate is {p}%"))
    } else if p >= 0.1 {
        (0.15, format!("the error rate is {p}%"))
    } else {
        (-0.15, format!("the error rate is low ({p}%)"))
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (an error rate)"),
        Nature::Symptom,
        (Category::Reliability, risk, claim),
        "watch the error rate and roll back if it rises",
    )
}

fn latency(key: &str, s: f64, all: &BTreeMap<&str, Quantity>) -> Reading {
    let pct = percentile(key);
    // Its objective: a latency objective naming the same percentile, else any latency objective.
    let objective = all
        .iter()
        .filter(|(k, v)| {
            is_objective(k)
                && (is_latency(k) || has(k, &["slo", "sla"]))
                // A bare `sla = 99.9` is an availability, not 99.9 ms.
                && (v.unit == Unit::Seconds || is_latency(k) || has_word(k, &["ms"]))
        })
        .filter(|(k, _)| pct.is_none() || percentile(k).is_none() || percentile(k) == pct)
        .find_map(|(k, v)| seconds(k, v).map(|o| (*k, o)));
    let label = pct.unwrap_or("latency");
    let mut keys = vec![key];
    let (risk, claim, summary) = match objective {
        Some((ok, o)) if o > 0.0 => {
            keys.push(ok);
            let ratio = s / o;
            let risk = if ratio >= 3.0 {
                0.7
            } else if ratio >= 1.5 {
                0.4
            } else if ratio > 1.0 {
                0.3
            } else {
                -0.2
            };
            let claim = if ratio > 1.0 {
                format!("{label} is {}, {ratio:.1}× its {} objective", ms(s), ms(o))
            } else {
                format!("{label} is {}, within its {} objective", ms(s), ms(o))
            };
            (
                risk,
                claim,
                format!(
                    "Stated: {key} = {} against {ok} = {} (a latency and its objective)",
                    ms(s),
                    ms(o)
                ),
            )
        }
        _ => {
            let tail = pct.is_some_and(|p| p >= "p90");
            let risk = if s > 2.0 {
                0.5
            } else if s > 1.0 {
                0.35
            } else if s > 0.5 && tail {
                0.15
            } else if s < 0.2 {
                -0.15
            } else {
                0.0
            };
            (
                risk,
                format!("{label} is {}", ms(s)),
                format!("Stated: {key} = {} (a latency)", ms(s)),
            )
        }
    };
    reading(
        &keys,
        summary,
        Nature::Symptom,
        (Category::Performance, risk, claim),
        &format!("roll out gradually and watch {label}"),
    )
}

fn coverage(key: &str, p: f64) -> Reading {
    let (risk, claim) = if p < 40.0 {
        (0.3, format!("test coverage is low ({p}%)"))
    } else if p < 60.0 {
        (0.15, format!("test coverage is {p}%"))
    } else if p >= 80.0 {
        (-0.2, format!("test coverage is high ({p}%)"))
    } else {
        (0.0, String::new())
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (test coverage)"),
        Nature::Fact,
        (Category::Reliability, risk, claim),
        "add tests around what changes",
    )
}

fn uptime(key: &str, p: f64) -> Reading {
    let risk = if p < 99.0 {
        0.45
    } else if p < 99.9 {
        0.25
    } else if p >= 99.95 {
        -0.15
    } else {
        0.0
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (uptime)"),
        Nature::Symptom,
        (
            Category::Reliability,
            risk,
            if risk > 0.0 {
                format!("uptime is only {p}%")
            } else {
                format!("uptime is {p}%")
            },
        ),
        "find what takes it down",
    )
}

fn over_budget(key: &str, p: f64) -> Reading {
    let risk = if p > 30.0 {
        0.6
    } else if p > 0.0 {
        0.3
    } else {
        -0.2
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (over budget by)"),
        Nature::Fact,
        (
            Category::Cost,
            risk,
            if p > 0.0 {
                format!("it is {p}% over budget")
            } else {
                "it fits the budget".to_owned()
            },
        ),
        "agree the extra spend first",
    )
}

/// The budget among the facts, as money.
fn budget_of<'a>(q: &BTreeMap<&'a str, Quantity>) -> Option<(&'a str, Quantity)> {
    q.iter()
        .find(|(k, v)| {
            has(k, &["budget", "limit", "allowance"]) && matches!(v.unit, Unit::Money(_))
        })
        .map(|(k, v)| (*k, *v))
}

fn cost(key: &str, c: &Quantity, budget_key: &str, b: Quantity) -> Option<Reading> {
    // Rates compare per month; a one-off against a one-off.
    let (cv, bv) = if c.per.is_some() || b.per.is_some() {
        (c.monthly(), b.monthly())
    } else {
        (c.value, b.value)
    };
    if bv <= 0.0 {
        return None;
    }
    let ratio = cv / bv;
    let (risk, claim) = if ratio > 1.3 {
        (
            if ratio > 1.5 { 0.8 } else { 0.6 },
            format!(
                "{} is {:.0}% over the {} budget",
                money(c),
                (ratio - 1.0) * 100.0,
                money(&b)
            ),
        )
    } else if ratio > 1.0 {
        (
            0.45,
            format!(
                "{} is {:.0}% over the {} budget",
                money(c),
                (ratio - 1.0) * 100.0,
                money(&b)
            ),
        )
    } else if ratio > 0.5 {
        (
            0.1,
            format!(
                "{} takes {:.0}% of the {} budget",
                money(c),
                ratio * 100.0,
                money(&b)
            ),
        )
    } else {
        (
            -0.35,
            format!(
                "{} is {:.0}% of the {} budget",
                money(c),
                ratio * 100.0,
                money(&b)
            ),
        )
    };
    Some(reading(
        &[key, budget_key],
        format!(
            "Stated: {key} = {} against {budget_key} = {} (a cost and its budget)",
            money(c),
            money(&b)
        ),
        Nature::Fact,
        (Category::Cost, risk, claim),
        // A cost that fits, if tightly, needs no condition.
        if risk > 0.3 {
            "find the money or a cheaper way first"
        } else {
            ""
        },
    ))
}

/// Incidents, outages, pages or alerts, per month (the period from the value or the name).
fn incidents(key: &str, q: &Quantity) -> Reading {
    let per = q.per.or_else(|| {
        let w = words(key);
        if w.contains(&"week") || w.contains(&"weekly") {
            Some(Period::Week)
        } else if w.contains(&"day") || w.contains(&"daily") {
            Some(Period::Day)
        } else if w.contains(&"year") {
            Some(Period::Year)
        } else {
            Some(Period::Month)
        }
    });
    let monthly = per.map_or(q.value, |p| q.value * p.per_month());
    let risk = if monthly >= 8.0 {
        0.55
    } else if monthly >= 3.0 {
        0.35
    } else if monthly >= 1.0 {
        0.15
    } else {
        -0.15
    };
    reading(
        &[key],
        format!("Stated: {key} = {} (about {monthly:.0} a month)", q.value),
        Nature::Symptom,
        (
            Category::Reliability,
            risk,
            if monthly >= 1.0 {
                format!("about {monthly:.0} incident(s) or page(s) a month")
            } else {
                "incidents are rare".to_owned()
            },
        ),
        "find what keeps paging people",
    )
}

fn utilisation(key: &str, p: f64) -> Reading {
    let risk = if p >= 90.0 {
        0.5
    } else if p >= 75.0 {
        0.3
    } else if p < 50.0 {
        -0.1
    } else {
        0.0
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (utilisation)"),
        Nature::Symptom,
        (
            Category::Performance,
            risk,
            format!("{} is at {p}%", key.replace('_', " ")),
        ),
        "add capacity first",
    )
}

fn mismatch(key: &str, p: f64) -> Reading {
    let risk = if p >= 1.0 {
        0.7
    } else if p > 0.0 {
        0.3
    } else {
        -0.3
    };
    reading(
        &[key],
        format!("Stated: {key} = {p}% (differences found)"),
        Nature::Fact,
        (
            Category::DataSafety,
            risk,
            if p > 0.0 {
                format!("{p}% of the data differs")
            } else {
                "nothing differs".to_owned()
            },
        ),
        "reconcile what differs before relying on it",
    )
}

/// Yes/no facts about how the change is made.
fn flag(key: &str, value: &Value) -> Option<Reading> {
    let yes = truthy(value)?;
    let (category, risk, claim, mitigation, nature) = if has(key, &["failover"]) {
        if yes {
            (
                Category::Reliability,
                -0.2,
                "a failover takes over while it is down",
                None,
                Nature::Fact,
            )
        } else {
            (
                Category::Reliability,
                0.4,
                "there is no failover: it is down while this happens",
                Some("do it in a maintenance window"),
                Nature::Fact,
            )
        }
    } else if has(key, &["peak"]) {
        if yes {
            (
                Category::Reliability,
                0.35,
                "it happens at peak traffic",
                Some("wait for low traffic"),
                Nature::Fact,
            )
        } else {
            (
                Category::Reliability,
                -0.1,
                "traffic is low",
                None,
                Nature::Fact,
            )
        }
    } else if has(key, &["auth"]) {
        if yes {
            (
                Category::Security,
                -0.2,
                "access requires authentication",
                None,
                Nature::Fact,
            )
        } else {
            (
                Category::Security,
                0.45,
                "anyone can reach it without authentication",
                Some("put authentication in front of it"),
                Nature::Fact,
            )
        }
    } else if has(key, &["canary", "feature", "flag", "staged"]) {
        if yes {
            (
                Category::Reliability,
                -0.25,
                "it can be rolled out gradually or switched off",
                None,
                Nature::Fact,
            )
        } else {
            return None;
        }
    } else if has(key, &["dry"]) {
        if yes {
            (
                Category::DataSafety,
                -0.2,
                "a dry run was done",
                None,
                Nature::Fact,
            )
        } else {
            (
                Category::DataSafety,
                0.2,
                "no dry run was done",
                Some("rehearse it on a copy first"),
                Nature::Fact,
            )
        }
    } else {
        return None;
    };
    Some(reading(
        &[key],
        format!("Stated: {key} = {yes}"),
        nature,
        (category, risk, claim.to_owned()),
        mitigation.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn risks(f: &BTreeMap<String, Value>) -> Vec<(Vec<String>, f64)> {
        read(f)
            .0
            .into_iter()
            .map(|r| (r.keys, r.signals.first().map_or(0.0, |s| s.1)))
            .collect()
    }

    #[test]
    fn measures_are_recognised_by_meaning_and_compared_with_their_thresholds() {
        let f = facts(&[
            ("error_rate", "7%".into()),
            ("p95_latency_ms", 1800.into()),
            ("slo_p95", "200 ms".into()),
            ("test_coverage", "12%".into()),
            ("cost", "$12k".into()),
            ("budget", "$8k".into()),
            ("pages_per_week", 14.into()),
            ("uptime", "99.99%".into()),
            ("colour", "blue".into()),
        ]);
        let r = risks(&f);
        let of = |k: &str| r.iter().find(|(keys, _)| keys[0] == k).map(|x| x.1);
        assert_eq!(of("error_rate"), Some(0.65));
        assert_eq!(of("p95_latency_ms"), Some(0.7), "9× its objective");
        assert_eq!(of("test_coverage"), Some(0.3));
        assert_eq!(of("cost"), Some(0.6), "50% over budget");
        assert_eq!(of("pages_per_week"), Some(0.55), "about 61 a month");
        assert_eq!(of("uptime"), Some(-0.15));
        let (_, used) = read(&f);
        assert!(used.contains("slo_p95") && used.contains("budget"));
        assert!(!used.contains("colour"));
        let cheap = facts(&[
            ("cost", "$300/month".into()),
            ("budget", "$2,000/month".into()),
        ]);
        assert_eq!(risks(&cheap)[0].1, -0.35);
        let yearly = facts(&[
            ("cost", "$6,000/year".into()),
            ("budget", "$400/month".into()),
        ]);
        assert_eq!(risks(&yearly)[0].1, 0.45, "500 a month against 400");
        let flags = facts(&[("failover", false.into()), ("peak", true.into())]);
        assert_eq!(risks(&flags).len(), 2);
        // Names that only look like a measure, and values no measure takes, are not read.
        let look_alike = facts(&[
            ("page_load_time_ms", 1200.into()),
            ("difficulty", 0.8.into()),
            ("overall_budget_used", "45%".into()),
            ("error_rate", "-5%".into()),
        ]);
        assert!(read(&look_alike).0.is_empty(), "{:?}", risks(&look_alike));
        let pct = facts(&[("errors_pct", 0.5.into())]);
        assert_eq!(risks(&pct)[0].1, 0.15, "0.5 %, not 50 %");
        let sla = facts(&[("p95_ms", 300.into()), ("sla", 99.9.into())]);
        assert_eq!(
            read(&sla).0[0].keys,
            ["p95_ms"],
            "a bare sla is no latency objective"
        );
    }
}
