//! What kind of decision is asked, recognised from the words of the question and its options,
//! and what each kind asks of the evidence: its burden of proof, which evidence counts more,
//! whether missing evidence is a risk, and the conditions it always proposes.

use crate::server::council::evidence::Category;

/// The kinds of decision the council tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Deploy, release, ship, roll out.
    Ship,
    /// Restart, reload, rotate, scale: routine operations.
    Operate,
    /// A schema or data migration, a move between databases.
    Migration,
    /// A rewrite or re-architecture.
    Rewrite,
    /// Adopting, switching or upgrading a technology.
    Adopt,
    /// Who does the work, and how much of it.
    Staffing,
    /// Spending money.
    Spend,
    /// Opening something up to the public, partners or customers.
    Expose,
    /// Nothing more specific recognised.
    General,
}

impl Kind {
    /// The id shown in the answer.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Ship => "ship",
            Kind::Operate => "operate",
            Kind::Migration => "migration",
            Kind::Rewrite => "rewrite",
            Kind::Adopt => "adopt",
            Kind::Staffing => "staffing",
            Kind::Spend => "spend",
            Kind::Expose => "expose",
            Kind::General => "general",
        }
    }

    /// In words, for a rationale.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Ship => "a release",
            Kind::Operate => "a routine operation",
            Kind::Migration => "a migration",
            Kind::Rewrite => "a rewrite",
            Kind::Adopt => "adopting a technology",
            Kind::Staffing => "a staffing decision",
            Kind::Spend => "a spending decision",
            Kind::Expose => "opening something up",
            Kind::General => "a general decision",
        }
    }
}

/// Words that point at a kind, and how strongly (stems match at word starts; a cue with a
/// space matches as a phrase).
const CUES: [(Kind, &str, f64); 87] = [
    (Kind::Ship, "deploy", 2.0),
    (Kind::Ship, "release", 2.0),
    (Kind::Ship, "ship", 2.0),
    (Kind::Ship, "roll out", 2.0),
    (Kind::Ship, "rollout", 2.0),
    (Kind::Ship, "launch", 2.0),
    (Kind::Ship, "go live", 2.0),
    (Kind::Ship, "hotfix", 2.0),
    (Kind::Ship, "merge", 1.0),
    (Kind::Ship, "tag", 1.0),
    (Kind::Operate, "restart", 3.0),
    (Kind::Operate, "reload", 3.0),
    (Kind::Operate, "reboot", 3.0),
    (Kind::Operate, "rotate", 3.0),
    (Kind::Operate, "renew", 3.0),
    (Kind::Operate, "scale", 3.0),
    (Kind::Operate, "failover", 2.0),
    (Kind::Operate, "roll back", 2.0),
    (Kind::Operate, "rollback", 2.0),
    (Kind::Operate, "resize", 2.0),
    (Kind::Operate, "certificate", 1.0),
    (Kind::Operate, "apply the new", 1.0),
    (Kind::Migration, "migrat", 4.5),
    (Kind::Migration, "schema", 4.5),
    (Kind::Migration, "cut over", 2.5),
    (Kind::Migration, "cutover", 2.5),
    (Kind::Migration, "backfill", 2.5),
    (Kind::Migration, "table", 1.5),
    (Kind::Migration, "column", 1.5),
    (Kind::Migration, "sqlite", 1.0),
    (Kind::Migration, "postgres", 1.0),
    (Kind::Migration, "mysql", 1.0),
    (Kind::Migration, "database", 0.5),
    (Kind::Rewrite, "rewrite", 4.0),
    (Kind::Rewrite, "from scratch", 3.0),
    (Kind::Rewrite, "re-architect", 4.0),
    (Kind::Rewrite, "rearchitect", 4.0),
    (Kind::Rewrite, "microservice", 4.0),
    (Kind::Rewrite, "monolith", 3.0),
    (Kind::Rewrite, "rebuild", 3.0),
    (Kind::Rewrite, "redesign", 2.0),
    (Kind::Rewrite, "architecture", 2.5),
    (Kind::Adopt, "adopt", 3.0),
    (Kind::Adopt, "introduce", 2.0),
    (Kind::Adopt, "switch", 2.0),
    (Kind::Adopt, "upgrade", 2.0),
    (Kind::Adopt, "bump", 2.0),
    (Kind::Adopt, "replace", 2.0),
    (Kind::Adopt, "library", 1.5),
    (Kind::Adopt, "framework", 1.0),
    (Kind::Adopt, "kubernetes", 2.0),
    (Kind::Adopt, "k8s", 2.0),
    (Kind::Adopt, "redis", 1.5),
    (Kind::Adopt, "orm", 1.5),
    (Kind::Adopt, "as a cache", 1.5),
    (Kind::Staffing, "ask the team", 3.0),
    (Kind::Staffing, "weekend", 2.5),
    (Kind::Staffing, "overtime", 3.0),
    (Kind::Staffing, "on-call", 3.0),
    (Kind::Staffing, "on call", 3.0),
    (Kind::Staffing, "rotation", 2.0),
    (Kind::Staffing, "maintainer", 2.0),
    (Kind::Staffing, "another team", 3.0),
    (Kind::Staffing, "hire", 2.0),
    (Kind::Staffing, "hiring", 2.0),
    (Kind::Staffing, "person", 1.5),
    (Kind::Staffing, "crunch", 3.0),
    (Kind::Spend, "buy", 3.0),
    (Kind::Spend, "pay for", 3.0),
    (Kind::Spend, "purchase", 3.0),
    (Kind::Spend, "license", 2.0),
    (Kind::Spend, "subscription", 2.0),
    (Kind::Spend, "plan", 1.5),
    (Kind::Spend, "$", 3.0),
    (Kind::Spend, "€", 3.0),
    (Kind::Spend, "£", 3.0),
    (Kind::Spend, "contractor", 2.0),
    (Kind::Spend, "invest", 1.5),
    (Kind::Expose, "expose", 4.0),
    (Kind::Expose, "public", 3.0),
    (Kind::Expose, "internet", 2.0),
    (Kind::Expose, "open the", 1.5),
    (Kind::Expose, "open up", 2.0),
    (Kind::Expose, "port", 1.0),
    (Kind::Expose, "partner", 2.0),
    (Kind::Expose, "webhook", 2.5),
    (Kind::Expose, "for customers", 1.5),
];

