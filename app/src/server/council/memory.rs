//! The council's memory: every deliberation, turn and outcome is stored; recall ranks memories by
//! full-text relevance (PostgreSQL `tsvector`, SQLite FTS5), importance and recency.

use crate::server::council::entities::council_memory;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    Set, Statement,
};

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

/// A memory to store.
#[derive(Debug, Clone)]
pub struct NewMemory {
    /// `deliberation`, `turn`, `outcome` or `note`.
    pub kind: &'static str,
    /// Its deliberation.
    pub deliberation_id: Option<i64>,
    /// Its project.
    pub project_id: Option<i64>,
    /// Its persona.
    pub persona: Option<String>,
    /// One line.
    pub title: String,
    /// The text searched.
    pub content: String,
    /// 0–1.
    pub importance: f64,
}

/// Stores a memory.
pub async fn remember(
    db: &impl ConnectionTrait,
    m: NewMemory,
    now: DateTime<Utc>,
) -> Result<council_memory::Model, DbErr> {
    council_memory::ActiveModel {
        kind: Set(m.kind.to_owned()),
        deliberation_id: Set(m.deliberation_id),
        project_id: Set(m.project_id),
        persona: Set(m.persona),
        title: Set(m.title.chars().take(300).collect()),
        content: Set(m.content),
        importance: Set(m.importance.clamp(0.0, 1.0)),
        pinned: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Full-text matches for `terms`: (memory id, relevance where higher is better), at most `cap`.
async fn matches(
    db: &impl ConnectionTrait,
    terms: &[String],
    cap: u64,
) -> Result<Vec<(i64, f64)>, DbErr> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let stmt = match backend {
        DbBackend::Postgres => {
            // OR of the terms, each stemmed by the English configuration.
            let q = terms.join(" | ");
            Statement::from_sql_and_values(
                backend,
                "SELECT id, ts_rank(search, q)::float8 AS rank \
                 FROM council_memories, to_tsquery('english', $1) q \
                 WHERE search @@ q ORDER BY rank DESC LIMIT $2",
                [q.into(), i64::try_from(cap).unwrap_or(i64::MAX).into()],
            )
        }
        _ => {
            let q = terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" OR ");
            // bm25 is lower for better matches; negate it.
            Statement::from_sql_and_values(
                backend,
                "SELECT rowid AS id, -bm25(council_memories_fts) AS rank \
                 FROM council_memories_fts WHERE council_memories_fts MATCH ? \
                 ORDER BY rank DESC LIMIT ?",
                [q.into(), i64::try_from(cap).unwrap_or(i64::MAX).into()],
            )
        }
    };
    let rows = db.query_all(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        let rank: f64 = r.try_get("", "rank")?;
        out.push((id, rank));
    }
    Ok(out)
}

/// A recalled memory and its score.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The memory.
    pub memory: council_memory::Model,
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
    let found = matches(db, &terms(text), 200).await?;
    let Some(best) = found.iter().map(|(_, r)| *r).reduce(f64::max) else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let models = council_memory::Entity::find()
        .filter(council_memory::Column::Id.is_in(ids))
        .all(db)
        .await?;
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
