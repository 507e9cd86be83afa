//! The operator's monitoring kit against the real program: every metric the alert rules
//! (`deploy/prometheus/rules.yml`, unit-tested by promtool in scripts/monitoring.sh) and the
//! Grafana dashboard (`deploy/grafana/optimus.json`) name is exported by a running Optimus, and
//! the gauges the rules alert on carry real values.

use crate::helpers::{eventually, spawn_app};
use std::collections::BTreeSet;
use std::time::Duration;

/// The `optimus_…` metric names in `text`.
fn names_in(text: &str) -> BTreeSet<String> {
    text.match_indices("optimus_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect()
        })
        .collect()
}

/// Whether `used` (a family, or one of its samples) is one of the exported `families`.
fn exported(families: &BTreeSet<String>, used: &str) -> bool {
    families.contains(used)
        || ["_total", "_bucket", "_sum", "_count", "_created"]
            .iter()
            .any(|s| used.strip_suffix(s).is_some_and(|f| families.contains(f)))
}

/// The value of the unlabelled sample `name` in an exposition.
fn value(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn every_metric_the_rules_and_the_dashboard_use_is_exported() {
    let app = spawn_app().await;
    let exposition = app.get("/metrics").await.text().await.expect("metrics");
    let families: BTreeSet<String> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    for file in ["prometheus/rules.yml", "grafana/optimus.json"] {
        let text = std::fs::read_to_string(deploy.join(file)).expect(file);
        let used = names_in(&text);
        assert!(used.len() >= 5, "{file} names its metrics: {used:?}");
        let missing: Vec<&String> = used.iter().filter(|n| !exported(&families, n)).collect();
        assert!(
            missing.is_empty(),
            "{file} uses metrics Optimus does not export: {missing:?} (exported: {families:?})"
        );
    }
}

#[tokio::test]
async fn the_gauges_the_alerts_read_report_the_instance_as_it_is() {
    let app = spawn_app().await;
    let app = &app;
    let text = eventually(
        Duration::from_secs(10),
        "the gauges are set",
        || async move {
            let text = app.get("/metrics").await.text().await.unwrap_or_default();
            (value(&text, "optimus_database_up") == Some(1.0)).then_some(text)
        },
    )
    .await;
    let size = value(&text, "optimus_data_dir_size_bytes").unwrap_or_default();
    let free = value(&text, "optimus_data_dir_available_bytes").unwrap_or(-1.0);
    assert!(
        size > 0.0 && (0.0..=size).contains(&free),
        "disk: {free} of {size}"
    );
    assert_eq!(value(&text, "optimus_services_crash_looping"), Some(0.0));
}

#[test]
fn metric_names_are_read_with_their_suffixes() {
    let names = names_in(r#"rate(optimus_http_requests_total{x="1"}[5m]) / optimus_up"#);
    let families: BTreeSet<String> = ["optimus_http_requests".to_owned()].into();
    assert!(exported(&families, "optimus_http_requests_total"));
    assert!(!exported(&families, "optimus_up"));
    assert_eq!(names.len(), 2);
}
