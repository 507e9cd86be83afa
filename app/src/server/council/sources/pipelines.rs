//! The pipelines' view: the project's newest finished runs, how many failed in a row, and the
//! test counts of the newest run that read a report.

use crate::models::pipelines::RunState;
use crate::server::council::evidence::{PipelineFacts, Situation};
use crate::server::pipelines::running;
use sea_orm::{ConnectionTrait, DbErr};

/// Adds what the project's pipelines recorded (nothing when it has never run one).
pub async fn gather(
    db: &impl ConnectionTrait,
    project_id: i64,
    s: &mut Situation,
) -> Result<(), DbErr> {
    let runs = running::recent_outcomes(db, project_id, 20).await?;
    if runs.is_empty() {
        return Ok(());
    }
    let failure_streak = runs
        .iter()
        .take_while(|r| matches!(r.state, RunState::Failed | RunState::Interrupted))
        .count();
    let tests = runs.iter().find_map(|r| {
        r.tests
            .map(|t| (r.title.clone(), t.passed, t.failed, t.skipped))
    });
    s.pipelines = Some(PipelineFacts {
        latest: runs
            .iter()
            .map(|r| (r.title.clone(), r.state.as_str().to_owned()))
            .collect(),
        failure_streak: u32::try_from(failure_streak).unwrap_or(u32::MAX),
        tests,
    });
    Ok(())
}
