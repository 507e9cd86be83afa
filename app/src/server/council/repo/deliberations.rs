//! Deliberations and their turns.

use crate::models::council::{Consensus, Evidence, OptionInfo, Turn};
use crate::server::council::entities::{council_deliberation, council_turn};
use crate::server::stored::{self, Undecodable};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// A stored deliberation (its facts, options, evidence and consensus as JSON).
pub type Deliberation = council_deliberation::Model;

/// A stored turn (the whole `Turn` as JSON).
pub type TurnRow = council_turn::Model;

const TABLE: &str = "council_deliberations";

/// The facts the asker stated.
pub fn facts(m: &Deliberation) -> Result<BTreeMap<String, Value>, Undecodable> {
    stored::decode(TABLE, m.id, "facts", &m.facts)
}

/// The options asked about.
pub fn options(m: &Deliberation) -> Result<Vec<OptionInfo>, Undecodable> {
    stored::decode(TABLE, m.id, "options", &m.options)
}

/// The numbered evidence (empty while running).
pub fn evidence(m: &Deliberation) -> Result<Vec<Evidence>, Undecodable> {
    stored::decode(TABLE, m.id, "evidence", &m.evidence)
}

/// The consensus, once done.
pub fn consensus(m: &Deliberation) -> Result<Option<Consensus>, Undecodable> {
    m.consensus
        .as_deref()
        .map(|c| stored::decode(TABLE, m.id, "consensus", c))
        .transpose()
}

/// The turn a row holds.
pub fn turn(t: &TurnRow) -> Result<Turn, Undecodable> {
    stored::decode("council_turns", t.id, "body", &t.body)
}

/// A deliberation by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Deliberation>, DbErr> {
    council_deliberation::Entity::find_by_id(id).one(db).await
}

/// A deliberation to start.
pub struct NewDeliberation<'a> {
    /// The question, trimmed.
    pub question: &'a str,
    /// Its project.
    pub project_id: Option<i64>,
    /// The facts stated.
    pub facts: &'a BTreeMap<String, Value>,
    /// The options.
    pub options: &'a [OptionInfo],
    /// `offline` or `llm`.
    pub engine: &'a str,
    /// Who asked.
    pub asked_by: &'a str,
}

