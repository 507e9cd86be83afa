//! Connecting to the database (SQLite or PostgreSQL) with a sized pool.

use super::settings::Settings;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    TransactionTrait,
};
use std::time::Duration;

/// How long a request waits for a pooled connection before it answers 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

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
        // A request that waits this long for a connection answers 503: long enough for a busy
        // pool, short enough that a database that went away is reported promptly.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        // Each SQLite connection reads the database through a memory map (no system call per
        // page read, pages shared with the kernel's cache instead of copied into each
        // connection's own) and sorts in memory. A page cache larger than SQLite's 2 MB did not
        // help when measured (a commit empties the other connections' caches). Unused on
        // PostgreSQL.
        .map_sqlx_sqlite_opts(|o| {
            o.pragma("mmap_size", "268435456")
                .pragma("temp_store", "memory")
        });
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

/// Whether `err` means the database could not be reached (connection refused or lost, pool
/// exhausted or closed, server shutting down) rather than that it refused the statement: the
/// request answers 503 and background work waits for the database instead of giving up.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e {
            Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed => true,
            Sqlx::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception), 57P01-57P03 (the server is shutting
            // down, crashed or starting), 53300 (too many connections).
            Sqlx::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        },
        _ => false,
    }
}

/// Runs `op` until it succeeds or fails for a reason other than the database being unreachable,
/// waiting between tries (0.2 s, doubling up to 5 s). For background work that must not lose a
/// fact it has to record (a process that started, a run that ended): it waits out an outage.
pub async fn until_reachable<T, F, Fut>(what: &str, mut op: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let mut wait = Duration::from_millis(200);
    let mut failing = false;
    loop {
        match op().await {
            Err(e) if is_unavailable(&e) => {
                if !failing {
                    tracing::warn!(error = %e, what, "database unreachable; retrying until it is back");
                    failing = true;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            done => {
                if failing {
                    tracing::info!(what, "database reachable again");
                }
                return done;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, RuntimeErr};

    #[test]
    fn lost_connections_are_unavailability_and_refused_statements_are_not() {
        let io = || Sqlx::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(io()))));
        assert!(is_unavailable(&DbErr::Exec(RuntimeErr::SqlxError(
            Sqlx::PoolClosed
        ))));
        assert!(!is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(
            Sqlx::RowNotFound
        ))));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!is_unavailable(&DbErr::Custom("constraint".into())));
    }

    #[tokio::test]
    async fn until_reachable_returns_the_first_answer_that_is_not_an_outage() {
        let tries = std::sync::atomic::AtomicU32::new(0);
        let answer = until_reachable("a test", || {
            let n = tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async move {
                match n {
                    0 => Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
                    1 => Err(DbErr::RecordNotFound("gone".into())),
                    _ => Ok(()),
                }
            }
        })
        .await;
        assert_eq!(answer, Err(DbErr::RecordNotFound("gone".into())));
        assert_eq!(tries.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
