//! The backups' view: the age of the project's newest good backup and whether its newest one
//! failed, as Optimus recorded them (nothing when the project has no backup policy).

use crate::server::backups::snapshots;
use crate::server::council::evidence::{BackupFacts, Situation};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

/// Adds what the project's backups recorded.
pub async fn gather(
    db: &impl ConnectionTrait,
    project_id: i64,
    now: DateTime<Utc>,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let Some(b) = snapshots::state_of_project(db, project_id).await? else {
        return Ok(());
    };
    let age = b
        .last_good_at
        .map(|t| (now - t).num_seconds().max(0) as f64 / 3600.0);
    s.backup_age_hours = age;
    s.backups = Some(BackupFacts {
        policies: u32::try_from(b.policies).unwrap_or(u32::MAX),
        last_good_age_hours: age,
        last_failed: b.last_failed,
    });
    Ok(())
}
