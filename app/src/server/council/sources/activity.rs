//! How busy the project has been: timeline entries and audited actions in the last 7 days.

use crate::server::audit;
use crate::server::catalog::{self, Project};
use crate::server::council::evidence::Situation;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Adds the project's 7-day activity counts.
pub async fn gather(
    db: &impl ConnectionTrait,
    p: &Project,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let week = now - TimeDelta::days(7);
    let timeline = catalog::activity_since(db, p.id, week).await?;
    let audited = audit::count_mentioning(db, &p.path, week).await?;
    s.activity_7d = Some(u32::try_from(timeline).unwrap_or(u32::MAX));
    s.audit_7d = Some(u32::try_from(audited).unwrap_or(u32::MAX));
    Ok(())
}
