//! Dependencies between projects: set (no cycles) and read both ways.

use super::activity::note;
use crate::error::AppError;
use crate::models::catalog::{ProjectDependencies, ProjectRef, SetDependenciesRequest};
use crate::models::events::Event;
use crate::models::Operation;
use crate::server::audit;
use crate::server::bus::DomainEvent;
use crate::server::caller::Caller;
use crate::server::catalog::repo;
use crate::server::error::ServerResult;
use crate::server::state::AppState;
use std::collections::HashMap;

/// Whether adding `project → deps` to `edges` would close a cycle.
pub fn creates_cycle(edges: &[(i64, i64)], project: i64, deps: &[i64]) -> bool {
    let mut graph: HashMap<i64, Vec<i64>> = HashMap::new();
    for (from, to) in edges.iter().filter(|(from, _)| *from != project) {
        graph.entry(*from).or_default().push(*to);
    }
    graph.insert(project, deps.to_vec());
    // Depth-first search from `project` for a path back to it.
    let mut stack: Vec<i64> = deps.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if n == project {
            return true;
        }
        if seen.insert(n) {
            if let Some(next) = graph.get(&n) {
                stack.extend(next.iter().copied());
            }
        }
    }
    false
}

async fn refs(state: &AppState, ids: Vec<i64>) -> ServerResult<Vec<ProjectRef>> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(p) = repo::projects::find(&state.db, id).await? {
            out.push(ProjectRef {
                id: p.id,
                name: p.name,
            });
        }
    }
    out.sort_by_key(|r| r.name.to_lowercase());
    Ok(out)
}

/// A project's dependencies both ways.
pub async fn dependencies(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ServerResult<ProjectDependencies> {
    caller.authorize(Operation::ReadCatalog)?;
    repo::projects::find(&state.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    Ok(ProjectDependencies {
        depends_on: refs(state, repo::dependencies::of(&state.db, id).await?).await?,
        dependents: refs(state, repo::dependencies::dependents(&state.db, id).await?).await?,
    })
}

/// Replaces what a project depends on, refusing unknown projects, itself and cycles.
pub async fn set_dependencies(
    state: &AppState,
    caller: &Caller,
    input: SetDependenciesRequest,
) -> ServerResult<ProjectDependencies> {
    caller.authorize(Operation::EditProjects)?;
    let project = repo::projects::find(&state.db, input.id)
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let mut deps = input.depends_on.clone();
    deps.sort_unstable();
    deps.dedup();
    if deps.len() > 50 {
        return Err(AppError::validation("depends_on", "at most 50 dependencies").into());
    }
    if deps.contains(&project.id) {
        return Err(
            AppError::unprocessable("depends_on", "a project cannot depend on itself").into(),
        );
    }
    for d in &deps {
        if repo::projects::find(&state.db, *d).await?.is_none() {
            return Err(AppError::unprocessable(
                "depends_on",
                format!("project {d} does not exist"),
            )
            .into());
        }
    }
    let txn = crate::server::db::begin(&state.db).await?;
    let edges = repo::dependencies::all(&txn).await?;
    if creates_cycle(&edges, project.id, &deps) {
        return Err(
            AppError::unprocessable("depends_on", "this would make a dependency cycle").into(),
        );
    }
    repo::dependencies::replace(&txn, project.id, &deps).await?;
    let names = refs(state, deps.clone())
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect::<Vec<_>>();
    let summary = if names.is_empty() {
        "No longer depends on other projects".to_owned()
    } else {
        format!("Depends on {}", names.join(", "))
    };
    note(&txn, project.id, "dependencies", summary, Some(caller)).await?;
    audit::commit(
        txn,
        &state.bus,
        caller.into(),
        "projects.set_dependencies",
        &format!("project:{}", project.path),
    )
    .await?;
    state
        .bus
        .publish(Event::ProjectChanged {
            id: project.id,
            name: project.name.clone(),
            change: "updated".into(),
        })
        .await;
    state.bus.emit(DomainEvent::ProjectsChanged {
        ids: vec![project.id],
    });
    dependencies(state, caller, project.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_through_other_projects() {
        let edges = [(1, 2), (2, 3)];
        assert!(creates_cycle(&edges, 3, &[1]));
        assert!(!creates_cycle(&edges, 3, &[4]));
        assert!(
            !creates_cycle(&edges, 1, &[3]),
            "replacing 1's own edges is not a cycle"
        );
    }
}
