//! What the runtime knows about a project's health, read by other features (the council's
//! evidence): its services' states, recent crashes, and the resource trend.

use super::entities::service;
use super::{repo, sampler};
use crate::models::runtime::ServiceState;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::BTreeMap;

/// A project's services at a glance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectHealth {
    /// Services defined.
    pub total: u32,
    /// Of which ready.
    pub ready: u32,
    /// Names of services in a crash loop.
    pub crash_loop: Vec<String>,
    /// Names of services failed, unhealthy or backing off.
    pub failing: Vec<String>,
    /// Runs that ended in failure in the last 24 hours.
    pub crashes_24h: u32,
}

/// The project's total memory (MiB) and CPU (% of a core) per sampling tick, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceTrend {
    /// Memory per tick.
    pub memory_mb: Vec<f64>,
    /// CPU per tick.
    pub cpu_percent: Vec<f64>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The health of project `project_id`'s services, or `None` when it defines none.
pub async fn project_health(
    db: &impl ConnectionTrait,
    project_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<ProjectHealth>, DbErr> {
    let services = repo::services::of_project(db, project_id).await?;
    if services.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let runs = repo::services::ended_since(db, ids, now - TimeDelta::hours(24)).await?;
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
    let names = |wanted: &dyn Fn(ServiceState) -> bool| -> Vec<String> {
        services
            .iter()
            .filter(|m: &&service::Model| wanted(repo::services::state(m)))
            .map(|m| m.name.clone())
            .collect()
    };
    Ok(Some(ProjectHealth {
        total: count(services.len()),
        ready: count(names(&|s| s == ServiceState::Ready).len()),
        crash_loop: names(&|s| s == ServiceState::CrashLoop),
        failing: names(&|s| {
            matches!(
                s,
                ServiceState::Failed | ServiceState::Unhealthy | ServiceState::Backoff
            )
        }),
        crashes_24h: count(crashes),
    }))
}

/// The project's resource use per tick since `since`, summed over its services.
pub async fn resource_trend(
    db: &impl ConnectionTrait,
    project_id: i64,
    since: DateTime<Utc>,
) -> Result<ResourceTrend, DbErr> {
    let ids: Vec<i64> = repo::services::of_project(db, project_id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    if ids.is_empty() {
        return Ok(ResourceTrend::default());
    }
    let samples = repo::samples::services_since(db, ids, sampler::RAW, since).await?;
    let mut by_time: BTreeMap<DateTime<Utc>, (f64, f64)> = BTreeMap::new();
    for x in &samples {
        let e = by_time.entry(x.at).or_default();
        e.0 += x.rss_bytes as f64 / 1_048_576.0;
        e.1 += x.cpu_percent;
    }
    Ok(ResourceTrend {
        memory_mb: by_time.values().map(|v| v.0).collect(),
        cpu_percent: by_time.values().map(|v| v.1).collect(),
    })
}