/// Stores a deliberation as `running`, with no evidence yet.
pub async fn insert(
    db: &impl ConnectionTrait,
    d: NewDeliberation<'_>,
    now: DateTime<Utc>,
) -> Result<Deliberation, DbErr> {
    council_deliberation::ActiveModel {
        question: Set(d.question.to_owned()),
        project_id: Set(d.project_id),
        facts: Set(serde_json::to_string(d.facts).unwrap_or_else(|_| "{}".into())),
        options: Set(serde_json::to_string(d.options).unwrap_or_else(|_| "[]".into())),
        status: Set("running".into()),
        engine: Set(d.engine.to_owned()),
        evidence: Set("[]".into()),
        consensus: Set(None),
        asked_by: Set(Some(d.asked_by.to_owned())),
        created_at: Set(now),
        finished_at: Set(None),
        outcome: Set(None),
        outcome_note: Set(None),
        outcome_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Marks a deliberation `done` with its evidence and consensus.
pub async fn finish(
    db: &impl ConnectionTrait,
    m: Deliberation,
    evidence: &[Evidence],
    consensus: &Consensus,
    now: DateTime<Utc>,
) -> Result<Deliberation, DbErr> {
    let mut done: council_deliberation::ActiveModel = m.into();
    done.evidence = Set(serde_json::to_string(evidence).unwrap_or_else(|_| "[]".into()));
    done.consensus = Set(Some(
        serde_json::to_string(consensus).unwrap_or_else(|_| "{}".into()),
    ));
    done.status = Set("done".into());
    done.finished_at = Set(Some(now));
    done.update(db).await
}

/// Records which option turned out right.
pub async fn set_outcome(
    db: &impl ConnectionTrait,
    m: Deliberation,
    outcome: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Deliberation, DbErr> {
    let mut a: council_deliberation::ActiveModel = m.into();
    a.outcome = Set(Some(outcome.to_owned()));
    a.outcome_note = Set(note);
    a.outcome_at = Set(Some(now));
    a.update(db).await
}

/// Which deliberations a page shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page<'a> {
    /// Only this project's.
    pub project_id: Option<i64>,
    /// Only ids below this one.
    pub before: Option<i64>,
    /// Only questions containing this text.
    pub search: Option<&'a str>,
    /// At most this many.
    pub limit: u64,
}

/// Deliberations, newest first.
pub async fn page(db: &impl ConnectionTrait, p: Page<'_>) -> Result<Vec<Deliberation>, DbErr> {
    let mut find = council_deliberation::Entity::find();
    if let Some(p) = p.project_id {
        find = find.filter(council_deliberation::Column::ProjectId.eq(p));
    }
    if let Some(b) = p.before {
        find = find.filter(council_deliberation::Column::Id.lt(b));
    }
    if let Some(s) = p.search {
        find = find.filter(council_deliberation::Column::Question.contains(s));
    }
    find.order_by_desc(council_deliberation::Column::Id)
        .limit(p.limit)
        .all(db)
        .await
}

/// The newest `cap` deliberations with a recorded outcome.
pub async fn decided(db: &impl ConnectionTrait, cap: u64) -> Result<Vec<Deliberation>, DbErr> {
    council_deliberation::Entity::find()
        .filter(council_deliberation::Column::Outcome.is_not_null())
        .order_by_desc(council_deliberation::Column::Id)
        .limit(cap)
        .all(db)
        .await
}

/// A deliberation's turns, in the order they were taken.
pub async fn turns(db: &impl ConnectionTrait, deliberation_id: i64) -> Result<Vec<TurnRow>, DbErr> {
    council_turn::Entity::find()
        .filter(council_turn::Column::DeliberationId.eq(deliberation_id))
        .order_by_asc(council_turn::Column::Id)
        .all(db)
        .await
}

/// The turns of several deliberations, by round.
pub async fn turns_of_all(
    db: &impl ConnectionTrait,
    deliberation_ids: Vec<i64>,
) -> Result<Vec<TurnRow>, DbErr> {
    council_turn::Entity::find()
        .filter(council_turn::Column::DeliberationId.is_in(deliberation_ids))
        .order_by_asc(council_turn::Column::Round)
        .all(db)
        .await
}

/// Stores a turn.
pub async fn insert_turn(
    db: &impl ConnectionTrait,
    deliberation_id: i64,
    t: &Turn,
    now: DateTime<Utc>,
) -> Result<TurnRow, DbErr> {
    council_turn::ActiveModel {
        deliberation_id: Set(deliberation_id),
        persona: Set(t.persona.clone()),
        round: Set(i16::from(t.round)),
        choice: Set(t.option.clone()),
        confidence: Set(t.confidence),
        body: Set(serde_json::to_string(t).unwrap_or_else(|_| "{}".into())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(consensus: Option<&str>, options: &str) -> Deliberation {
        Deliberation {
            id: 42,
            question: "Ship it?".into(),
            project_id: None,
            facts: "{\"tests\":\"passing\"}".into(),
            options: options.into(),
            status: "done".into(),
            engine: "offline".into(),
            evidence: "[]".into(),
            consensus: consensus.map(str::to_owned),
            asked_by: None,
            created_at: Utc::now(),
            finished_at: None,
            outcome: None,
            outcome_note: None,
            outcome_at: None,
        }
    }

    #[test]
    fn an_undecodable_column_is_an_error_naming_the_deliberation() {
        let broken = row(Some("{\"option\":"), "[]");
        let err = consensus(&broken).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e
                .starts_with("council_deliberations row 42: column `consensus` cannot be read")),
            "{err:?}"
        );
        let err = options(&row(None, "{}")).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("council_deliberations row 42: column `options`")),
            "{err:?}"
        );
    }

    #[test]
    fn a_deliberation_still_running_has_no_consensus_and_its_columns_read_back() {
        let running = row(None, "[{\"id\":\"proceed\",\"label\":\"Proceed\"}]");
        assert_eq!(consensus(&running), Ok(None));
        assert_eq!(options(&running).map(|o| o.len()), Ok(1));
        assert_eq!(
            facts(&running).ok().and_then(|f| f.get("tests").cloned()),
            Some(Value::from("passing"))
        );
        assert_eq!(evidence(&running).map(|e| e.len()), Ok(0));
    }

    #[test]
    fn an_unreadable_turn_names_the_turns_table() {
        let t = TurnRow {
            id: 9,
            deliberation_id: 42,
            persona: "guardian".into(),
            round: 1,
            choice: None,
            confidence: 0.5,
            body: "not json".into(),
            created_at: Utc::now(),
        };
        let err = turn(&t).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("council_turns row 9: column `body`")),
            "{err:?}"
        );
    }
}
