//! The knowledge graph: nodes unique by (kind, key) and typed, weighted edges with validity
//! intervals. A fact that stops being true is closed (`valid_to`), never deleted, so "what did
//! we know then" stays answerable. Fed deterministically from the catalog and from decisions.

use crate::server::catalog::Project;
use crate::server::council::repo::graph::{self as repo, Edge, Node};
use crate::server::error::ServerResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::{HashMap, HashSet};

/// The node of (kind, key), created with `label` when new.
pub async fn node(
    db: &impl ConnectionTrait,
    kind: &str,
    key: &str,
    label: &str,
    now: DateTime<Utc>,
) -> Result<Node, DbErr> {
    let label: String = label.chars().take(300).collect();
    repo::upsert_node(db, kind, key, &label, now).await
}

/// Asserts an edge: keeps the open one of the same (src, kind, dst), or opens one.
pub async fn assert_edge(
    db: &impl ConnectionTrait,
    src: i64,
    dst: i64,
    kind: &str,
    weight: f64,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if repo::open_edge(db, src, dst, kind).await?.is_none() {
        repo::insert_edge(db, src, dst, kind, weight, source, now).await?;
    }
    Ok(())
}

/// Brings a project's part of the graph in line with the catalog: the project `uses` its stacks
/// and frameworks, and `depends_on` the projects it depends on. What no longer holds is closed.
/// Returns the project's node; a project whose stored facts cannot be read is a named error.
pub async fn sync_project(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
) -> ServerResult<Node> {
    let info = crate::server::catalog::project_info(p)?;
    let mut depends_on = Vec::new();
    for d in crate::server::catalog::dependencies_of(db, p.id).await? {
        if let Some(dp) = crate::server::catalog::find_project(db, d).await? {
            depends_on.push((dp.id, dp.name));
        }
    }
    let me = node(db, "project", &p.id.to_string(), &p.name, now).await?;
    let mut techs: Vec<String> = info.stacks.iter().map(|s| s.as_str().to_owned()).collect();
    techs.extend(info.frameworks);
    techs.sort();
    techs.dedup();
    let mut keep = Vec::new();
    for t in &techs {
        let n = node(db, "technology", t, t, now).await?;
        assert_edge(db, me.id, n.id, "uses", 1.0, "catalog", now).await?;
        keep.push(n.id);
    }
    repo::close_others(db, me.id, "uses", &keep, now).await?;
    let mut deps = Vec::new();
    for (id, name) in &depends_on {
        let n = node(db, "project", &id.to_string(), name, now).await?;
        assert_edge(db, me.id, n.id, "depends_on", 1.0, "catalog", now).await?;
        deps.push(n.id);
    }
    repo::close_others(db, me.id, "depends_on", &deps, now).await?;
    Ok(me)
}

/// A neighbourhood: nodes and the edges between them.
#[derive(Debug, Clone, Default)]
pub struct Neighbourhood {
    /// Nodes, the start first, with their distance.
    pub nodes: Vec<(Node, u32)>,
    /// Edges valid at the time asked.
    pub edges: Vec<Edge>,
}

/// Nodes within `depth` hops of `start` (edges in either direction) over edges valid now, or at
/// `at`. One query per hop.
pub async fn neighbours(
    db: &impl ConnectionTrait,
    start: i64,
    depth: u32,
    at: Option<DateTime<Utc>>,
) -> Result<Neighbourhood, DbErr> {
    let mut dist: HashMap<i64, u32> = HashMap::from([(start, 0)]);
    let mut frontier = vec![start];
    let mut edges: HashMap<i64, Edge> = HashMap::new();
    for hop in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let found = repo::edges_touching(db, &frontier, at).await?;
        let mut next = Vec::new();
        for e in found {
            for n in [e.src, e.dst] {
                if let std::collections::hash_map::Entry::Vacant(v) = dist.entry(n) {
                    v.insert(hop);
                    next.push(n);
                }
            }
            edges.insert(e.id, e);
        }
        frontier = next;
    }
    let nodes = repo::nodes(db, dist.keys().copied().collect()).await?;
    let mut nodes: Vec<(Node, u32)> = nodes
        .into_iter()
        .map(|n| {
            let d = dist.get(&n.id).copied().unwrap_or(0);
            (n, d)
        })
        .collect();
    nodes.sort_by_key(|(n, d)| (*d, n.id));
    let mut edges: Vec<Edge> = edges.into_values().collect();
    edges.sort_by_key(|e| e.id);
    Ok(Neighbourhood { nodes, edges })
}

/// The shortest path of node ids from `a` to `b` (either edge direction), within `max` hops.
pub async fn shortest_path(
    db: &impl ConnectionTrait,
    a: i64,
    b: i64,
    max: u32,
) -> Result<Option<Vec<i64>>, DbErr> {
    let mut parent: HashMap<i64, i64> = HashMap::new();
    let mut seen: HashSet<i64> = HashSet::from([a]);
    let mut frontier = vec![a];
    for _ in 0..max {
        if frontier.is_empty() || seen.contains(&b) {
            break;
        }
        let found = repo::open_edges_touching(db, &frontier).await?;
        let mut next = Vec::new();
        for from in &frontier {
            for e in found.iter().filter(|e| e.src == *from || e.dst == *from) {
                let to = if e.src == *from { e.dst } else { e.src };
                if seen.insert(to) {
                    parent.insert(to, *from);
                    next.push(to);
                }
            }
        }
        frontier = next;
    }
    if !seen.contains(&b) {
        return Ok(None);
    }
    let mut path = vec![b];
    let mut cur = b;
    while cur != a {
        match parent.get(&cur) {
            Some(p) => {
                cur = *p;
                path.push(cur);
            }
            None => return Ok(None),
        }
    }
    path.reverse();
    Ok(Some(path))
}

/// Up to `limit` projects related to a project: those it depends on or that depend on it
/// first, then those sharing the most technologies with it, with what relates them. Two or
/// three queries, however large the graph.
pub async fn related_projects(
    db: &impl ConnectionTrait,
    project_node: i64,
    limit: usize,
) -> Result<Vec<(Node, String)>, DbErr> {
    let mut related: Vec<(i64, String)> = repo::dependency_neighbours(db, project_node)
        .await?
        .into_iter()
        .filter(|id| *id != project_node)
        .map(|id| (id, "depends on or is depended on by it".to_owned()))
        .collect();
    related.dedup_by_key(|(id, _)| *id);
    related.truncate(limit);
    let room = limit - related.len();
    if room > 0 {
        // A few more than room: a node may be a dependency already, or not a project.
        for (id, shared) in repo::sharing_technology(db, project_node, room as u64 + 5).await? {
            if !related.iter().any(|(r, _)| *r == id) {
                related.push((id, format!("also uses {}", shared.join(", "))));
            }
        }
    }
    let nodes = repo::nodes(db, related.iter().map(|(id, _)| *id).collect()).await?;
    Ok(related
        .into_iter()
        .filter_map(|(id, why)| {
            let n = nodes.iter().find(|n| n.id == id && n.kind == "project")?;
            Some((n.clone(), why))
        })
        .take(limit)
        .collect())
}
