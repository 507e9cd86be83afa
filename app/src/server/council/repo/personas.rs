//! The stored personas.

use crate::server::council::entities::council_persona;
use crate::server::council::personas::Builtin;
use crate::server::stored::{self, Undecodable};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

/// A stored persona (its domains as JSON).
pub type Persona = council_persona::Model;

/// Its domains.
pub fn domains(m: &Persona) -> Result<Vec<String>, Undecodable> {
    stored::decode("council_personas", m.id, "domains", &m.domains)
}

fn domains_json(domains: &[impl serde::Serialize]) -> String {
    serde_json::to_string(domains).unwrap_or_else(|_| "[]".into())
}

/// Adds the built-in personas whose key is not taken (never overwrites one).
pub async fn seed(
    db: &impl ConnectionTrait,
    builtin: &[Builtin],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows = builtin.iter().map(|b| council_persona::ActiveModel {
        key: Set(b.key.to_owned()),
        name: Set(b.name.to_owned()),
        role: Set(b.role.to_owned()),
        domains: Set(domains_json(b.domains)),
        stance: Set(b.stance.to_owned()),
        technical: Set(b.technical),
        model: Set(None),
        builtin: Set(true),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    council_persona::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(council_persona::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Every persona, in the order added.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Persona>, DbErr> {
    council_persona::Entity::find()
        .order_by_asc(council_persona::Column::Id)
        .all(db)
        .await
}

/// The persona of a key.
pub async fn by_key(db: &impl ConnectionTrait, key: &str) -> Result<Option<Persona>, DbErr> {
    council_persona::Entity::find()
        .filter(council_persona::Column::Key.eq(key))
        .one(db)
        .await
}

/// What an admin sets on a persona.
#[derive(Debug, Clone)]
pub struct PersonaFields<'a> {
    /// Display name.
    pub name: &'a str,
    /// What it does.
    pub role: &'a str,
    /// Its domains.
    pub domains: &'a [String],
    /// Its stance.
    pub stance: &'a str,
    /// The model it uses, when not the default.
    pub model: Option<String>,
    /// Whether it is asked.
    pub enabled: bool,
}

/// Changes a persona.
pub async fn update(
    db: &impl ConnectionTrait,
    m: Persona,
    f: PersonaFields<'_>,
    now: DateTime<Utc>,
) -> Result<Persona, DbErr> {
    let mut a: council_persona::ActiveModel = m.into();
    a.name = Set(f.name.to_owned());
    a.role = Set(f.role.to_owned());
    a.domains = Set(domains_json(f.domains));
    a.stance = Set(f.stance.to_owned());
    a.model = Set(f.model);
    a.enabled = Set(f.enabled);
    a.updated_at = Set(now);
    a.update(db).await
}

/// Adds a persona under a new key (not built in, not technical).
pub async fn insert(
    db: &impl ConnectionTrait,
    key: &str,
    f: PersonaFields<'_>,
    now: DateTime<Utc>,
) -> Result<Persona, DbErr> {
    council_persona::ActiveModel {
        key: Set(key.to_owned()),
        name: Set(f.name.to_owned()),
        role: Set(f.role.to_owned()),
        domains: Set(domains_json(f.domains)),
        stance: Set(f.stance.to_owned()),
        technical: Set(false),
        model: Set(f.model),
        builtin: Set(false),
        enabled: Set(f.enabled),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persona_whose_domains_cannot_be_read_is_an_error_naming_it() {
        let now = Utc::now();
        let mut m = Persona {
            id: 3,
            key: "guardian".into(),
            name: "Guardian".into(),
            role: "Keeps data safe".into(),
            domains: "[\"backup\",\"risk\"]".into(),
            stance: "cautious".into(),
            technical: true,
            model: None,
            builtin: true,
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(
            domains(&m),
            Ok(vec!["backup".to_owned(), "risk".to_owned()])
        );
        m.domains = "backup, risk".into();
        let err = domains(&m).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("council_personas row 3: column `domains`")),
            "{err:?}"
        );
    }
}
