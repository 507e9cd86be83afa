//! Fixed-window rate limiting, in process or in Redis (shared by every instance). When Redis is
//! unreachable the in-process counters take over, so limits still hold on each instance.

use super::redis::RedisHandle;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts hits per key.
#[derive(Clone)]
pub struct RateLimiter {
    local: Arc<Mutex<Local>>,
    redis: Option<RedisHandle>,
}

#[derive(Default)]
struct Local {
    windows: HashMap<String, (Instant, u32)>,
    last_sweep: Option<Instant>,
}

const SCRIPT: &str = r"
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {c, ttl}
";

impl RateLimiter {
    /// A limiter using Redis when given.
    pub fn new(redis: Option<RedisHandle>) -> Self {
        Self {
            local: Arc::new(Mutex::new(Local::default())),
            redis,
        }
    }

    /// Counts one hit on `key`; `Err(retry_after_secs)` once more than `limit` hits fall in the
    /// current `window`.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), u64> {
        // While Redis is known to be down, count in process at once (see `RedisHandle`).
        if let Some(redis) = self.redis.as_ref().filter(|r| r.is_healthy()) {
            let mut conn = redis.conn.clone();
            let res: redis::RedisResult<(i64, i64)> = redis::Script::new(SCRIPT)
                .key(redis.key(&format!("rl:{key}")))
                .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
                .invoke_async(&mut conn)
                .await;
            redis.observe(&res);
            if let Ok((count, ttl_ms)) = res {
                return if count > i64::from(limit) {
                    Err(u64::try_from(ttl_ms).unwrap_or(1).div_ceil(1000).max(1))
                } else {
                    Ok(())
                };
            }
        }
        self.hit_local(key, limit, window)
    }

    fn hit_local(&self, key: &str, limit: u32, window: Duration) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut local) = self.local.lock() else {
            return Ok(());
        };
        if local
            .last_sweep
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(60))
        {
            local
                .windows
                .retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(3600));
            local.last_sweep = Some(now);
        }
        let entry = local.windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > limit {
            let left = window.saturating_sub(now.duration_since(entry.0));
            Err(left.as_secs().max(1))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_up_to_the_limit_then_says_when_to_retry() {
        let rl = RateLimiter::new(None);
        for _ in 0..3 {
            assert!(rl.hit("k", 3, Duration::from_secs(60)).await.is_ok());
        }
        let retry = rl.hit("k", 3, Duration::from_secs(60)).await.err();
        assert!(retry.is_some_and(|s| (1..=60).contains(&s)));
        assert!(rl.hit("other", 3, Duration::from_secs(60)).await.is_ok());
    }

    #[tokio::test]
    async fn a_new_window_resets_the_count() {
        let rl = RateLimiter::new(None);
        assert!(rl.hit("k", 1, Duration::from_millis(50)).await.is_ok());
        assert!(rl.hit("k", 1, Duration::from_millis(50)).await.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(rl.hit("k", 1, Duration::from_millis(50)).await.is_ok());
    }
}
