//! The Council of Minds: personas, deliberations, their turns and consensus, outcomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The option ids of the default decision set.
pub const DEFAULT_OPTIONS: [(&str, &str); 4] = [
    ("proceed", "Proceed"),
    ("proceed_with_conditions", "Proceed with conditions"),
    ("defer", "Defer"),
    ("reject", "Reject"),
];

/// The default options, as a deliberation holds them.
pub fn default_options() -> Vec<OptionInfo> {
    DEFAULT_OPTIONS
        .iter()
        .map(|(id, label)| OptionInfo {
            id: (*id).into(),
            label: (*label).into(),
        })
        .collect()
}

/// A persona: a point of view with expertise domains and a stance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PersonaInfo {
    /// Stable key, e.g. `guardian`.
    pub key: String,
    /// Display name, e.g. `Guardian`.
    pub name: String,
    /// One line: what it cares about.
    pub role: String,
    /// Expertise domains (`security`, `risk`, `delivery`, …), used to route questions.
    pub domains: Vec<String>,
    /// How it leans: `cautious`, `pragmatic`, `bold`, `evidence`, `long_term`, or free text.
    pub stance: String,
    /// One of the five technical personas asked by default.
    pub technical: bool,
    /// A model this persona uses with the LLM engine (default: the configured one).
    pub model: Option<String>,
    /// Shipped with Optimus (editable, not removable).
    pub builtin: bool,
    /// Whether it takes part.
    pub enabled: bool,
    /// Decisions with a recorded outcome it voted on.
    pub decided: u32,
    /// Of those, how many it called right.
    pub correct: u32,
    /// Mean Brier score of its confidence on them (0 is perfect, 0.25 a coin flip); none yet.
    pub brier: Option<f64>,
}

/// Asks the council a question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliberateRequest {
    /// The question: at most 2000 characters, of which at least 3 between the first and the
    /// last that is not a space.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 2000,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][\s\S]+[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub question: String,
    /// The project it is about.
    #[serde(default)]
    pub project_id: Option<i64>,
    /// Facts the asker states (`team_size`, `deadline_days`, `tests`, …): at most 30, named by
    /// 1–64 of `a-z 0-9 _`, each a text (at most 500 characters), a number or a boolean.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(schema_with = crate::models::wire::deliberation_facts)
    )]
    pub facts: BTreeMap<String, serde_json::Value>,
    /// The options to choose from (at most 8, each at most 80 characters with an ASCII letter or
    /// digit); none means `proceed`, `proceed_with_conditions`, `defer`, `reject`. Just one, or
    /// two with the same id (the lower-case slug of their letters and digits): 422.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_items = 8, value_type = Vec<crate::models::wire::OptionLabel>)
    )]
    pub options: Vec<String>,
    /// Persona keys to ask; default the technical five plus those whose domains the question
    /// touches. A key no persona has, or no enabled persona to ask: 422.
    #[serde(default)]
    pub personas: Vec<String>,
    /// Run a second round in which each persona sees the others' anonymised positions.
    #[serde(default)]
    pub second_round: bool,
}

/// Asks for one deliberation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliberationRequest {
    /// The deliberation.
    pub id: i64,
}

/// One piece of evidence a persona may cite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// Id within the deliberation (`E1`, `E2`, …).
    pub id: String,
    /// Which tool produced it: `project`, `git`, `services`, `crashes`, `resources`, `activity`,
    /// `pipelines`, `backups`, `tests`, `fact`, `memory`, `graph`, `audit`.
    pub source: String,
    /// What it says, in words.
    pub summary: String,
    /// The signal it carries for decisions: `risk`, `support` or `neutral`.
    pub signal: String,
    /// How strongly, 0–1.
    pub weight: f64,
}

/// A persona's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Turn {
    /// Persona key.
    pub persona: String,
    /// 1, or 2 for a revision after seeing the others.
    pub round: u8,
    /// The chosen option id; none when it abstained.
    pub option: Option<String>,
    /// Confidence in the choice, 0–1 (0 when abstaining).
    pub confidence: f64,
    /// Why, citing evidence ids in brackets.
    pub rationale: String,
    /// What worries it.
    pub concerns: Vec<String>,
    /// What would have to hold (for `proceed_with_conditions`).
    pub conditions: Vec<String>,
    /// Evidence ids it relied on.
    pub evidence: Vec<String>,
    /// Whether it abstained (failed, timed out, or had nothing to go on).
    pub abstained: bool,
    /// Why it abstained.
    pub error: Option<String>,
}

/// One dissenting voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dissent {
    /// Persona key.
    pub persona: String,
    /// What it chose instead.
    pub option: String,
    /// Its rationale.
    pub reason: String,
}

