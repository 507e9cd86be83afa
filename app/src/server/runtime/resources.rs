//! Resource history of services and the host, over selectable ranges.

use super::definitions::bad;
use super::services::service_of;
use crate::error::AppError;
use crate::models::runtime::{HostMetricsQuery, HostSample, MetricsQuery, ResourceSample};
use crate::models::Operation;
use crate::server::caller::Caller;
use crate::server::error::ServerResult;
use crate::server::runtime::repo;
use crate::server::AppState;
use chrono::Utc;
use std::collections::HashMap;

/// The span and storage tier of a chart range.
fn range_of(raw: Option<&str>) -> Result<(chrono::TimeDelta, i16), AppError> {
    use crate::server::runtime::sampler::{MINUTE, QUARTER, RAW};
    use chrono::TimeDelta;
    Ok(match raw.unwrap_or("1h") {
        "15m" => (TimeDelta::minutes(15), RAW),
        "1h" => (TimeDelta::hours(1), RAW),
        "6h" => (TimeDelta::hours(6), MINUTE),
        "24h" => (TimeDelta::hours(24), MINUTE),
        "7d" => (TimeDelta::days(7), MINUTE),
        "30d" => (TimeDelta::days(30), QUARTER),
        "90d" => (TimeDelta::days(90), QUARTER),
        _ => {
            return Err(bad(
                "range",
                format!(
                    "must be one of {}",
                    crate::models::runtime::RANGES.join(", ")
                ),
            ))
        }
    })
}

/// Resource history of services over a range: raw samples for short ranges, minute or
/// quarter-hour averages for long ones (with the newest raw samples after the last average).
pub async fn service_metrics(
    state: &AppState,
    caller: &Caller,
    q: MetricsQuery,
) -> ServerResult<Vec<ResourceSample>> {
    caller.authorize(Operation::ReadRuntime)?;
    if q.service_ids.is_empty() || q.service_ids.len() > 50 {
        return Err(bad("service_ids", "name 1 to 50 services").into());
    }
    let (span, tier) = range_of(q.range.as_deref())?;
    let mut projects = HashMap::new();
    for id in &q.service_ids {
        let m = service_of(state, *id).await?;
        projects.insert(*id, (m.project_id, m.name));
    }
    let from = Utc::now() - span;
    let mut rows =
        repo::samples::services_since(&state.db, q.service_ids.clone(), tier, from).await?;
    if tier != crate::server::runtime::sampler::RAW {
        let after = rows
            .iter()
            .map(|r| r.at)
            .max()
            .map(|t| t + crate::server::runtime::sampler::bucket(tier))
            .unwrap_or(from);
        rows.extend(
            repo::samples::services_since(
                &state.db,
                q.service_ids.clone(),
                crate::server::runtime::sampler::RAW,
                after,
            )
            .await?,
        );
    }
    Ok(rows
        .iter()
        .map(|r| {
            let (project, name) = projects.get(&r.service_id).cloned().unwrap_or_default();
            repo::samples::to_sample(r, project, &name)
        })
        .collect())
}

/// The host's history over a range.
pub async fn host_metrics(
    state: &AppState,
    caller: &Caller,
    q: HostMetricsQuery,
) -> ServerResult<Vec<HostSample>> {
    caller.authorize(Operation::ReadRuntime)?;
    let (span, tier) = range_of(q.range.as_deref())?;
    let from = Utc::now() - span;
    let mut rows = repo::samples::host_since(&state.db, tier, from).await?;
    if tier != crate::server::runtime::sampler::RAW {
        let after = rows
            .iter()
            .map(|r| r.at)
            .max()
            .map(|t| t + crate::server::runtime::sampler::bucket(tier))
            .unwrap_or(from);
        rows.extend(
            repo::samples::host_since(&state.db, crate::server::runtime::sampler::RAW, after)
                .await?,
        );
    }
    Ok(rows.iter().map(repo::samples::to_host).collect())
}
