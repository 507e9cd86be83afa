//! Projects.

use crate::models::catalog::{Component, GitState, ProjectInfo, ProposedCommand, Stack};
use crate::server::entities::project;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// Stacks as stored: ` rust node ` (delimited on both sides for LIKE matching).
pub fn format_stacks(stacks: &[Stack]) -> String {
    let mut s = String::from(" ");
    for k in stacks {
        s.push_str(k.as_str());
        s.push(' ');
    }
    s
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn from_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

impl From<project::Model> for ProjectInfo {
    fn from(m: project::Model) -> Self {
        ProjectInfo {
            id: m.id,
            workspace_id: m.workspace_id,
            stacks: m.stacks.split_whitespace().filter_map(|s| Stack::parse(s).ok()).collect(),
            frameworks: from_json(&m.frameworks),
            commands: from_json::<Vec<ProposedCommand>>(&m.commands),
            port: m.port.and_then(|p| u16::try_from(p).ok()),
            components: from_json::<Vec<Component>>(&m.components),
            git: m.git.as_deref().and_then(|g| serde_json::from_str::<GitState>(g).ok()),
            errors: from_json(&m.errors),
            name: m.name,
            path: m.path,
            description: m.description,
            status: m.status,
            scanned_at: m.scanned_at,
        }
    }
}

/// What a scan learned about one project.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// Workspace.
    pub workspace_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Absolute path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Stacks.
    pub stacks: Vec<Stack>,
    /// Frameworks.
    pub frameworks: Vec<String>,
    /// Commands.
    pub commands: Vec<ProposedCommand>,
    /// Port.
    pub port: Option<u16>,
    /// Components.
    pub components: Vec<Component>,
    /// Git state.
    pub git: Option<GitState>,
    /// Errors.
    pub errors: Vec<String>,
    /// Fingerprint.
    pub fingerprint: String,
}

/// Inserts or updates a project by path; returns it and whether it was new.
pub async fn upsert(db: &impl ConnectionTrait, s: Scanned, now: DateTime<Utc>) -> Result<(project::Model, bool), DbErr> {
    let search_text = format!("{} {} {}", s.name, s.path, s.description.as_deref().unwrap_or_default()).to_lowercase();
    let existing = project::Entity::find().filter(project::Column::Path.eq(&s.path)).one(db).await?;
    let mut model = project::ActiveModel {
        workspace_id: Set(s.workspace_id),
        name: Set(s.name),
        path: Set(s.path),
        description: Set(s.description),
        stacks: Set(format_stacks(&s.stacks)),
        frameworks: Set(json(&s.frameworks)),
        commands: Set(json(&s.commands)),
        port: Set(s.port.map(i32::from)),
        components: Set(json(&s.components)),
        git: Set(s.git.as_ref().map(json)),
        status: Set("present".into()),
        errors: Set(json(&s.errors)),
        fingerprint: Set(s.fingerprint),
        search_text: Set(search_text),
        scanned_at: Set(now),
        ..Default::default()
    };
    match existing {
        Some(old) => {
            model.id = Set(old.id);
            model.created_at = Set(old.created_at);
            Ok((model.update(db).await?, false))
        }
        None => {
            model.created_at = Set(now);
            Ok((model.insert(db).await?, true))
        }
    }
}

/// Path → (id, fingerprint, status) of a workspace's projects.
pub async fn fingerprints(db: &impl ConnectionTrait, workspace_id: i64) -> Result<Vec<(i64, String, String, String)>, DbErr> {
    project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Path)
        .column(project::Column::Fingerprint)
        .column(project::Column::Status)
        .filter(project::Column::WorkspaceId.eq(workspace_id))
        .into_tuple()
        .all(db)
        .await
}

/// Marks projects present again, or missing, by id.
pub async fn set_status(db: &impl ConnectionTrait, ids: Vec<i64>, status: &str, now: DateTime<Utc>) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    project::Entity::update_many()
        .col_expr(project::Column::Status, Expr::value(status))
        .col_expr(project::Column::ScannedAt, Expr::value(now))
        .filter(project::Column::Id.is_in(ids))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// A project by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<project::Model>, DbErr> {
    project::Entity::find_by_id(id).one(db).await
}

/// Filters for a page of projects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lower-case words that must all occur in the search text.
    pub words: Vec<String>,
    /// Only this stack.
    pub stack: Option<Stack>,
    /// Only this workspace.
    pub workspace_id: Option<i64>,
}

/// Projects by (lower-case name, id), after the cursor position.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &Filter,
    after: Option<(String, i64)>,
    limit: u64,
) -> Result<Vec<project::Model>, DbErr> {
    let mut cond = Condition::all();
    for w in &filter.words {
        cond = cond.add(project::Column::SearchText.contains(w));
    }
    if let Some(stack) = filter.stack {
        cond = cond.add(project::Column::Stacks.contains(format!(" {} ", stack.as_str())));
    }
    if let Some(ws) = filter.workspace_id {
        cond = cond.add(project::Column::WorkspaceId.eq(ws));
    }
    let lower_name = Func::lower(Expr::col(project::Column::Name));
    if let Some((name, id)) = after {
        cond = cond.add(
            Condition::any()
                .add(Expr::expr(lower_name.clone()).gt(name.clone()))
                .add(Condition::all().add(Expr::expr(lower_name.clone()).eq(name)).add(project::Column::Id.gt(id))),
        );
    }
    project::Entity::find()
        .filter(cond)
        .order_by_asc(Expr::expr(lower_name))
        .order_by_asc(project::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
