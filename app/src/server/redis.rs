//! The optional Redis connection: auto-reconnecting, with short timeouts, and a health flag.
//!
//! A failed command marks Redis down; while it is down the event bus and the rate limiter use
//! their in-process fallbacks at once instead of each request waiting on a reconnect attempt,
//! and only the health watcher (`redis.watch`, every second while down) and `/readyz` try it,
//! marking it up again when it answers.

use super::secret::Secret;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A cheap handle to Redis.
#[derive(Clone)]
pub struct RedisHandle {
    /// For dedicated connections (pub/sub).
    pub client: redis::Client,
    /// Shared multiplexed connection for commands; reconnects by itself.
    pub conn: ConnectionManager,
    /// Prefix of every key and channel.
    pub prefix: Arc<str>,
    healthy: Arc<AtomicBool>,
}

impl RedisHandle {
    /// Connects; fails if Redis does not answer now.
    pub async fn connect(url: &Secret, prefix: &str) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url.expose())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(2))
            .set_number_of_retries(1)
            .set_max_delay(2000);
        let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(Self {
            client,
            conn,
            prefix: Arc::from(prefix),
            healthy: Arc::new(AtomicBool::new(true)),
        })
    }

    /// A key under this instance's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    /// Records the outcome of a command; logs transitions only, so an outage is not log spam.
    pub fn observe<T>(&self, result: &redis::RedisResult<T>) {
        let ok = result.is_ok();
        let was = self.healthy.swap(ok, Ordering::Relaxed);
        match (was, ok, result) {
            (true, false, Err(e)) => {
                tracing::warn!(error = %e, "redis unavailable; running degraded")
            }
            (false, true, _) => tracing::info!("redis available again"),
            _ => {}
        }
    }

    /// Whether the last command succeeded.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Sends PING; updates health.
    pub async fn ping(&self) -> bool {
        let mut conn = self.conn.clone();
        let res: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        self.observe(&res);
        res.is_ok()
    }
}
