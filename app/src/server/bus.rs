//! The event bus: every state change is published once here; WebSocket clients and the activity
//! timeline read from it. With Redis, events fan out to every instance over pub/sub.
//!
//! Beside those wire events, the bus carries [`DomainEvent`]s: how one feature tells others that
//! something happened (a run failed, projects changed) without calling them, so that features
//! never import each other in a circle. Domain events stay inside the instance that emitted them,
//! so each reaction runs once.

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
/// How many domain events a slow reaction may lag before it misses some.
const DOMAIN_CAPACITY: usize = 4096;

/// Something one feature did that others react to.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// Projects were discovered, added, edited, or had their dependencies changed.
    ProjectsChanged {
        /// The projects.
        ids: Vec<i64>,
    },
    /// A run of a service ended in failure (a crash, a failed probe, a non-zero exit).
    RunFailed {
        /// The project.
        project_id: i64,
        /// Its name.
        project_name: String,
        /// The service.
        service_id: i64,
        /// Its name.
        service_name: String,
        /// The run.
        run_id: i64,
        /// Why it ended, in words.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
struct WireMessage {
    origin: String,
    envelope: EventEnvelope,
}

/// Publishes events and hands out subscriptions.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<EventEnvelope>>,
    domain: broadcast::Sender<Arc<DomainEvent>>,
    redis: Option<RedisHandle>,
    instance: Arc<str>,
}

impl EventBus {
    /// An in-process bus, fanning out over `redis` when given.
    pub fn new(redis: Option<RedisHandle>) -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (domain, _) = broadcast::channel(DOMAIN_CAPACITY);
        Self {
            tx,
            domain,
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
        // While Redis is known to be down, events stay local at once rather than each waiting
        // on a reconnect attempt; the health watcher notices when it is back.
        if let Some(redis) = self.redis.as_ref().filter(|r| r.is_healthy()) {
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

    /// Tells this instance's reactions that `event` happened (after the change committed).
    pub fn emit(&self, event: DomainEvent) {
        // No receivers is fine: nothing reacts to it in this configuration.
        let _ = self.domain.send(Arc::new(event));
    }

    /// A new subscription to domain events from now on; take it before anything can emit.
    pub fn subscribe_domain(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.domain.subscribe()
    }

    /// With Redis, listens for other instances' events and delivers them locally until
    /// `shutdown` turns true; reconnects with backoff when Redis drops.
    pub fn relay(
        &self,
        mut shutdown: watch::Receiver<bool>,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let redis = self.redis.clone()?;
        let tx = self.tx.clone();
        let instance = self.instance.clone();
        Some(async move {
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
        })
    }
}

/// Feeds each domain event to `react` until `shutdown` turns true. A reaction that falls behind
/// logs how many events it missed, under `name`.
pub async fn follow<F, Fut>(
    name: &str,
    mut events: broadcast::Receiver<Arc<DomainEvent>>,
    mut shutdown: watch::Receiver<bool>,
    mut react: F,
) where
    F: FnMut(Arc<DomainEvent>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            next = events.recv() => match next {
                Ok(event) => react(event).await,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(reaction = name, missed, "a reaction fell behind and missed domain events");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