/// The words of a decision that mean it remedies a problem (a symptom then argues for it).
const REMEDY: [&str; 16] = [
    "fix",
    "hotfix",
    "patch",
    "repair",
    "mitigat",
    "restart",
    "scale",
    "cache",
    "speed up",
    "optimi",
    "reduce",
    "add a",
    "bigger",
    "more capacity",
    "faster",
    "stabili",
];

/// The kind recognised, the cues that decided it, and whether the decision remedies a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    /// The kind.
    pub kind: Kind,
    /// Why, in words.
    pub why: String,
    /// Whether the decision addresses a problem (production symptoms then argue for it).
    pub remedy: bool,
    /// A routine version of its kind (an upgrade within a version line, a small change).
    pub routine: bool,
}

/// A cue of letters matches at the start of a word; any other (a phrase, `$`) anywhere.
fn matches(text: &str, words: &[&str], cue: &str) -> bool {
    position(text, words, cue).is_some()
}

/// Where a cue first occurs: the index of its word, or of the word its phrase starts in.
fn position(text: &str, words: &[&str], cue: &str) -> Option<usize> {
    if cue.chars().all(char::is_alphanumeric) {
        words.iter().position(|w| w.starts_with(cue))
    } else {
        let at = text.find(cue)?;
        Some(
            text[..at]
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .filter(|w| !w.is_empty())
                .count(),
        )
    }
}

/// A strong cue that comes first (the verb of "deploy the search rewrite") counts this much
/// more.
const LEADING: f64 = 2.0;

/// Recognises the kind of decision in a question (and its options' labels).
pub fn recognise(question: &str, options: &[String]) -> Recognised {
    let text = format!("{} {}", question, options.join(" ")).to_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut scores: Vec<(Kind, f64, Vec<&str>)> = Vec::new();
    let leading = CUES
        .iter()
        .filter(|(_, _, w)| *w >= 2.0)
        .filter_map(|(k, c, _)| position(&text, &words, c).map(|p| (p, *k)))
        .min_by_key(|(p, _)| *p)
        .map(|(_, k)| k);
    if let Some(k) = leading {
        scores.push((k, LEADING, Vec::new()));
    }
    for (kind, cue, weight) in CUES {
        let Some(at) = position(&text, &words, cue) else {
            continue;
        };
        // The word as written ("migration"), not the stem ("migrat").
        let said = if cue.chars().all(char::is_alphanumeric) {
            words.get(at).copied().unwrap_or(cue)
        } else {
            cue
        };
        match scores.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(s) => {
                s.1 += weight;
                if !s.2.contains(&said) {
                    s.2.push(said);
                }
            }
            None => scores.push((kind, weight, vec![said])),
        }
    }
    // The highest score wins; on a tie, the kind listed first in CUES.
    let best = scores
        .iter()
        .fold(None::<&(Kind, f64, Vec<&str>)>, |best, s| match best {
            Some(b) if b.1 >= s.1 => Some(b),
            _ => Some(s),
        });
    let remedy = REMEDY.iter().any(|r| matches(&text, &words, r));
    let routine = words.iter().any(|w| {
        ["upgrade", "bump", "update", "patch"]
            .iter()
            .any(|r| w.starts_with(r))
    }) && same_major(&text);
    match best {
        Some((kind, _, cues)) => Recognised {
            kind: *kind,
            why: format!("recognised as {} from “{}”", kind.noun(), cues.join("”, “")),
            remedy,
            routine: routine && *kind == Kind::Adopt,
        },
        None => Recognised {
            kind: Kind::General,
            why: "no more specific kind of decision was recognised in the question".to_owned(),
            remedy,
            routine: false,
        },
    }
}

