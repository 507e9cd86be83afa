//! The read-only tools: what the database knows about a project (catalog facts, git state,
//! services and recent crashes, resource trend, timeline and audit activity, backups), what the
//! council remembers, and the project's knowledge-graph neighbours — gathered into a
//! [`Situation`].

use super::evidence::{GitFacts, ProjectFacts, Recalled, ResourceFacts, ServiceFacts, Situation};
use super::{graph, memory};
use crate::models::catalog::GitState;
use crate::models::runtime::ServiceState;
use crate::server::entities::{
    audit_event, council_deliberation, project_activity, project_dependency, service_run,
};
use crate::server::repos;
use crate::server::runtime::sampler;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use std::collections::BTreeMap;

/// Mean of a slice (0 when empty).
fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Everything about project `id` (and the question) the tools can read.
pub async fn situation(
    db: &impl ConnectionTrait,
    question: &str,
    project_id: Option<i64>,
    facts: &BTreeMap<String, Value>,
    topics: &[&str],
    now: DateTime<Utc>,
) -> Result<Situation, DbErr> {
    let mut s = Situation {
        facts: facts.clone(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        ..Default::default()
    };
    if let Some(pid) = project_id {
        if let Some(p) = repos::projects::find(db, pid).await? {
            let dependents = project_dependency::Entity::find()
                .filter(project_dependency::Column::DependsOnId.eq(pid))
                .count(db)
                .await?;
            s.project = Some(ProjectFacts {
                name: p.name.clone(),
                stacks: p.stacks.split_whitespace().map(str::to_owned).collect(),
                lifecycle: p.lifecycle.clone(),
                missing: p.status == "missing",
                dependents: u32::try_from(dependents).unwrap_or(u32::MAX),
            });
            if let Some(g) = p
                .git
                .as_deref()
                .and_then(|g| serde_json::from_str::<GitState>(g).ok())
            {
                s.git = Some(GitFacts {
                    dirty: g.dirty,
                    ahead: g.ahead,
                    behind: g.behind,
                    days_since_commit: p.last_commit_at.map(|t| (now - t).num_days()),
                });
            }
            let services = repos::services::of_project(db, pid).await?;
            if !services.is_empty() {
                let ids: Vec<i64> = services.iter().map(|x| x.id).collect();
                let runs = service_run::Entity::find()
                    .filter(service_run::Column::ServiceId.is_in(ids.clone()))
                    .filter(service_run::Column::EndedAt.gte(now - TimeDelta::hours(24)))
                    .all(db)
                    .await?;
                let crashes = runs
                    .iter()
                    .filter(|r| {
                        r.exit_code != Some(0)
                            && !r
                                .reason
                                .as_deref()
                                .is_some_and(|x| x.starts_with("stopped"))
                    })
                    .count();
                let state = |m: &crate::server::entities::service::Model| repos::services::state(m);
                s.services = Some(ServiceFacts {
                    total: u32::try_from(services.len()).unwrap_or(u32::MAX),
                    ready: u32::try_from(
                        services
                            .iter()
                            .filter(|m| state(m) == ServiceState::Ready)
                            .count(),
                    )
                    .unwrap_or(0),
                    crash_loop: services
                        .iter()
                        .filter(|m| state(m) == ServiceState::CrashLoop)
                        .map(|m| m.name.clone())
                        .collect(),
                    failing: services
                        .iter()
                        .filter(|m| {
                            matches!(
                                state(m),
                                ServiceState::Failed
                                    | ServiceState::Unhealthy
                                    | ServiceState::Backoff
                            )
                        })
                        .map(|m| m.name.clone())
                        .collect(),
                    crashes_24h: u32::try_from(crashes).unwrap_or(u32::MAX),
                });
                let samples = repos::samples::services_since(
                    db,
                    ids,
                    sampler::RAW,
                    now - TimeDelta::hours(1),
                )
                .await?;
                if samples.len() >= 4 {
                    // Per timestamp, the project's total memory; then first vs last quarter.
                    let mut by_time: BTreeMap<DateTime<Utc>, (f64, f64)> = BTreeMap::new();
                    for x in &samples {
                        let e = by_time.entry(x.at).or_default();
                        e.0 += x.rss_bytes as f64 / 1_048_576.0;
                        e.1 += x.cpu_percent;
                    }
                    let mem: Vec<f64> = by_time.values().map(|v| v.0).collect();
                    let cpu: Vec<f64> = by_time.values().map(|v| v.1).collect();
                    let q = (mem.len() / 4).max(1);
                    let first = mean(&mem[..q]);
                    let last = mean(&mem[mem.len() - q..]);
                    s.resources = Some(ResourceFacts {
                        memory_mb: mem.last().copied().unwrap_or(0.0),
                        memory_change_pct: if first > 0.0 {
                            (last - first) / first * 100.0
                        } else {
                            0.0
                        },
                        cpu_mean: mean(&cpu),
                    });
                }
            }
            let week = now - TimeDelta::days(7);
            s.activity_7d = Some(
                u32::try_from(
                    project_activity::Entity::find()
                        .filter(project_activity::Column::ProjectId.eq(pid))
                        .filter(project_activity::Column::At.gte(week))
                        .count(db)
                        .await?,
                )
                .unwrap_or(u32::MAX),
            );
            s.audit_7d = Some(
                u32::try_from(
                    audit_event::Entity::find()
                        .filter(audit_event::Column::Target.contains(p.path.as_str()))
                        .filter(audit_event::Column::At.gte(week))
                        .count(db)
                        .await?,
                )
                .unwrap_or(u32::MAX),
            );
            // Feed the graph from the catalog, then read the project's neighbourhood.
            let me = graph::sync_project(db, &p, now).await?;
            for (other, why) in graph::related_projects(db, me.id)
                .await?
                .into_iter()
                .take(5)
            {
                s.graph
                    .push(format!("Related project {}: {why}", other.label));
            }
        }
    }
    // What the council remembers of similar questions (one entry per past deliberation).
    let recalled = memory::recall(db, question, project_id, 20, now).await?;
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
        let d = council_deliberation::Entity::find_by_id(did)
            .one(db)
            .await?;
        let chosen = d
            .as_ref()
            .and_then(|d| d.consensus.as_deref())
            .and_then(|c| serde_json::from_str::<crate::models::council::Consensus>(c).ok())
            .and_then(|c| c.option);
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
    Ok(s)
}
