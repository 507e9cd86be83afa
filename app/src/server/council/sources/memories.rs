//! What the council remembers of similar questions: past deliberations (with what was chosen
//! and how it turned out) and notes, one entry per deliberation.

use crate::server::council::evidence::{Recalled, Situation};
use crate::server::council::memory;
use crate::server::council::repo::deliberations;
use crate::server::error::ServerResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// Adds up to five recalled memories that share most of the question's terms; a recalled
/// deliberation whose consensus cannot be read fails it, naming the row.
pub async fn gather(
    db: &impl ConnectionTrait,
    question: &str,
    project_id: Option<i64>,
    s: &mut Situation,
    now: DateTime<Utc>,
) -> ServerResult<()> {
    // What the council remembers of similar questions (one entry per past deliberation).
    let recalled = memory::recall(db, question, project_id, false, 20, now).await?;
    let wanted = memory::terms(question);
    let mut seen = Vec::new();
    for m in recalled {
        // Sharing a word or two is not similarity: most of the question's terms must appear.
        let text = format!("{} {}", m.memory.title, m.memory.content).to_lowercase();
        let shared = wanted.iter().filter(|t| text.contains(t.as_str())).count();
        if shared < 2 || shared * 2 < wanted.len() {
            continue;
        }
        let Some(did) = m.memory.deliberation_id else {
            if m.memory.kind == "note" && s.memories.len() < 5 {
                s.memories.push(Recalled {
                    id: m.memory.id,
                    deliberation_id: None,
                    title: m.memory.title.clone(),
                    chosen: None,
                    outcome: None,
                });
            }
            continue;
        };
        if seen.contains(&did) || s.memories.len() >= 5 {
            continue;
        }
        seen.push(did);
        let d = deliberations::find(db, did).await?;
        let chosen = match &d {
            Some(d) => deliberations::consensus(d)?.and_then(|c| c.option),
            None => None,
        };
        s.memories.push(Recalled {
            id: m.memory.id,
            deliberation_id: Some(did),
            title: d
                .as_ref()
                .map(|d| d.question.clone())
                .unwrap_or(m.memory.title),
            chosen,
            outcome: d.and_then(|d| d.outcome),
        });
    }
    Ok(())
}