/// Whether the text names two versions of the same major line (`4.1 to 4.2`).
fn same_major(text: &str) -> bool {
    let versions: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| w.contains('.') && w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    versions.len() >= 2 && versions[0].split('.').next() == versions[1].split('.').next()
}

/// What a kind asks of the evidence.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Added to every persona's net risk before it is squashed: the default burden of proof.
    pub burden: f64,
    /// How much good news counts against risks (1 = as much as a risk of the same size).
    pub reassurance: f64,
    /// The lowest option on the default scale (1: never a plain "proceed", always conditions).
    pub min_band: usize,
    /// The conditions the kind always proposes when proceeding with conditions.
    pub conditions: &'static [&'static str],
    /// The evidence the kind wants, by category, in words.
    pub wanted: &'static [(Category, &'static str)],
}

/// How much a kind counts a category: (risks, reassurance).
pub fn gain(kind: Kind, c: Category) -> (f64, f64) {
    use Category::*;
    match (kind, c) {
        (Kind::Ship, Reliability) => (1.2, 1.0),
        (Kind::Ship, Strategy | Cost) => (0.5, 0.5),
        (Kind::Ship, People) => (0.7, 0.7),
        (Kind::Operate, Hygiene) => (0.4, 0.5),
        (Kind::Operate, Strategy) => (0.3, 0.3),
        (Kind::Operate, People) => (0.7, 0.7),
        (Kind::Migration, DataSafety) => (1.3, 1.0),
        (Kind::Migration, Hygiene) => (0.6, 0.6),
        (Kind::Rewrite, People) => (2.0, 1.0),
        (Kind::Rewrite, Strategy) => (1.5, 1.0),
        (Kind::Rewrite, Delivery) => (1.2, 0.6),
        // A healthy, tidy system is no argument for rewriting it.
        (Kind::Rewrite, Reliability | Hygiene | Performance) => (1.0, 0.1),
        (Kind::Adopt, People) => (1.6, 1.0),
        (Kind::Adopt, Delivery) => (1.2, 1.0),
        (Kind::Adopt, Hygiene) => (0.6, 0.6),
        (Kind::Staffing, People) => (1.5, 1.0),
        (Kind::Staffing, Hygiene | Strategy) => (0.3, 0.3),
        (Kind::Spend, Cost) => (2.0, 2.0),
        (Kind::Spend, Hygiene | Strategy | People) => (0.4, 0.4),
        (Kind::Expose, Security) => (2.0, 1.2),
        (Kind::Expose, DataSafety) => (1.2, 1.0),
        (Kind::Expose, Hygiene) => (0.6, 0.6),
        _ => (1.0, 1.0),
    }
}

/// How much missing evidence of a category counts as a risk for a kind (0: it only lowers
/// confidence).
pub fn absence(kind: Kind, c: Category) -> f64 {
    match (kind, c) {
        (Kind::Migration, Category::DataSafety) => 0.6,
        (Kind::Migration, Category::Reliability) => 0.5,
        (Kind::Ship, Category::DataSafety) => 0.3,
        _ => 0.0,
    }
}

