//! Projects.

pub use super::columns::{format_stacks, git, parse_stacks, parse_tags, stacks, tags, Overrides};

use super::columns::{json, kept_or_reset};
use crate::models::catalog::{
    Component, GitState, ProjectInfo, ProjectSort, ProposedCommand, ServiceSpec, Stack,
};
use crate::server::catalog::entities::project;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

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
    /// Services from `optimus.toml`.
    pub services: Vec<ServiceSpec>,
    /// Tags from `optimus.toml`.
    pub descriptor_tags: Option<Vec<String>>,
    /// Owner from `optimus.toml`.
    pub descriptor_owner: Option<String>,
    /// Lifecycle from `optimus.toml`.
    pub descriptor_lifecycle: Option<String>,
}

/// Inserts or updates a project by path; returns it and whether it was new.
pub async fn upsert(
    db: &impl ConnectionTrait,
    mut s: Scanned,
    now: DateTime<Utc>,
) -> Result<(project::Model, bool), DbErr> {
    let existing = project::Entity::find()
        .filter(project::Column::Path.eq(&s.path))
        .one(db)
        .await?;
    // What a user set is kept; a column of it that cannot be read is reset, and the project's
    // errors say so, so that a scan repairs the row (the columns detection fills are rewritten).
    let mut reset = Vec::new();
    let overrides = existing
        .as_ref()
        .and_then(|e| kept_or_reset(Overrides::of(e), &mut s.errors, &mut reset))
        .unwrap_or_default();
    let kept_tags = existing
        .as_ref()
        .and_then(|e| kept_or_reset(tags(e), &mut s.errors, &mut reset));
    let fills = |field: &str| !overrides.curated.iter().any(|c| c == field);
    let descriptor_tags = s.descriptor_tags.clone().filter(|_| fills("tags"));
    let tags: Vec<String> = descriptor_tags.clone().or(kept_tags).unwrap_or_default();
    if let Some(name) = overrides.name.clone() {
        s.name = name;
    }
    if overrides.description.is_some() {
        s.description = overrides.description.clone();
    }
    let search_text = search_text(&s.name, &s.path, s.description.as_deref(), &tags);
    let mut model = project::ActiveModel {
        workspace_id: Set(s.workspace_id),
        services: Set(json(&s.services)),
        git_dirty: Set(s.git.as_ref().map(|g| g.dirty)),
        git_ahead: Set(s
            .git
            .as_ref()
            .map(|g| i32::try_from(g.ahead).unwrap_or(i32::MAX))),
        git_behind: Set(s
            .git
            .as_ref()
            .map(|g| i32::try_from(g.behind).unwrap_or(i32::MAX))),
        last_commit_at: Set(s
            .git
            .as_ref()
            .and_then(|g| g.last_commit.as_ref().map(|c| c.time))),
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
    if descriptor_tags.is_some() || reset.contains(&"tags") {
        model.tags = Set(json(&tags));
    }
    if reset.contains(&"overrides") {
        model.overrides = Set(json(&overrides));
    }
    if let Some(o) = s.descriptor_owner.clone().filter(|_| fills("owner")) {
        model.owner = Set(Some(o));
    }
    if let Some(l) = s
        .descriptor_lifecycle
        .clone()
        .filter(|_| fills("lifecycle"))
    {
        model.lifecycle = Set(Some(l));
    }
    match existing {
        Some(old) => {
            model.id = Set(old.id);
            model.created_at = Set(old.created_at);
            Ok((model.update(db).await?, false))
        }
        None => {
            model.created_at = Set(now);
            if model.tags.is_not_set() {
                model.tags = Set("[]".into());
            }
            if model.owner.is_not_set() {
                model.owner = Set(None);
            }
            if model.lifecycle.is_not_set() {
                model.lifecycle = Set(None);
            }
            model.favorite = Set(false);
            model.archived = Set(false);
            model.overrides = Set("{}".into());
            Ok((model.insert(db).await?, true))
        }
    }
}

/// The lower-case text the search matches against.
pub fn search_text(name: &str, path: &str, description: Option<&str>, tags: &[String]) -> String {
    format!(
        "{name} {path} {} {}",
        description.unwrap_or_default(),
        tags.join(" ")
    )
    .to_lowercase()
}

/// What a user changes on a project.
#[derive(Debug, Clone, Default)]
pub struct Curation {
    /// New overrides (name, description, commands).
    pub overrides: Option<Overrides>,
    /// Effective name after the change.
    pub name: Option<String>,
    /// Effective description after the change.
    pub description: Option<Option<String>>,
    /// Tags after the change (the current ones when they do not change).
    pub tags: Vec<String>,
    /// Owner.
    pub owner: Option<Option<String>>,
    /// Lifecycle.
    pub lifecycle: Option<Option<String>>,
    /// Forget the fingerprint so the next scan re-detects (after an override is cleared).
    pub rescan: bool,
}

/// Applies a curation and refreshes the search text.
pub async fn curate(
    db: &impl ConnectionTrait,
    current: project::Model,
    c: Curation,
) -> Result<project::Model, DbErr> {
    let name = c.name.clone().unwrap_or_else(|| current.name.clone());
    let description = c
        .description
        .clone()
        .unwrap_or_else(|| current.description.clone());
    let tags = c.tags;
    let mut model: project::ActiveModel = current.clone().into();
    model.search_text = Set(search_text(
        &name,
        &current.path,
        description.as_deref(),
        &tags,
    ));
    model.name = Set(name);
    model.description = Set(description);
    model.tags = Set(json(&tags));
    if let Some(o) = c.overrides {
        model.overrides = Set(json(&o));
    }
    if let Some(owner) = c.owner {
        model.owner = Set(owner);
    }
    if let Some(lifecycle) = c.lifecycle {
        model.lifecycle = Set(lifecycle);
    }
    if c.rescan {
        model.fingerprint = Set(String::new());
    }
    model.update(db).await
}

/// Sets the favorite flag.
pub async fn set_favorite(db: &impl ConnectionTrait, id: i64, value: bool) -> Result<(), DbErr> {
    project::Entity::update_many()
        .col_expr(project::Column::Favorite, Expr::value(value))
        .filter(project::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Sets the archived flag.
pub async fn set_archived(db: &impl ConnectionTrait, id: i64, value: bool) -> Result<(), DbErr> {
    project::Entity::update_many()
        .col_expr(project::Column::Archived, Expr::value(value))
        .filter(project::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes a catalog entry (never the files).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<u64, DbErr> {
    project::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// A project by path.
pub async fn find_by_path(
    db: &impl ConnectionTrait,
    path: &str,
) -> Result<Option<project::Model>, DbErr> {
    project::Entity::find()
        .filter(project::Column::Path.eq(path))
        .one(db)
        .await
}

/// A stored project as a rescan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// Its id.
    pub id: i64,
    /// Its folder.
    pub path: String,
    /// The fingerprint of its files when last examined.
    pub fingerprint: String,
    /// `present` or `missing`.
    pub status: String,
    /// Whether every stored column reads (a row that does not is examined again).
    pub readable: bool,
}

/// The projects of a workspace, as a rescan sees them.
pub async fn known(db: &impl ConnectionTrait, workspace_id: i64) -> Result<Vec<Known>, DbErr> {
    Ok(project::Entity::find()
        .filter(project::Column::WorkspaceId.eq(workspace_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| Known {
            readable: ProjectInfo::try_from(m.clone()).is_ok(),
            id: m.id,
            path: m.path,
            fingerprint: m.fingerprint,
            status: m.status,
        })
        .collect())
}

/// Marks projects present again, or missing, by id.
pub async fn set_status(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
    status: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
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

/// The names of the projects with these ids (those that exist), in one query.
pub async fn names(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    let rows: Vec<(i64, String)> = project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Name)
        .filter(project::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The catalog's version: raised by the database in the same transaction as every change to
/// `projects` (migration `add_catalog_version`), so pages read under one version are current
/// until it moves.
pub async fn version(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    db.query_one(Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM catalog_version WHERE id = 1",
    ))
    .await?
    .ok_or_else(|| DbErr::RecordNotFound("catalog_version".into()))?
    .try_get("", "version")
}

/// Filters for a page of projects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// Lower-case words that must all occur in the search text.
    pub words: Vec<String>,
    /// Only this stack.
    pub stack: Option<Stack>,
    /// Only this workspace.
    pub workspace_id: Option<i64>,
    /// Only this tag (already validated: no quotes or wildcards).
    pub tag: Option<String>,
    /// Favorites or not.
    pub favorite: Option<bool>,
    /// Archived (true) or active (false) projects.
    pub archived: bool,
    /// `dirty`, `clean`, `ahead`, `behind`, `none`.
    pub git: Option<String>,
    /// `present` or `missing`.
    pub status: Option<String>,
}

/// `column LIKE '%text%'` with `%`, `_` and `\` in `text` taken literally (a search for
/// `my_app` must not match `myXapp`).
fn contains(column: project::Column, text: &str) -> SimpleExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::col((project::Entity, column)).like(LikeExpr::new(pattern).escape('\\'))
}

impl Filter {
    fn condition(&self) -> Condition {
        let mut cond = Condition::all();
        for w in &self.words {
            cond = cond.add(contains(project::Column::SearchText, w));
        }
        if let Some(stack) = self.stack {
            cond = cond.add(contains(
                project::Column::Stacks,
                &format!(" {} ", stack.as_str()),
            ));
        }
        if let Some(ws) = self.workspace_id {
            cond = cond.add(project::Column::WorkspaceId.eq(ws));
        }
        if let Some(tag) = &self.tag {
            cond = cond.add(contains(project::Column::Tags, &format!("\"{tag}\"")));
        }
        if let Some(f) = self.favorite {
            cond = cond.add(project::Column::Favorite.eq(f));
        }
        cond = cond.add(project::Column::Archived.eq(self.archived));
        match self.git.as_deref() {
            Some("dirty") => cond = cond.add(project::Column::GitDirty.eq(true)),
            Some("clean") => cond = cond.add(project::Column::GitDirty.eq(false)),
            Some("ahead") => cond = cond.add(project::Column::GitAhead.gt(0)),
            Some("behind") => cond = cond.add(project::Column::GitBehind.gt(0)),
            Some("none") => cond = cond.add(project::Column::Git.is_null()),
            _ => {}
        }
        if let Some(status) = &self.status {
            cond = cond.add(project::Column::Status.eq(status.as_str()));
        }
        cond
    }
}

/// Id, stacks, tags, favorite, git dirty, git behind and status of a project.
pub type FacetRow = (i64, String, String, bool, Option<bool>, Option<i32>, String);

/// The columns facets are counted from, for every project matching `filter`.
pub async fn facet_rows(
    db: &impl ConnectionTrait,
    filter: &Filter,
) -> Result<Vec<FacetRow>, DbErr> {
    project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .column(project::Column::Stacks)
        .column(project::Column::Tags)
        .column(project::Column::Favorite)
        .column(project::Column::GitDirty)
        .column(project::Column::GitBehind)
        .column(project::Column::Status)
        .filter(filter.condition())
        .into_tuple()
        .all(db)
        .await
}

/// The ordering keys of a sort, most significant first; `id` always breaks ties.
fn sort_keys(sort: ProjectSort) -> Vec<(SimpleExpr, Order)> {
    let lower_name = || SimpleExpr::from(Func::lower(Expr::col(project::Column::Name)));
    let id = || (Expr::col(project::Column::Id).into(), Order::Asc);
    match sort {
        ProjectSort::Name => vec![(lower_name(), Order::Asc), id()],
        // Projects without commits share the epoch, so they come last and keep a stable order.
        ProjectSort::LastCommit => vec![
            (
                Func::coalesce([
                    Expr::col(project::Column::LastCommitAt).into(),
                    Expr::val(DateTime::<Utc>::UNIX_EPOCH).into(),
                ])
                .into(),
                Order::Desc,
            ),
            (lower_name(), Order::Asc),
            id(),
        ],
        ProjectSort::LastScanned => vec![
            (Expr::col(project::Column::ScannedAt).into(), Order::Desc),
            id(),
        ],
        // `missing` sorts before `present`.
        ProjectSort::Status => vec![
            (Expr::col(project::Column::Status).into(), Order::Asc),
            (lower_name(), Order::Asc),
            id(),
        ],
    }
}

/// Keyset condition: rows strictly after the row `after` in the order of `keys`. The cursor
/// row's keys are read by the database itself, so both sides are computed by the same functions.
fn after_row(keys: &[(SimpleExpr, Order)], after: i64) -> Condition {
    let key_of_cursor = |key: &SimpleExpr| {
        SimpleExpr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .expr(key.clone())
                    .from(project::Entity)
                    .and_where(Expr::col(project::Column::Id).eq(after))
                    .to_owned()
                    .into_sub_query_statement(),
            ),
        )
    };
    let mut any = Condition::any();
    for (i, (key, order)) in keys.iter().enumerate() {
        let mut all = Condition::all();
        for (earlier, _) in &keys[..i] {
            all = all.add(Expr::expr(earlier.clone()).eq(key_of_cursor(earlier)));
        }
        let past = match order {
            Order::Desc => Expr::expr(key.clone()).lt(key_of_cursor(key)),
            _ => Expr::expr(key.clone()).gt(key_of_cursor(key)),
        };
        any = any.add(all.add(past));
    }
    any
}

/// A page of projects in `sort` order, after the project `after` (a cursor).
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &Filter,
    sort: ProjectSort,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<project::Model>, DbErr> {
    let keys = sort_keys(sort);
    let mut cond = filter.condition();
    if let Some(id) = after {
        cond = cond.add(after_row(&keys, id));
    }
    let mut q = project::Entity::find().filter(cond);
    for (key, order) in keys {
        q = q.order_by(key, order);
    }
    q.limit(limit).all(db).await
}
