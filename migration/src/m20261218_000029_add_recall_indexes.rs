//! Indexes for the council's evidence and recall, both read on every deliberation:
//!
//! - the pinned memories, newest first: recall weighs them whether or not they are among the
//!   newest matches (without it, finding the few pinned ones reads every memory);
//! - a project's timeline by time: "how busy was it in the last 7 days" counts from the index
//!   alone instead of reading every entry of the project.
//!
//! The same statements work on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] = [
    (
        "idx_council_memories_pinned",
        "council_memories (pinned, id)",
    ),
    (
        "idx_project_activity_project_at",
        "project_activity (project_id, at)",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, on) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
