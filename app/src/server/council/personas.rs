//! The thirteen personas Optimus ships with, and how a question is routed to them.

use crate::models::council::PersonaInfo;

/// A persona as shipped: key, name, role, domains, stance, technical.
pub struct Builtin {
    /// Stable key.
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// What it cares about.
    pub role: &'static str,
    /// Expertise domains.
    pub domains: &'static [&'static str],
    /// Its leaning (see [`Stance`]).
    pub stance: &'static str,
    /// One of the five asked by default.
    pub technical: bool,
}

/// The personas of the original system.
pub const BUILTIN: [Builtin; 13] = [
    Builtin {
        key: "strategist",
        name: "Strategist",
        role: "Long-term vision: does this move the project where it should be in a year?",
        domains: &[
            "strategy",
            "architecture",
            "roadmap",
            "technical_debt",
            "lifecycle",
        ],
        stance: "long_term",
        technical: true,
    },
    Builtin {
        key: "pragmatist",
        name: "Pragmatist",
        role: "Delivery within constraints: time, people and effort available now.",
        domains: &["delivery", "deadline", "effort", "team", "scope"],
        stance: "pragmatic",
        technical: true,
    },
    Builtin {
        key: "innovator",
        name: "Innovator",
        role: "New approaches: what do we gain by moving, and what does standing still cost?",
        domains: &["innovation", "technology", "experiment", "architecture"],
        stance: "bold",
        technical: true,
    },
    Builtin {
        key: "guardian",
        name: "Guardian",
        role: "Security, risk and reliability: what can break, and can we recover if it does?",
        domains: &[
            "security",
            "risk",
            "reliability",
            "backup",
            "data",
            "deploy",
        ],
        stance: "cautious",
        technical: true,
    },
    Builtin {
        key: "analyst",
        name: "Analyst",
        role: "Metrics and evidence: what do the numbers and the track record say?",
        domains: &["metrics", "performance", "evidence", "resources", "testing"],
        stance: "evidence",
        technical: true,
    },
    Builtin {
        key: "philosopher",
        name: "Philosopher",
        role: "Ethics and purpose: should we, and for whom?",
        domains: &["ethics", "purpose", "privacy", "values"],
        stance: "cautious",
        technical: false,
    },
    Builtin {
        key: "healer",
        name: "Healer",
        role: "Wellbeing and workload: what does this ask of the people doing it?",
        domains: &["wellbeing", "workload", "burnout", "health"],
        stance: "cautious",
        technical: false,
    },
    Builtin {
        key: "socialite",
        name: "Socialite",
        role: "Team and communication: who needs to know, agree, or help?",
        domains: &["team", "communication", "stakeholders", "collaboration"],
        stance: "pragmatic",
        technical: false,
    },
    Builtin {
        key: "economist",
        name: "Economist",
        role: "Cost and resources: what does it cost to do, and not to do?",
        domains: &["cost", "budget", "resources", "pricing"],
        stance: "pragmatic",
        technical: false,
    },
    Builtin {
        key: "creator",
        name: "Creator",
        role: "Design and user experience: what will the people using it notice?",
        domains: &["design", "ux", "users", "accessibility"],
        stance: "bold",
        technical: false,
    },
    Builtin {
        key: "scholar",
        name: "Scholar",
        role: "Learning: what do we know, what must we learn, and what did we learn last time?",
        domains: &["learning", "documentation", "research", "knowledge"],
        stance: "evidence",
        technical: false,
    },
    Builtin {
        key: "explorer",
        name: "Explorer",
        role: "Growth and experiments: is there a small, safe way to find out?",
        domains: &["growth", "experiment", "prototype", "exploration"],
        stance: "bold",
        technical: false,
    },
    Builtin {
        key: "mentor",
        name: "Mentor",
        role: "Teaching and leadership: how does this grow the team that owns it?",
        domains: &["leadership", "mentoring", "onboarding", "team"],
        stance: "pragmatic",
        technical: false,
    },
];