/// The profile of a kind (a routine one carries less burden).
pub fn profile(r: &Recognised) -> Profile {
    use Category::*;
    match r.kind {
        Kind::Ship => Profile {
            burden: 0.0,
            reassurance: 0.6,
            min_band: 0,
            conditions: &["watch errors and latency after it goes out, ready to roll back"],
            wanted: &[
                (Reliability, "test results or CI"),
                (DataSafety, "a recent backup or a rollback plan"),
                (Hygiene, "the git state"),
            ],
        },
        Kind::Operate => Profile {
            burden: -0.1,
            reassurance: 0.6,
            min_band: 0,
            conditions: &["check the service is healthy afterwards"],
            wanted: &[
                (Reliability, "the services' health"),
                (DataSafety, "a way back"),
            ],
        },
        Kind::Migration => Profile {
            burden: 0.15,
            reassurance: 0.4,
            min_band: 1,
            conditions: &[
                "take a backup just before and check it restores",
                "rehearse it on a copy first",
            ],
            wanted: &[
                (DataSafety, "a tested backup"),
                (Reliability, "test results"),
            ],
        },
        Kind::Rewrite => Profile {
            burden: 0.55,
            reassurance: 0.3,
            min_band: 1,
            conditions: &[
                "rewrite one part behind the old interface first, not everything at once",
                "agree what the rewrite must fix and how to measure it",
            ],
            wanted: &[
                (People, "the team's size and load"),
                (
                    Need,
                    "what the current system costs (incidents, latency, errors)",
                ),
                (Strategy, "the project's lifecycle"),
            ],
        },
        Kind::Adopt => Profile {
            burden: if r.routine { 0.0 } else { 0.15 },
            reassurance: 0.5,
            min_band: usize::from(!r.routine),
            conditions: &["try it on one part first, with a way back"],
            wanted: &[
                (Need, "the problem it solves"),
                (People, "who will run it"),
                (Reliability, "test results"),
            ],
        },
        Kind::Staffing => Profile {
            burden: 0.0,
            reassurance: 0.5,
            min_band: 0,
            conditions: &["agree it with the people concerned first"],
            wanted: &[
                (People, "the team's size and load"),
                (Need, "the load it addresses"),
            ],
        },
        Kind::Spend => Profile {
            burden: 0.0,
            reassurance: 0.8,
            min_band: 0,
            conditions: &["set a spending limit and review it after a month"],
            wanted: &[
                (Cost, "the cost against the budget"),
                (Need, "what it is for"),
            ],
        },
        Kind::Expose => Profile {
            burden: 0.15,
            reassurance: 0.4,
            min_band: 0,
            conditions: &["rate-limit it and watch who uses it"],
            wanted: &[
                (Security, "a security review"),
                (Reliability, "the service's health"),
            ],
        },
        Kind::General => Profile {
            burden: 0.0,
            reassurance: 0.4,
            min_band: 0,
            conditions: &[],
            wanted: &[(Reliability, "test results")],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(q: &str) -> Kind {
        recognise(q, &[]).kind
    }

    #[test]
    fn the_kind_of_decision_is_recognised_from_the_question() {
        assert_eq!(
            kind("Should we deploy the billing release now?"),
            Kind::Ship
        );
        assert_eq!(
            kind("Restart the primary database now, at peak traffic, to apply a kernel update?"),
            Kind::Operate
        );
        assert_eq!(
            kind("Move the app from SQLite to PostgreSQL this week?"),
            Kind::Migration
        );
        assert_eq!(
            kind("Rewrite the frontend from scratch in a new framework?"),
            Kind::Rewrite
        );
        assert_eq!(
            kind("Split the monolith into microservices?"),
            Kind::Rewrite
        );
        assert_eq!(
            kind("Add Redis as a cache in front of the catalog queries?"),
            Kind::Adopt
        );
        assert_eq!(
            kind("Ask the team to do the migration over the weekend?"),
            Kind::Staffing
        );
        assert_eq!(
            kind("Hire a contractor for $12k to finish the export feature?"),
            Kind::Spend
        );
        assert_eq!(
            kind("Turn on outgoing webhooks for customers this week?"),
            Kind::Expose
        );
        assert_eq!(kind("What should we name the cat?"), Kind::General);
        let r = recognise("Upgrade the web framework from 4.1 to 4.2?", &[]);
        assert!(r.routine && r.kind == Kind::Adopt, "{r:?}");
        assert!(!recognise("Upgrade from 4.2 to 5.0?", &[]).routine);
        assert!(recognise("Ship the hotfix for the checkout errors now?", &[]).remedy);
        assert!(!recognise("Deploy the new search ranking to everyone?", &[]).remedy);
        assert!(recognise("Ship it?", &[]).why.contains("“ship”"));
        assert_eq!(
            kind("Should we deploy the search rewrite to production?"),
            Kind::Ship,
            "the verb decides"
        );
    }
}
