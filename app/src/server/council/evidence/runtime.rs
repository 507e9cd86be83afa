//! The runtime's evidence: service health, recent crashes, the resource trend and activity.

use super::book::Book;
use super::{Category, Nature, ResourceFacts, ServiceFacts, Situation};

/// Services now, and the failed runs of the last day.
pub(super) fn services(b: &mut Book, sv: &ServiceFacts) {
    let mut sig = Vec::new();
    if !sv.crash_loop.is_empty() {
        sig.push((
            Category::Reliability,
            0.8,
            format!("{} in crash loop", sv.crash_loop.join(", ")),
            Some(format!("fix {} first", sv.crash_loop.join(", "))),
        ));
    } else if !sv.failing.is_empty() {
        sig.push((
            Category::Reliability,
            0.5,
            format!("{} failing", sv.failing.join(", ")),
            Some(format!("get {} healthy", sv.failing.join(", "))),
        ));
    } else if sv.total > 0 && sv.ready == sv.total {
        sig.push((
            Category::Reliability,
            -0.3,
            format!("all {} service(s) are ready", sv.total),
            None,
        ));
    }
    b.add_as(
        Nature::Symptom,
        "services",
        format!(
            "Services: {} defined, {} ready, {} in crash loop, {} failing",
            sv.total,
            sv.ready,
            sv.crash_loop.len(),
            sv.failing.len()
        ),
        sig,
    );
    let crash = match sv.crashes_24h {
        0 if sv.total > 0 => vec![(
            Category::Reliability,
            -0.2,
            "no crash in the last 24 hours".to_owned(),
            None,
        )],
        0 => Vec::new(),
        n @ 1..=2 => vec![(
            Category::Reliability,
            0.3,
            format!("{n} crash(es) in the last 24 hours"),
            Some("understand the recent crashes".to_owned()),
        )],
        n => vec![(
            Category::Reliability,
            0.6,
            format!("{n} crashes in the last 24 hours"),
            Some("understand the recent crashes".to_owned()),
        )],
    };
    b.add_as(
        Nature::Symptom,
        "crashes",
        format!("{} failed run(s) in the last 24 hours", sv.crashes_24h),
        crash,
    );
}

/// The last hour's memory and CPU.
pub(super) fn resources(b: &mut Book, r: &ResourceFacts) {
    let mut sig = Vec::new();
    if r.memory_change_pct > 30.0 {
        sig.push((
            Category::Performance,
            0.4,
            format!("memory grew {:.0}% in the last hour", r.memory_change_pct),
            Some("rule out a memory leak".to_owned()),
        ));
    }
    if r.cpu_mean > 80.0 {
        sig.push((
            Category::Performance,
            0.3,
            format!("CPU averages {:.0}% of a core", r.cpu_mean),
            Some("check capacity first".to_owned()),
        ));
    }
    if sig.is_empty() {
        sig.push((
            Category::Performance,
            -0.15,
            "resources are steady".to_owned(),
            None,
        ));
    }
    b.add_as(
        Nature::Symptom,
        "resources",
        format!(
            "Resources (last hour): {:.0} MiB now ({:+.0}%), CPU mean {:.0}%",
            r.memory_mb, r.memory_change_pct, r.cpu_mean
        ),
        sig,
    );
}

/// Timeline entries and audited actions of the last 7 days.
pub(super) fn activity(b: &mut Book, s: &Situation) {
    if let Some(n) = s.activity_7d {
        b.add(
            "activity",
            format!("{n} timeline entries in the last 7 days"),
            Vec::new(),
        );
    }
    if let Some(n) = s.audit_7d {
        b.add(
            "audit",
            format!("{n} audited actions in the last 7 days"),
            Vec::new(),
        );
    }
}
