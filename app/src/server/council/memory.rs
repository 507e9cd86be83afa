//! The council's memory: every deliberation, turn and outcome is stored; recall ranks memories by
//! relevance (candidates found by PostgreSQL `tsvector` or SQLite FTS5, weighed by BM25 here),
//! importance and recency.

use crate::server::council::relevance;
use crate::server::council::repo::memories::{self as repo, Memory};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

pub use crate::server::council::repo::memories::NewMemory;

/// Words too common to say anything about relevance.
const STOP: [&str; 40] = [
    "the", "and", "for", "are", "but", "not", "you", "all", "can", "her", "was", "one", "our",
    "out", "has", "have", "had", "how", "its", "may", "new", "now", "see", "who", "did", "this",
    "that", "with", "from", "they", "will", "would", "should", "could", "what", "when", "which",
    "there", "their", "about",
];

/// The search terms of a text: lower-case words of 3+ letters or digits, no stop words, at most
/// 16, deduplicated.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP.contains(&w.as_str()))
    {
        if !out.contains(&w) {
            out.push(w);
        }
        if out.len() == 16 {
            break;
        }
    }
    out
}

/// Stores a memory (its title cut to 300 characters, its importance to 0–1).
pub async fn remember(
    db: &impl ConnectionTrait,
    m: NewMemory,
    now: DateTime<Utc>,
) -> Result<Memory, DbErr> {
    let m = NewMemory {
        title: m.title.chars().take(300).collect(),
        importance: m.importance.clamp(0.0, 1.0),
        ..m
    };
    repo::insert(db, m, now).await
}

/// A recalled memory and its score.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The memory.
    pub memory: Memory,
    /// 0–1.3: relevance, importance, recency, pin and project combined.
    pub score: f64,
}

/// How a match, its importance, age, pin and project combine into one score.
pub fn score(
    relevance: f64,
    importance: f64,
    age_days: f64,
    pinned: bool,
    same_project: bool,
) -> f64 {
    let recency = 0.5f64.powf(age_days.max(0.0) / 30.0);
    0.6 * relevance
        + 0.25 * importance
        + 0.15 * recency
        + if pinned { 0.2 } else { 0.0 }
        + if same_project { 0.1 } else { 0.0 }
}

/// How many of the newest matches each of recall's candidate queries reads.
pub const CANDIDATES: u64 = 300;

/// Memories relevant to `text`, best first: of `project_id` only when `only_project`, else
/// that project's memories get a small lift.
///
/// The database finds the candidates ([`repo::candidates`]: the newest that contain every
/// term, the newest that contain any, the pinned), each part stopping at [`CANDIDATES`]; this
/// weighs them ([`relevance::bm25`] with importance, recency, pin and project). While fewer
/// than that many memories match, every match is weighed; beyond, the newest are, so a query
/// of words that most memories contain stays as fast as a rare one.
pub async fn recall(
    db: &impl ConnectionTrait,
    text: &str,
    project_id: Option<i64>,
    only_project: bool,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Scored>, DbErr> {
    let terms = terms(text);
    let scope = project_id.filter(|_| only_project);
    let found = repo::candidates(db, &terms, scope, CANDIDATES).await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let total = u64::try_from(repo::highest_id(db).await?).unwrap_or(0);
    let stems: Vec<String> = terms.iter().map(|t| relevance::stem(t)).collect();
    let texts: Vec<String> = found
        .iter()
        .map(|m| format!("{} {}", m.title, m.content))
        .collect();
    let docs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ranks = relevance::bm25(&stems, &docs, total, CANDIDATES as usize);
    let best = ranks.iter().copied().fold(0.0, f64::max);
    if best <= 0.0 {
        return Ok(Vec::new());
    }
    let mut scored: Vec<Scored> = found
        .into_iter()
        .zip(ranks)
        // A pinned memory is weighed only when it matches.
        .filter(|(_, rank)| *rank > 0.0)
        .map(|(m, rank)| {
            let age = (now - m.created_at).num_seconds() as f64 / 86_400.0;
            let s = score(
                rank / best,
                m.importance,
                age,
                m.pinned,
                project_id.is_some() && m.project_id == project_id,
            );
            Scored {
                memory: m,
                score: s,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.memory.id.cmp(&a.memory.id))
    });
    scored.truncate(limit);
    // The content was read cut for weighing; the chosen ones whose content may be longer are
    // read whole.
    let cut: Vec<i64> = scored
        .iter()
        .filter(|s| s.memory.content.chars().count() >= repo::WEIGHED_CHARS as usize)
        .map(|s| s.memory.id)
        .collect();
    if !cut.is_empty() {
        for whole in repo::by_ids(db, cut).await? {
            if let Some(s) = scored.iter_mut().find(|s| s.memory.id == whole.id) {
                s.memory = whole;
            }
        }
    }
    Ok(scored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_stop_words_and_short_words() {
        assert_eq!(
            terms("Should we deploy the billing API with the new schema?"),
            ["deploy", "billing", "api", "schema"]
        );
    }

    #[test]
    fn a_relevant_old_memory_can_lose_to_a_pinned_one_but_not_to_noise() {
        let relevant_old = score(1.0, 0.5, 120.0, false, false);
        let pinned_weak = score(0.3, 0.5, 1.0, true, false);
        let noise_new = score(0.05, 0.2, 0.0, false, false);
        assert!(relevant_old > noise_new);
        assert!(pinned_weak > noise_new);
    }
}
