//! The event bus: every state change is published once here; WebSocket clients and the activity
//! timeline read from it. With Redis, events fan out to every instance over pub/sub.

use super::redis::RedisHandle;
use crate::models::events::{Event, EventEnvelope};
use chrono::Utc;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How many events a slow subscriber may lag before it misses some.
const CAPACITY: usize = 1024;

#[derive(Serialize, Deserialize)]
struct WireMessage {
    origin: String,
    envelope: EventEnvelope,
}

/// Publishes events and hands out subscriptions.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<EventEnvelope>>,
    redis: Option<RedisHandle>,
    instance: Arc<str>,
}

impl EventBus {
    /// An in-process bus, fanning out over `redis` when given.
    pub fn new(redis: Option<RedisHandle>) -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        Self {
            tx,
            redis,
            instance: Arc::from(uuid::Uuid::new_v4().to_string()),
        }
    }

    fn channel(redis: &RedisHandle) -> String {
        redis.key("events")
    }

    /// Publishes an event to local subscribers and, with Redis, to other instances.
    /// Never fails: a Redis outage degrades to local delivery and is logged once.
    pub async fn publish(&self, event: Event) {
        let envelope = EventEnvelope {
            id: uuid::Uuid::new_v4().to_string(),
            at: Utc::now(),
            topic: event.topic(),
            event,
        };
        if let Some(redis) = &self.redis {
            let msg = WireMessage {
                origin: self.instance.to_string(),
                envelope: envelope.clone(),
            };
            if let Ok(payload) = serde_json::to_string(&msg) {
                let mut conn = redis.conn.clone();
                let res: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(Self::channel(redis))
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                redis.observe(&res);
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(Arc::new(envelope));
    }

    /// A new subscription to every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.tx.subscribe()
    }

    /// With Redis, listens for other instances' events and delivers them locally until
    /// `shutdown` turns true; reconnects with backoff when Redis drops.
    pub fn spawn_relay(
        &self,
        mut shutdown: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let redis = self.redis.clone()?;
        let tx = self.tx.clone();
        let instance = self.instance.clone();
        Some(tokio::spawn(async move {
            let channel = Self::channel(&redis);
            let mut backoff = Duration::from_millis(200);
            loop {
                if *shutdown.borrow() {
                    return;
                }
                match redis.client.get_async_pubsub().await {
                    Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                        Ok(()) => {
                            redis.observe(&Ok::<(), redis::RedisError>(()));
                            backoff = Duration::from_millis(200);
                            let mut stream = pubsub.on_message();
                            loop {
                                tokio::select! {
                                    _ = shutdown.changed() => return,
                                    msg = stream.next() => {
                                        let Some(msg) = msg else { break };
                                        let Ok(payload) = msg.get_payload::<String>() else { continue };
                                        match serde_json::from_str::<WireMessage>(&payload) {
                                            Ok(wire) if wire.origin != *instance => {
                                                let _ = tx.send(Arc::new(wire.envelope));
                                            }
                                            Ok(_) => {}
                                            Err(e) => tracing::warn!(error = %e, "undecodable event from redis"),
                                        }
                                    }
                                }
                            }
                            tracing::warn!("redis event subscription closed; reconnecting");
                        }
                        Err(e) => redis.observe(&Err::<(), _>(e)),
                    },
                    Err(e) => redis.observe(&Err::<(), _>(e)),
                }
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }))
    }
}