/// Words of a question that point at a domain (stems, matched at word starts).
const TOPICS: [(&str, &[&str]); 24] = [
    (
        "deploy",
        &[
            "deploy", "release", "ship", "rollout", "launch", "go live", "cutover",
        ],
    ),
    (
        "data",
        &["migrat", "schema", "database", "data", "drop table"],
    ),
    ("backup", &["backup", "restore", "snapshot"]),
    (
        "security",
        &[
            "secur", "vulnerab", "secret", "auth", "password", "cve", "exploit",
        ],
    ),
    ("risk", &["risk", "safe", "incident", "outage"]),
    (
        "reliability",
        &["reliab", "crash", "uptime", "stable", "flaky"],
    ),
    (
        "performance",
        &["perform", "latency", "slow", "memory", "cpu", "speed"],
    ),
    ("testing", &["test", "coverage", "ci"]),
    (
        "architecture",
        &[
            "architect",
            "rewrite",
            "refactor",
            "framework",
            "monolith",
            "microservice",
        ],
    ),
    ("technical_debt", &["debt", "legacy", "cleanup", "deprecat"]),
    (
        "technology",
        &[
            "adopt",
            "upgrade",
            "library",
            "language",
            "tool",
            "rust",
            "postgres",
            "kubernetes",
        ],
    ),
    (
        "deadline",
        &[
            "deadline",
            "this week",
            "by friday",
            "sprint",
            "urgent",
            "asap",
        ],
    ),
    ("effort", &["effort", "estimate", "how long", "scope"]),
    (
        "cost",
        &[
            "cost",
            "budget",
            "price",
            "spend",
            "money",
            "cheap",
            "expensive",
            "license",
        ],
    ),
    (
        "team",
        &["team", "hire", "hiring", "colleague", "stakeholder"],
    ),
    (
        "communication",
        &["communicat", "announce", "tell", "meeting"],
    ),
    (
        "wellbeing",
        &[
            "burnout",
            "overtime",
            "weekend",
            "tired",
            "wellbeing",
            "stress",
            "night",
        ],
    ),
    ("workload", &["workload", "on-call", "on call", "overload"]),
    (
        "ethics",
        &["ethic", "moral", "fair", "privacy", "consent", "tracking"],
    ),
    (
        "design",
        &[
            "design",
            "ux",
            "ui",
            "user experience",
            "usability",
            "accessib",
        ],
    ),
    (
        "learning",
        &["learn", "training", "document", "docs", "research"],
    ),
    (
        "experiment",
        &["experiment", "prototype", "spike", "try", "pilot", "a/b"],
    ),
    ("growth", &["growth", "scale", "new market", "users grow"]),
    (
        "leadership",
        &["mentor", "lead", "onboard", "junior", "teach"],
    ),
];

/// The domains a question touches.
pub fn topics(question: &str) -> Vec<&'static str> {
    let q = question.to_lowercase();
    let words: Vec<&str> = q
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '/'))
        .filter(|w| !w.is_empty())
        .collect();
    TOPICS
        .iter()
        .filter(|(_, stems)| {
            stems.iter().any(|s| {
                if s.contains(' ') {
                    q.contains(s)
                } else {
                    words.iter().any(|w| w.starts_with(s))
                }
            })
        })
        .map(|(domain, _)| *domain)
        .collect()
}

/// How relevant a persona's expertise is to the question: 1.0 plus 0.25 per touched domain
/// (at most 2.0).
pub fn relevance(persona: &PersonaInfo, topics: &[&str]) -> f64 {
    let hits = persona
        .domains
        .iter()
        .filter(|d| topics.contains(&d.as_str()))
        .count();
    (1.0 + 0.25 * hits as f64).min(2.0)
}

/// Who is asked: the named ones, else the enabled technical personas plus every enabled
/// persona whose domains the question touches.
pub fn route<'a>(
    all: &'a [PersonaInfo],
    named: &[String],
    topics: &[&str],
) -> Vec<&'a PersonaInfo> {
    if !named.is_empty() {
        return all.iter().filter(|p| named.contains(&p.key)).collect();
    }
    all.iter()
        .filter(|p| p.enabled)
        .filter(|p| p.technical || p.domains.iter().any(|d| topics.contains(&d.as_str())))
        .collect()
}

/// The built-in personas as infos (no track record yet).
pub fn builtin_infos() -> Vec<PersonaInfo> {
    BUILTIN
        .iter()
        .map(|b| PersonaInfo {
            key: b.key.into(),
            name: b.name.into(),
            role: b.role.into(),
            domains: b.domains.iter().map(|d| (*d).to_owned()).collect(),
            stance: b.stance.into(),
            technical: b.technical,
            model: None,
            builtin: true,
            enabled: true,
            decided: 0,
            correct: 0,
            brier: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_question_goes_to_the_technical_five_and_a_burnout_one_adds_the_healer() {
        let all = builtin_infos();
        let t = topics("Should we deploy the billing release on Friday?");
        assert!(t.contains(&"deploy"));
        let keys: Vec<&str> = route(&all, &[], &t)
            .iter()
            .map(|p| p.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "strategist",
                "pragmatist",
                "innovator",
                "guardian",
                "analyst"
            ]
        );
        let t = topics("The team is close to burnout; should we ship this weekend?");
        let keys: Vec<&str> = route(&all, &[], &t)
            .iter()
            .map(|p| p.key.as_str())
            .collect();
        assert!(
            keys.contains(&"healer") && keys.contains(&"socialite"),
            "{keys:?}"
        );
    }

    #[test]
    fn the_guardian_is_most_relevant_to_a_backup_and_security_question() {
        let all = builtin_infos();
        let t = topics("Is our backup and secret handling safe enough to deploy?");
        let score = |k: &str| all.iter().find(|p| p.key == k).map(|p| relevance(p, &t));
        assert!(score("guardian") > score("innovator"));
    }
}