/// What the council concluded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Consensus {
    /// The winning option of the weighted vote; none when everyone abstained.
    pub option: Option<String>,
    /// Calibrated confidence in it, 0–1.
    pub confidence: f64,
    /// Share of the voting weight on the winning option, 0–1.
    pub agreement: f64,
    /// The plain-majority option (one persona, one vote), for comparison.
    pub majority: Option<String>,
    /// Weight per option, after expertise and track-record weighting.
    pub weights: BTreeMap<String, f64>,
    /// Personas that chose the winning option.
    pub supporters: Vec<String>,
    /// Those that chose another, with their reasons.
    pub dissenters: Vec<Dissent>,
    /// Personas that abstained.
    pub abstained: Vec<String>,
    /// Why the confidence is what it is, in words.
    pub explanation: String,
    /// The kind of decision recognised: `ship`, `operate`, `migration`, `rewrite`, `adopt`,
    /// `staffing`, `spend`, `expose` or `general` (absent on deliberations older than it).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why that kind, in words.
    #[serde(default)]
    pub kind_why: String,
    /// Stated facts the council could not interpret (`name = value`).
    #[serde(default)]
    pub unused_facts: Vec<String>,
    /// Evidence the kind of decision wants that was missing: it lowered the confidence.
    #[serde(default)]
    pub missing_evidence: Vec<String>,
    /// What would change this call, in words.
    #[serde(default)]
    pub would_change: Vec<String>,
    /// The vote's own confidence before calibration, 0–1.
    #[serde(default)]
    pub raw_confidence: Option<f64>,
    /// The share of the evidence the kind wants that was there, 0–1.
    #[serde(default)]
    pub coverage: Option<f64>,
    /// How much the evidence pulled both ways, 0–1.
    #[serde(default)]
    pub conflict: Option<f64>,
    /// The weight of the single strongest signal, 0–1.5.
    #[serde(default)]
    pub strongest: Option<f64>,
    /// How far the evidence leant one way (risks and burden less good news, absolute).
    #[serde(default)]
    pub net: Option<f64>,
}

/// An option of a deliberation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OptionInfo {
    /// Id (`proceed`, or a slug of the asker's text).
    pub id: String,
    /// As shown.
    pub label: String,
}

/// A deliberation, finished or in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliberationInfo {
    /// Id.
    pub id: i64,
    /// The question.
    pub question: String,
    /// The project.
    pub project_id: Option<i64>,
    /// Facts stated by the asker.
    pub facts: BTreeMap<String, serde_json::Value>,
    /// The options.
    pub options: Vec<OptionInfo>,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// `offline` or `llm`.
    pub engine: String,
    /// The evidence gathered.
    pub evidence: Vec<Evidence>,
    /// Every turn, round one first.
    pub turns: Vec<Turn>,
    /// The conclusion (once done).
    pub consensus: Option<Consensus>,
    /// Who asked.
    pub asked_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// The recorded outcome: the option that turned out right.
    pub outcome: Option<String>,
    /// Notes on the outcome.
    pub outcome_note: Option<String>,
}

/// Records how a decision turned out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutcomeRequest {
    /// The deliberation.
    pub id: i64,
    /// The option that turned out to be right, by id or label (not one of the deliberation's
    /// options: 422).
    pub outcome: String,
    /// Notes (at most 2000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub note: Option<String>,
}

/// Lists deliberations, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliberationsQuery {
    /// Only about this project.
    #[serde(default)]
    pub project_id: Option<i64>,
    /// Only those whose question contains this text (at most 200 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200))]
    pub search: Option<String>,
    /// Below this id (next page).
    #[serde(default)]
    pub before: Option<i64>,
    /// At most this many (1–100, default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// A deliberation in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliberationSummary {
    /// Id.
    pub id: i64,
    /// The question.
    pub question: String,
    /// The project.
    pub project_id: Option<i64>,
    /// The winning option.
    pub option: Option<String>,
    /// Its confidence.
    pub confidence: Option<f64>,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// The recorded outcome.
    pub outcome: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Changes a persona (admins), or adds one when the key is new.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SavePersonaRequest {
    /// Key: 2–32 of `a-z 0-9 _`.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[a-z0-9_]{2,32}$"))]
    pub key: String,
    /// Display name: at most 64 characters, not only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 64,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub name: String,
    /// One line: what it cares about (at most 300 characters, not only spaces).
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 300,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub role: String,
    /// Expertise domains: 1–12 words of 1–32 of `a-z` and `_`.
    #[cfg_attr(
        feature = "ssr",
        schema(min_items = 1, max_items = 12, value_type = Vec<crate::models::wire::DomainName>)
    )]
    pub domains: Vec<String>,
    /// `cautious`, `pragmatic`, `bold`, `evidence` or `long_term` (the offline engine's
    /// leanings).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^(cautious|pragmatic|bold|evidence|long_term)$")
    )]
    pub stance: String,
    /// Model for the LLM engine (1–128 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 128))]
    pub model: Option<String>,
    /// Whether it takes part (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The option id of free text: lower-case words joined by `_`.
