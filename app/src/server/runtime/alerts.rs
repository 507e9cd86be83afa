//! Threshold alerts: a rule fires once when a service's resource stays above its level for the
//! rule's duration, and resolves once when it drops back. Evaluated on every sampling tick.

use crate::models::runtime::{AlertRule, ResourceSample};
use crate::server::notifications::NewNotification;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;

/// An alert that changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The value stayed above the threshold for the rule's duration.
    Fired {
        /// The rule.
        rule: AlertRule,
        /// The value now.
        value: f64,
    },
    /// The value dropped back to or below the threshold after firing.
    Resolved {
        /// The rule.
        rule: AlertRule,
        /// The value now.
        value: f64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Watch {
    since: DateTime<Utc>,
    fired: bool,
}

/// What each rule of each service has seen so far.
#[derive(Debug, Default)]
pub struct Alerts {
    watches: HashMap<(i64, String), Watch>,
}

impl Alerts {
    /// Feeds one sample of a service through its rules.
    pub fn observe(&mut self, rules: &[AlertRule], sample: &ResourceSample) -> Vec<Transition> {
        let mut out = Vec::new();
        for rule in rules {
            let key = (sample.service_id, rule.describe());
            let value = rule.metric.of(sample);
            if value > rule.above {
                let w = self.watches.entry(key).or_insert(Watch {
                    since: sample.at,
                    fired: false,
                });
                let held = sample.at - w.since;
                let needed = TimeDelta::seconds(i64::try_from(rule.for_secs).unwrap_or(i64::MAX));
                if !w.fired && held >= needed {
                    w.fired = true;
                    out.push(Transition::Fired {
                        rule: rule.clone(),
                        value,
                    });
                }
            } else if let Some(w) = self.watches.remove(&key) {
                if w.fired {
                    out.push(Transition::Resolved {
                        rule: rule.clone(),
                        value,
                    });
                }
            }
        }
        out
    }

    /// Forgets services that are no longer running (their alerts start afresh next time).
    pub fn retain_services(&mut self, live: &[i64]) {
        self.watches.retain(|(id, _), _| live.contains(id));
    }
}

/// The notification for a transition of `sample`'s service.
pub fn notification(t: &Transition, sample: &ResourceSample) -> NewNotification {
    let round = |v: f64| (v * 10.0).round() / 10.0;
    match t {
        Transition::Fired { rule, value } => NewNotification {
            level: "warning",
            kind: "alert",
            title: format!(
                "{}: {} above {}{}",
                sample.name,
                rule.metric.as_str(),
                rule.above,
                rule.metric.unit()
            ),
            body: format!(
                "The {} of `{}` has been above {}{} for {} s; it is {}{} now.",
                rule.metric.as_str(),
                sample.name,
                rule.above,
                rule.metric.unit(),
                rule.for_secs,
                round(*value),
                rule.metric.unit()
            ),
            project_id: Some(sample.project_id),
            service_id: Some(sample.service_id),
        },
        Transition::Resolved { rule, value } => NewNotification {
            level: "info",
            kind: "alert_resolved",
            title: format!(
                "{}: {} back below {}{}",
                sample.name,
                rule.metric.as_str(),
                rule.above,
                rule.metric.unit()
            ),
            body: format!(
                "The {} of `{}` is {}{} now.",
                rule.metric.as_str(),
                sample.name,
                round(*value),
                rule.metric.unit()
            ),
            project_id: Some(sample.project_id),
            service_id: Some(sample.service_id),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::runtime::AlertMetric;

    fn sample(secs: i64, mib: u64) -> ResourceSample {
        ResourceSample {
            service_id: 7,
            name: "web".into(),
            at: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(secs),
            rss_bytes: mib * 1_048_576,
            ..Default::default()
        }
    }

    fn memory_above(mib: f64, secs: u64) -> Vec<AlertRule> {
        vec![AlertRule {
            metric: AlertMetric::Memory,
            above: mib,
            for_secs: secs,
        }]
    }

    #[test]
    fn fires_once_after_the_duration_and_resolves_once() {
        let rules = memory_above(100.0, 10);
        let mut a = Alerts::default();
        assert!(a.observe(&rules, &sample(0, 150)).is_empty());
        assert!(a.observe(&rules, &sample(5, 150)).is_empty());
        let fired = a.observe(&rules, &sample(10, 160));
        assert!(
            matches!(fired.as_slice(), [Transition::Fired { value, .. }] if (*value - 160.0).abs() < 0.01)
        );
        assert!(a.observe(&rules, &sample(12, 170)).is_empty(), "fires once");
        let resolved = a.observe(&rules, &sample(14, 50));
        assert!(matches!(resolved.as_slice(), [Transition::Resolved { .. }]));
        assert!(a.observe(&rules, &sample(16, 50)).is_empty());
    }

    #[test]
    fn a_dip_below_restarts_the_clock_without_a_resolution() {
        let rules = memory_above(100.0, 10);
        let mut a = Alerts::default();
        a.observe(&rules, &sample(0, 150));
        assert!(a.observe(&rules, &sample(8, 90)).is_empty());
        assert!(a.observe(&rules, &sample(12, 150)).is_empty());
        assert!(!a.observe(&rules, &sample(22, 150)).is_empty());
    }

    #[test]
    fn zero_seconds_fires_on_the_first_sample_and_says_so() {
        let rules = memory_above(1.0, 0);
        let mut a = Alerts::default();
        let s = sample(0, 64);
        let t = a.observe(&rules, &s);
        assert_eq!(t.len(), 1);
        let n = notification(&t[0], &s);
        assert_eq!(n.kind, "alert");
        assert_eq!(n.title, "web: memory above 1 MiB");
        assert!(n.body.contains("64 MiB now"), "{}", n.body);
    }
}
