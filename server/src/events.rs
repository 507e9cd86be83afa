//! `GET /api/v1/events`: the live event stream over a WebSocket, filtered by topic.
//!
//! One task, the [`Hub`], reads the bus and hands each event to the streams subscribed to its
//! topic, encoded once; a stream is woken only for events it asked for. Each stream has a
//! bounded queue: a client that falls behind by more than [`QUEUE`] events misses the oldest
//! ones and is told how many (`lagged`), the others never wait for it. A stream writes what has
//! queued up as one batch and flushes once.

use crate::api_guard::error_response;
use app::models::events::{is_known_topic, ClientMessage, EventEnvelope, ServerMessage, TOPICS};
use app::models::Operation;
use app::server::{AppState, Caller};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures::SinkExt;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};

/// How many events a stream may have waiting before it misses some.
pub const QUEUE: usize = 1024;
/// At most this many frames go out in one write.
const BATCH: usize = 256;

/// What the event stream needs: the shutdown signal and the hub.
#[derive(Clone)]
pub struct Streams {
    shutdown: watch::Receiver<bool>,
    hub: Hub,
}

impl Streams {
    /// Starts the hub (as the `events.hub` job) for `state`'s bus.
    pub fn start(state: &AppState) -> Self {
        let hub = Hub::default();
        let mut shutdown = state.jobs.shutdown_signal();
        let mut rx = state.bus.subscribe();
        let routes = hub.clone();
        state.jobs.spawn("events.hub", async move {
            loop {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    event = rx.recv() => match event {
                        Ok(envelope) => routes.route(&envelope),
                        // The hub itself fell behind the bus: every stream missed these.
                        Err(RecvError::Lagged(missed)) => routes.all_missed(missed),
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        });
        Self {
            shutdown: state.jobs.shutdown_signal(),
            hub,
        }
    }
}

/// A stream as the hub sees it.
struct Client {
    tx: mpsc::Sender<Utf8Bytes>,
    /// Events dropped since the stream last said so.
    missed: AtomicU64,
}

#[derive(Default)]
struct Routes {
    next: u64,
    /// Each stream and its topics.
    clients: HashMap<u64, (Arc<Client>, BTreeSet<String>)>,
    /// Topic → the streams subscribed to it (`*` included).
    by_topic: HashMap<String, Vec<Arc<Client>>>,
}

impl Routes {
    fn reindex(&mut self) {
        self.by_topic.clear();
        for (client, topics) in self.clients.values() {
            for t in topics {
                self.by_topic
                    .entry(t.clone())
                    .or_default()
                    .push(client.clone());
            }
        }
    }
}

/// Routes events to the streams subscribed to their topics.
#[derive(Clone, Default)]
pub struct Hub {
    routes: Arc<RwLock<Routes>>,
}

impl Hub {
    /// A new stream with no topics: its id and its queue.
    fn join(&self) -> (u64, Arc<Client>, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let client = Arc::new(Client {
            tx,
            missed: AtomicU64::new(0),
        });
        let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
        r.next += 1;
        let id = r.next;
        r.clients.insert(id, (client.clone(), BTreeSet::new()));
        (id, client, rx)
    }

    /// The stream's topics are now `topics`.
    fn set_topics(&self, id: u64, topics: &BTreeSet<String>) {
        let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = r.clients.get_mut(&id) {
            c.1 = topics.clone();
        }
        r.reindex();
    }

    /// The stream is gone.
    fn leave(&self, id: u64) {
        let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if r.clients.remove(&id).is_some() {
            r.reindex();
        }
    }

    /// Hands `envelope` to every stream subscribed to its topic or to `*`, encoded once.
    fn route(&self, envelope: &EventEnvelope) {
        let r = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let exact = r.by_topic.get(&envelope.topic).map(Vec::as_slice);
        let all = r.by_topic.get("*").map(Vec::as_slice);
        let targets = exact
            .unwrap_or_default()
            .iter()
            .chain(all.unwrap_or_default());
        let mut frame: Option<Utf8Bytes> = None;
        for c in targets {
            let f = frame
                .get_or_insert_with(|| {
                    encode(&ServerMessage::Event {
                        envelope: envelope.clone(),
                    })
                })
                .clone();
            if let Err(mpsc::error::TrySendError::Full(_)) = c.tx.try_send(f) {
                c.missed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn all_missed(&self, missed: u64) {
        let r = self.routes.read().unwrap_or_else(|e| e.into_inner());
        for (c, topics) in r.clients.values() {
            if !topics.is_empty() {
                c.missed.fetch_add(missed, Ordering::Relaxed);
            }
        }
    }
}

/// Upgrades an authenticated request to the event stream.
pub async fn events_handler(
    State(state): State<AppState>,
    axum::Extension(streams): axum::Extension<Streams>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = caller.authorize(Operation::SubscribeEvents) {
        return error_response(&e);
    }
    ws.on_upgrade(move |socket| stream(state, socket, streams))
}

fn encode(msg: &ServerMessage) -> Utf8Bytes {
    serde_json::to_string(msg).unwrap_or_default().into()
}

fn apply(topics: &mut BTreeSet<String>, msg: ClientMessage) -> Result<(), String> {
    let (add, list) = match msg {
        ClientMessage::Subscribe { topics } => (true, topics),
        ClientMessage::Unsubscribe { topics } => (false, topics),
    };
    for t in &list {
        if !is_known_topic(t) {
            return Err(format!(
                "unknown topic `{t}` (expected one of {}, logs:<service id>, pipeline-logs:<run id> or *)",
                TOPICS.join(", ")
            ));
        }
    }
    for t in list {
        if add {
            topics.insert(t);
        } else {
            topics.remove(&t);
        }
    }
    Ok(())
}

async fn stream(state: AppState, socket: WebSocket, streams: Streams) {
    state.metrics.ws_clients.inc();
    let (id, client, rx) = streams.hub.join();
    serve(socket, &streams, id, &client, rx).await;
    streams.hub.leave(id);
    state.metrics.ws_clients.dec();
}

/// Writes one event (after saying how many were missed before it, if any) and whatever else has
/// queued up, then flushes.
async fn deliver(
    socket: &mut WebSocket,
    client: &Client,
    first: Utf8Bytes,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
) -> Result<(), axum::Error> {
    let mut frame = Some(first);
    let mut sent = 0;
    while let Some(f) = frame.take() {
        let missed = client.missed.swap(0, Ordering::Relaxed);
        if missed > 0 {
            socket
                .feed(Message::Text(encode(&ServerMessage::Lagged { missed })))
                .await?;
        }
        socket.feed(Message::Text(f)).await?;
        sent += 1;
        if sent < BATCH {
            frame = rx.try_recv().ok();
        }
    }
    socket.flush().await
}

async fn serve(
    mut socket: WebSocket,
    streams: &Streams,
    id: u64,
    client: &Client,
    mut rx: mpsc::Receiver<Utf8Bytes>,
) {
    let mut shutdown = streams.shutdown.clone();
    let mut topics = BTreeSet::<String>::new();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => {
                let reply = match incoming {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                        Ok(msg) => match apply(&mut topics, msg) {
                            Ok(()) => {
                                streams.hub.set_topics(id, &topics);
                                ServerMessage::Subscribed { topics: topics.iter().cloned().collect() }
                            }
                            Err(message) => ServerMessage::Error { message },
                        },
                        Err(e) => ServerMessage::Error { message: format!("expected {{\"type\":\"subscribe\",\"topics\":[…]}}: {e}") },
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                if socket.send(Message::Text(encode(&reply))).await.is_err() {
                    return;
                }
            }
            frame = rx.recv() => {
                // The hub holds the sender while the stream is joined: `None` cannot happen
                // before `leave`, but ends the stream if it does.
                let Some(frame) = frame else { return };
                if deliver(&mut socket, client, frame, &mut rx).await.is_err() {
                    return;
                }
            }
        }
    }
}