pub fn option_id(label: &str) -> String {
    let mut id = String::new();
    for word in label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !id.is_empty() {
            id.push('_');
        }
        id.push_str(&word.to_ascii_lowercase());
    }
    id.chars().take(48).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_ids_are_slugs_of_the_label() {
        assert_eq!(
            option_id("Proceed with conditions"),
            "proceed_with_conditions"
        );
        assert_eq!(option_id("  Use PostgreSQL 16! "), "use_postgresql_16");
        assert_eq!(option_id("!!!"), "");
    }
}

/// Asks for a knowledge-graph neighbourhood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GraphRequest {
    /// Around this project (give this or `deliberation_id`, not both nor neither: 422).
    #[serde(default)]
    pub project_id: Option<i64>,
    /// Or around this decision (deliberation id).
    #[serde(default)]
    pub deliberation_id: Option<i64>,
    /// Hops (1–3, default 2).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 3))]
    pub depth: Option<u32>,
    /// As known at this time (default now).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// A node of the knowledge graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GraphNode {
    /// Id.
    pub id: i64,
    /// `project`, `technology`, `decision`, …
    pub kind: String,
    /// Identity within the kind.
    pub key: String,
    /// As shown.
    pub label: String,
    /// Hops from the start.
    pub distance: u32,
}

/// An edge of the knowledge graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GraphEdge {
    /// From.
    pub src: i64,
    /// To.
    pub dst: i64,
    /// `uses`, `depends_on`, `decided`, …
    pub kind: String,
    /// Weight.
    pub weight: f64,
    /// Since when it holds.
    pub valid_from: DateTime<Utc>,
    /// When it stopped holding.
    pub valid_to: Option<DateTime<Utc>>,
}

/// A neighbourhood of the knowledge graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GraphView {
    /// Nodes, the start first.
    pub nodes: Vec<GraphNode>,
    /// Edges among them.
    pub edges: Vec<GraphEdge>,
}

/// Lists or searches memories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemoriesQuery {
    /// Full-text search (ranked by relevance, importance and recency; at most 500 characters);
    /// absent lists newest first.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 500))]
    pub search: Option<String>,
    /// Only of this project.
    #[serde(default)]
    pub project_id: Option<i64>,
    /// At most this many (1–100, default 20).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

/// A memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemoryInfo {
    /// Id.
    pub id: i64,
    /// `deliberation`, `turn`, `outcome` or `note`.
    pub kind: String,
    /// Its deliberation.
    pub deliberation_id: Option<i64>,
    /// Its project.
    pub project_id: Option<i64>,
    /// Its persona.
    pub persona: Option<String>,
    /// One line.
    pub title: String,
    /// The text.
    pub content: String,
    /// 0–1.
    pub importance: f64,
    /// Pinned memories rank higher in recall.
    pub pinned: bool,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The recall score, when searched.
    pub score: Option<f64>,
}

/// Edits a memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateMemoryRequest {
    /// The memory.
    pub id: i64,
    /// New title: at most 300 characters, not only spaces.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 300,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub title: Option<String>,
    /// New text: at most 20000 characters, not only spaces.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 20000,
            pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub content: Option<String>,
    /// New importance, 0–1.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 1))]
    pub importance: Option<f64>,
    /// Pin or unpin.
    #[serde(default)]
    pub pinned: Option<bool>,
}

/// Names one memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemoryRequest {
    /// The memory.
    pub id: i64,
}

/// Asks for the shortest path between two projects in the knowledge graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PathRequest {
    /// From this project (no such project: 404).
    pub from_project_id: i64,
    /// To this one (no such project: 404).
    pub to_project_id: i64,
}

/// The council's calibration: the map from the vote's own confidence (and how much of the
/// wanted evidence was there, how much it pulled both ways, its strongest signal and its lean)
/// to the confidence it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalibrationInfo {
    /// The weights in use: intercept, log-odds of the raw confidence, conflict, strongest
    /// signal, lean.
    pub weights: Vec<f64>,
    /// The weights shipped with Optimus, fitted on its labelled situations.
    pub shipped: Vec<f64>,
    /// How many recorded outcomes the weights in use were refitted on (0: the shipped ones).
    pub samples: u32,
    /// When they were last refitted (none: never).
    pub updated_at: Option<DateTime<Utc>>,
}
