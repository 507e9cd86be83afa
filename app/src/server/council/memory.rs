//! The council's memory: every deliberation, turn and outcome is stored; recall ranks memories by
//! full-text relevance (PostgreSQL `tsvector`, SQLite FTS5), importance and recency.

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

/// Memories relevant to `text`, best first.
pub async fn recall(
    db: &impl ConnectionTrait,
    text: &str,
    project_id: Option<i64>,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Scored>, DbErr> {
    let found = repo::search(db, &terms(text), 200).await?;
    let Some(best) = found.iter().map(|(_, r)| *r).reduce(f64::max) else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let models = repo::by_ids(db, ids).await?;
    let mut scored: Vec<Scored> = models
        .into_iter()
        .filter_map(|m| {
            let rank = found.iter().find(|(id, _)| *id == m.id)?.1;
            let relevance = if best > 0.0 { rank / best } else { 0.0 };
            let age = (now - m.created_at).num_seconds() as f64 / 86_400.0;
            let s = score(
                relevance,
                m.importance,
                age,
                m.pinned,
                project_id.is_some() && m.project_id == project_id,
            );
            Some(Scored {
                memory: m,
                score: s,
            })
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    scored.truncate(limit);
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
