//! Connecting to the database (SQLite or PostgreSQL) with a sized pool.

use super::settings::Settings;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    TransactionTrait,
};
use std::time::Duration;

/// Opens the pool described by the settings.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.effective_database_url());
    let max = if settings.uses_sqlite() {
        // SQLite has one writer; a small pool avoids lock contention.
        settings.database_max_connections.min(8)
    } else {
        settings.database_max_connections
    };
    options
        .max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if settings.uses_sqlite() {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// Begins a transaction that will write. On SQLite it takes the write lock first (waiting up to
/// the busy timeout), as `BEGIN IMMEDIATE` would: a deferred transaction that read before
/// another connection committed could not write afterwards and would fail at once with
/// "database is locked". PostgreSQL transactions begin as usual.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if matches!(db, DatabaseConnection::SqlxSqlitePoolConnection(_)) {
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Whether the database answers a trivial query within two seconds.
pub async fn ping(db: &DatabaseConnection) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    )
}

/// Pool usage: (open connections, idle connections, max connections).
pub fn pool_usage(db: &DatabaseConnection) -> (u32, u32, u32) {
    match db {
        DatabaseConnection::SqlxSqlitePoolConnection(_) => {
            let p = db.get_sqlite_connection_pool();
            (
                p.size(),
                u32::try_from(p.num_idle()).unwrap_or(0),
                p.options().get_max_connections(),
            )
        }
        DatabaseConnection::SqlxPostgresPoolConnection(_) => {
            let p = db.get_postgres_connection_pool();
            (
                p.size(),
                u32::try_from(p.num_idle()).unwrap_or(0),
                p.options().get_max_connections(),
            )
        }
        _ => (0, 0, 0),
    }
}
