//! The runtime's view: services ready, failing or crash-looping, crashes in the last day, and
//! the last hour's memory and CPU trend.

use crate::server::council::evidence::{ResourceFacts, ServiceFacts, Situation};
use crate::server::runtime;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Mean of a slice (0 when empty).
fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Adds the project's service health and resource trend.
pub async fn gather(
    db: &impl ConnectionTrait,
    project_id: i64,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let Some(h) = runtime::project_health(db, project_id, now).await? else {
        return Ok(());
    };
    s.services = Some(ServiceFacts {
        total: h.total,
        ready: h.ready,
        crash_loop: h.crash_loop,
        failing: h.failing,
        crashes_24h: h.crashes_24h,
    });
    let trend = runtime::resource_trend(db, project_id, now - TimeDelta::hours(1)).await?;
    let mem = &trend.memory_mb;
    if mem.len() >= 4 {
        // First quarter of the hour against the last.
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
            cpu_mean: mean(&trend.cpu_percent),
        });
    }
    Ok(())
}
