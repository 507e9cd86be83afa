//! Reading projects: the filtered, sorted list with keyset paging, one project, and facet
//! counts.

use super::curation::parse_tag;
use crate::error::AppError;
use crate::models::catalog::{ProjectFacets, ProjectInfo, ProjectQuery, ProjectSort, Stack};
use crate::models::page::{Page, PageRequest};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::catalog::pages::PageKey;
use crate::server::catalog::repo;
use crate::server::error::ServerResult;
use crate::server::paging::{into_page, page_limit, parse_cursor};
use crate::server::state::AppState;
use std::sync::Arc;

/// A page of projects, in the order asked for. Repeated requests are answered from the pages
/// this instance keeps while the catalog's version (read first, one indexed row) stays the same.
pub async fn list_projects(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<Page<ProjectInfo>> {
    caller.authorize(Operation::ReadCatalog)?;
    let limit = page_limit(&PageRequest {
        cursor: None,
        limit: query.limit,
    })?;
    let filter = filter_from(&query)?;
    let sort = sort_from(&query)?;
    let after = parse_cursor(query.cursor.as_deref())?;
    let key = PageKey {
        version: repo::projects::version(&state.db).await?,
        filter,
        sort,
        after,
        limit,
    };
    if let Some(page) = state.project_pages.get(&key) {
        return Ok(Page::clone(&page));
    }
    if let Some(id) = after {
        if repo::projects::find(&state.db, id).await?.is_none() {
            return Err(AppError::unprocessable(
                "cursor",
                "points at a project that no longer exists",
            )
            .into());
        }
    }
    let rows =
        repo::projects::page(&state.db, &key.filter, sort, after, u64::from(limit) + 1).await?;
    // Only the rows of this page are read: one beyond it that cannot be fails its own page.
    let page = into_page(rows, limit, |r| r.id, |r| r);
    let page = Page {
        items: page
            .items
            .into_iter()
            .map(ProjectInfo::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    };
    state.project_pages.insert(key, Arc::new(page.clone()));
    Ok(page)
}

/// One project.
pub async fn get_project(state: &AppState, caller: &Caller, id: i64) -> ServerResult<ProjectInfo> {
    caller.authorize(Operation::ReadCatalog)?;
    let p = repo::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(ProjectInfo::try_from(p)?)
}

/// Builds the repository filter from a query, validating each field.
pub fn filter_from(query: &ProjectQuery) -> Result<repo::projects::Filter, AppError> {
    let stack = match query
        .stack
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(Stack::parse(s).map_err(|m| AppError::validation("stack", m))?),
        None => None,
    };
    let search = query.search.clone().unwrap_or_default();
    if search.chars().count() > 200 {
        return Err(AppError::validation(
            "search",
            "must be at most 200 characters",
        ));
    }
    let tag = match query
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(t) => {
            Some(parse_tag(t).map_err(|_| AppError::validation("tag", "is not a valid tag"))?)
        }
        None => None,
    };
    let git = match query
        .git
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(g) if ["dirty", "clean", "ahead", "behind", "none"].contains(&g) => Some(g.to_owned()),
        Some(_) => {
            return Err(AppError::validation(
                "git",
                "must be dirty, clean, ahead, behind or none",
            ))
        }
        None => None,
    };
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) if s == "present" || s == "missing" => Some(s.to_owned()),
        Some(_) => return Err(AppError::validation("status", "must be present or missing")),
        None => None,
    };
    Ok(repo::projects::Filter {
        words: search
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        stack,
        workspace_id: query.workspace_id,
        tag,
        favorite: query.favorite,
        archived: query.archived.unwrap_or(false),
        git,
        status,
    })
}

/// The list order a query asks for.
pub fn sort_from(query: &ProjectQuery) -> Result<ProjectSort, AppError> {
    ProjectSort::parse(query.sort.as_deref().unwrap_or_default())
        .map_err(|m| AppError::validation("sort", m))
}

/// Counts per stack, tag and state over the projects matching the query (its own stack and tag
/// filters are ignored so the sidebar shows what choosing another would give); kept, like pages,
/// under the catalog's version.
pub async fn project_facets(
    state: &AppState,
    caller: &Caller,
    query: ProjectQuery,
) -> ServerResult<ProjectFacets> {
    caller.authorize(Operation::ReadCatalog)?;
    let mut filter = filter_from(&query)?;
    filter.stack = None;
    filter.tag = None;
    let key = (repo::projects::version(&state.db).await?, filter);
    if let Some(kept) = state.project_pages.facets(&key) {
        return Ok(ProjectFacets::clone(&kept));
    }
    let rows = repo::projects::facet_rows(&state.db, &key.1).await?;
    let mut f = ProjectFacets::default();
    for (id, stacks, tags, favorite, dirty, behind, status) in rows {
        f.total += 1;
        for s in repo::projects::parse_stacks(id, &stacks)? {
            *f.stacks.entry(s.as_str().to_owned()).or_default() += 1;
        }
        for t in repo::projects::parse_tags(id, &tags)? {
            *f.tags.entry(t).or_default() += 1;
        }
        f.favorites += u32::from(favorite);
        f.dirty += u32::from(dirty == Some(true));
        f.behind += u32::from(behind.is_some_and(|b| b > 0));
        f.missing += u32::from(status == "missing");
    }
    state.project_pages.keep_facets(key, Arc::new(f.clone()));
    Ok(f)
}
