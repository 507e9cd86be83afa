//! Pages of the project list (and facet counts) an instance has answered, kept under the catalog
//! version they were read at (see the `add_catalog_version` migration: the database raises the
//! version in the same transaction as every change to a project, whoever makes it).
//!
//! A request reads the version first and then looks its page up under it. A page stored under
//! version `v` was queried after `v` was read, so it is at least as new as `v`; while the
//! version stays `v` nothing has changed since, on this instance or any other. Once the version
//! moves on, pages of older versions are never asked for again and age out. The query, the rows'
//! decoding and the JSON columns' parsing are thereby skipped for every repeated request (the
//! dashboard's list, its polling scripts, several people on the same view).

use super::repo::projects::Filter;
use crate::models::catalog::{ProjectFacets, ProjectInfo, ProjectSort};
use crate::models::page::Page;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::Arc;

/// How many projects all kept pages may hold together (a listed project is about 1 KB).
const CAPACITY_PROJECTS: u64 = 4_096;

/// How many facet counts are kept (each a few hundred bytes).
const CAPACITY_FACETS: usize = 256;

/// What a page was asked for with, and the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The catalog version read before the page's query.
    pub version: i64,
    /// The validated filters.
    pub filter: Filter,
    /// The order.
    pub sort: ProjectSort,
    /// The cursor: the project the page starts after.
    pub after: Option<i64>,
    /// The page's size.
    pub limit: u32,
}

/// A page's weight: its projects (and one for the page itself).
#[derive(Debug, Clone, Copy)]
struct ByProjects;

impl Weighter<PageKey, Arc<Page<ProjectInfo>>> for ByProjects {
    fn weight(&self, _key: &PageKey, page: &Arc<Page<ProjectInfo>>) -> u64 {
        page.items.len() as u64 + 1
    }
}

/// The pages this instance keeps; cheap to clone (one cache shared by every clone).
#[derive(Clone)]
pub struct ProjectPages {
    cache: Arc<Cache<PageKey, Arc<Page<ProjectInfo>>, ByProjects>>,
    facets: Arc<Cache<(i64, Filter), Arc<ProjectFacets>>>,
}

impl std::fmt::Debug for ProjectPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectPages")
            .field("pages", &self.cache.len())
            .field("projects", &self.cache.weight())
            .finish()
    }
}

impl Default for ProjectPages {
    fn default() -> Self {
        Self::new()
    }
}

impl ProjectPages {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            cache: Arc::new(Cache::with_weighter(
                (CAPACITY_PROJECTS / 25) as usize,
                CAPACITY_PROJECTS,
                ByProjects,
            )),
            facets: Arc::new(Cache::new(CAPACITY_FACETS)),
        }
    }

    /// The page kept for `key`, if any.
    pub fn get(&self, key: &PageKey) -> Option<Arc<Page<ProjectInfo>>> {
        self.cache.get(key)
    }

    /// Keeps `page` for `key`.
    pub fn insert(&self, key: PageKey, page: Arc<Page<ProjectInfo>>) {
        self.cache.insert(key, page);
    }

    /// The facet counts kept for (version, filter), if any.
    pub fn facets(&self, key: &(i64, Filter)) -> Option<Arc<ProjectFacets>> {
        self.facets.get(key)
    }

    /// Keeps facet counts for (version, filter).
    pub fn keep_facets(&self, key: (i64, Filter), facets: Arc<ProjectFacets>) {
        self.facets.insert(key, facets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(version: i64, after: Option<i64>) -> PageKey {
        PageKey {
            version,
            filter: Filter::default(),
            sort: ProjectSort::default(),
            after,
            limit: 50,
        }
    }

    fn page(n: usize) -> Arc<Page<ProjectInfo>> {
        Arc::new(Page {
            items: Vec::with_capacity(n),
            next_cursor: Some(format!("{n}")),
        })
    }

    #[test]
    fn a_page_is_found_only_under_its_own_version_and_query() {
        let pages = ProjectPages::new();
        pages.insert(key(7, None), page(3));
        assert_eq!(
            pages.get(&key(7, None)).and_then(|p| p.next_cursor.clone()),
            Some("3".into())
        );
        assert!(pages.get(&key(8, None)).is_none(), "a newer version misses");
        assert!(
            pages.get(&key(7, Some(1))).is_none(),
            "another cursor misses"
        );
        let mut other = key(7, None);
        other.filter.words = vec!["api".into()];
        assert!(pages.get(&other).is_none(), "another filter misses");
    }

    #[test]
    fn old_pages_age_out_within_the_capacity() {
        let pages = ProjectPages::new();
        for v in 0..10_000 {
            pages.insert(key(v, None), page(0));
        }
        assert!(pages.cache.weight() <= CAPACITY_PROJECTS);
        assert!(pages.get(&key(9_999, None)).is_some(), "the newest is kept");
    }
}
