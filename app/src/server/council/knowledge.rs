//! The knowledge-graph API: views around a project or decision, paths, and the feeds from
//! the catalog and the runtime.

use super::deliberations::bad;
use crate::error::AppError;
use crate::models::Operation;
use crate::server::bus::DomainEvent;
use crate::server::caller::Caller;
use crate::server::council::graph;
use crate::server::council::repo;
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use chrono::Utc;

/// A knowledge-graph neighbourhood around a project (its catalog facts synced first) or a
/// decision, as known now or at a given time.
pub async fn graph_view(
    state: &AppState,
    caller: &Caller,
    req: crate::models::council::GraphRequest,
) -> ServerResult<crate::models::council::GraphView> {
    use crate::models::council::{GraphEdge, GraphNode, GraphView};
    caller.authorize(Operation::ReadCouncil)?;
    let depth = req.depth.unwrap_or(2);
    if !(1..=3).contains(&depth) {
        return Err(bad("depth", "must be 1, 2 or 3").into());
    }
    let now = Utc::now();
    let start = match (req.project_id, req.deliberation_id) {
        (Some(pid), None) => {
            let p = crate::server::catalog::find_project(&state.db, pid)
                .await?
                .ok_or_else(|| AppError::not_found("project"))?;
            graph::sync_project(&state.db, &p, now).await?
        }
        (None, Some(did)) => {
            let d = repo::deliberations::find(&state.db, did)
                .await?
                .ok_or_else(|| AppError::not_found("deliberation"))?;
            graph::node(&state.db, "decision", &did.to_string(), &d.question, now).await?
        }
        _ => {
            return Err(AppError::unprocessable(
                "project_id",
                "name a project_id or a deliberation_id (one of them)",
            )
            .into())
        }
    };
    let n = graph::neighbours(&state.db, start.id, depth, req.at).await?;
    Ok(GraphView {
        nodes: n
            .nodes
            .into_iter()
            .map(|(m, d)| GraphNode {
                id: m.id,
                kind: m.kind,
                key: m.key,
                label: m.label,
                distance: d,
            })
            .collect(),
        edges: n
            .edges
            .into_iter()
            .map(|e| GraphEdge {
                src: e.src,
                dst: e.dst,
                kind: e.kind,
                weight: e.weight,
                valid_from: e.valid_from,
                valid_to: e.valid_to,
            })
            .collect(),
    })
}

/// Brings the knowledge graph in line with the catalog for these projects (uses, depends_on).
/// A failure is logged: the graph catches up on the next sync.
pub async fn sync_projects(state: &AppState, ids: &[i64]) {
    let now = Utc::now();
    for id in ids {
        let result = async {
            if let Some(p) = crate::server::catalog::find_project(&state.db, *id).await? {
                graph::sync_project(&state.db, &p, now).await?;
            }
            Ok::<(), crate::server::ServerError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(project.id = id, error = %e, "could not update the knowledge graph");
        }
    }
}

/// Keeps the knowledge graph in step with the catalog and the runtime: the `council.graph_feed`
/// job reacts to their domain events until shutdown.
pub fn follow(state: &AppState) {
    let events = state.bus.subscribe_domain();
    let shutdown = state.jobs.shutdown_signal();
    let st = state.clone();
    state.jobs.spawn("council.graph_feed", async move {
        crate::server::bus::follow("council.graph_feed", events, shutdown, |event| {
            let st = st.clone();
            async move { react(&st, &event).await }
        })
        .await;
    });
}

async fn react(state: &AppState, event: &DomainEvent) {
    match event {
        DomainEvent::ProjectsChanged { ids } => sync_projects(state, ids).await,
        DomainEvent::RunFailed {
            project_id,
            project_name,
            service_id,
            service_name,
            run_id,
            reason,
        } => {
            record_incident(
                state,
                (*project_id, project_name),
                (*service_id, service_name),
                &format!("run-{run_id}"),
                &format!("{service_name} {reason}"),
            )
            .await
        }
    }
}

/// Links a runtime incident (a failed run, a crash loop) into the knowledge graph: the service
/// is `part_of` its project, the incident `affected` the service. Logged, never fatal.
pub async fn record_incident(
    state: &AppState,
    project: (i64, &str),
    service: (i64, &str),
    key: &str,
    label: &str,
) {
    let now = Utc::now();
    let result = async {
        let p = graph::node(&state.db, "project", &project.0.to_string(), project.1, now).await?;
        let s = graph::node(&state.db, "service", &service.0.to_string(), service.1, now).await?;
        graph::assert_edge(&state.db, s.id, p.id, "part_of", 1.0, "runtime", now).await?;
        let i = graph::node(&state.db, "incident", key, label, now).await?;
        graph::assert_edge(&state.db, i.id, s.id, "affected", 1.0, "runtime", now).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(service.id = service.0, error = %e, "could not record the incident in the knowledge graph");
    }
}

/// The shortest path between two projects in the knowledge graph (as known now), as nodes.
pub async fn graph_path(
    state: &AppState,
    caller: &Caller,
    req: crate::models::council::PathRequest,
) -> ServerResult<Vec<crate::models::council::GraphNode>> {
    caller.authorize(Operation::ReadCouncil)?;
    let now = Utc::now();
    let mut ends = Vec::new();
    for (field, id) in [
        ("from_project_id", req.from_project_id),
        ("to_project_id", req.to_project_id),
    ] {
        let p = crate::server::catalog::find_project(&state.db, id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("project {id} ({field})")))?;
        ends.push(graph::sync_project(&state.db, &p, now).await?);
    }
    let Some(path) = graph::shortest_path(&state.db, ends[0].id, ends[1].id, 6).await? else {
        return Ok(Vec::new());
    };
    let nodes = repo::graph::nodes(&state.db, path.clone()).await?;
    Ok(path
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            nodes
                .iter()
                .find(|n| n.id == *id)
                .map(|n| crate::models::council::GraphNode {
                    id: n.id,
                    kind: n.kind.clone(),
                    key: n.key.clone(),
                    label: n.label.clone(),
                    distance: u32::try_from(i).unwrap_or(u32::MAX),
                })
        })
        .collect())
}
