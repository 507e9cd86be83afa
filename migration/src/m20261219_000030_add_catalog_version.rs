//! The catalog's version: one row, one number, raised by the database itself in the same
//! transaction as every change to `projects` (insert, update, delete; on PostgreSQL also
//! truncate), whichever code or instance made it. A page of the project list kept by an instance
//! is stored under the version read before its query, so an instance that reads a higher version
//! than its pages' knows they may be old, and one that reads the same version knows nothing
//! changed since: the database, not an invalidation message, decides.
//!
//! PostgreSQL raises it once per statement; SQLite (no statement triggers) once per row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE catalog_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO catalog_version (id, version) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION raise_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; RETURN NULL; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER projects_raise_catalog_version \
                     AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects \
                     FOR EACH STATEMENT EXECUTE FUNCTION raise_catalog_version()",
                )
                .await?;
            }
            _ => {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER projects_raise_catalog_version_{} AFTER {event} ON projects \
                         BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END",
                        event.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS projects_raise_catalog_version ON projects",
                )
                .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS raise_catalog_version()")
                    .await?;
            }
            _ => {
                for event in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS projects_raise_catalog_version_{event}"
                    ))
                    .await?;
                }
            }
        }
        db.execute_unprepared("DROP TABLE IF EXISTS catalog_version")
            .await
            .map(|_| ())
    }
}
