//! The project's own evidence: its catalog facts, its dependents and its git state.

use super::book::Book;
use super::{Category, GitFacts, ProjectFacts};

/// The project as the catalog knows it, and the projects depending on it.
pub(super) fn project(b: &mut Book, p: &ProjectFacts) {
    let mut sig = Vec::new();
    if p.missing {
        sig.push((
            Category::Reliability,
            0.5,
            format!("the folder of {} is missing on disk", p.name),
            Some("restore the project folder".to_owned()),
        ));
    }
    match p.lifecycle.as_deref() {
        Some("deprecated") | Some("retired") => sig.push((
            Category::Strategy,
            0.45,
            format!(
                "{} is marked {}",
                p.name,
                p.lifecycle.as_deref().unwrap_or_default()
            ),
            Some("confirm the project is worth further investment".to_owned()),
        )),
        Some("experimental") => sig.push((
            Category::Strategy,
            -0.2,
            format!("{} is experimental: change is expected", p.name),
            None,
        )),
        _ => {}
    }
    b.add(
        "project",
        format!(
            "Project {} ({}), lifecycle {}{}",
            p.name,
            if p.stacks.is_empty() {
                "no stack detected".to_owned()
            } else {
                p.stacks.join(", ")
            },
            p.lifecycle.as_deref().unwrap_or("not set"),
            if p.missing { ", folder missing" } else { "" }
        ),
        sig,
    );
    if p.dependents > 0 {
        let risk = (0.1 * f64::from(p.dependents)).min(0.4);
        b.add(
            "graph",
            format!("{} other project(s) depend on {}", p.dependents, p.name),
            vec![(
                Category::Reliability,
                risk,
                format!("a failure reaches {} dependent project(s)", p.dependents),
                Some("tell the owners of dependent projects first".to_owned()),
            )],
        );
    }
}

/// The working tree and the upstream.
pub(super) fn git(b: &mut Book, g: &GitFacts) {
    let mut sig = Vec::new();
    if g.dirty {
        sig.push((
            Category::Hygiene,
            0.3,
            "the working tree has uncommitted changes".to_owned(),
            Some("commit or stash local changes".to_owned()),
        ));
    }
    if g.behind > 0 {
        sig.push((
            Category::Hygiene,
            (0.15 + 0.05 * f64::from(g.behind)).min(0.4),
            format!("{} upstream commit(s) are not pulled", g.behind),
            Some("pull and re-test the upstream changes".to_owned()),
        ));
    }
    if !g.dirty && g.behind == 0 {
        sig.push((
            Category::Hygiene,
            -0.2,
            "the working tree is clean and up to date".to_owned(),
            None,
        ));
    }
    if let Some(d) = g.days_since_commit.filter(|d| *d > 180) {
        sig.push((
            Category::Strategy,
            0.2,
            format!("no commit for {d} days"),
            Some("find out who still knows the code".to_owned()),
        ));
    }
    b.add(
        "git",
        format!(
            "Git: {}, {} ahead, {} behind{}",
            if g.dirty {
                "uncommitted changes"
            } else {
                "clean"
            },
            g.ahead,
            g.behind,
            g.days_since_commit
                .map(|d| format!(", last commit {d} day(s) ago"))
                .unwrap_or_default()
        ),
        sig,
    );
}
