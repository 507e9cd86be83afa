//! `GET /api/v1/events`: the live event stream over a WebSocket, filtered by topic.

use crate::api_guard::error_response;
use app::models::events::{is_known_topic, ClientMessage, ServerMessage, TOPICS};
use app::models::Operation;
use app::server::{AppState, Caller};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// Shutdown signal for open streams.
#[derive(Clone)]
pub struct StreamShutdown(pub watch::Receiver<bool>);

/// Upgrades an authenticated request to the event stream.
pub async fn events_handler(
    State(state): State<AppState>,
    axum::Extension(shutdown): axum::Extension<StreamShutdown>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(e) = caller.authorize(Operation::SubscribeEvents) {
        return error_response(&e);
    }
    ws.on_upgrade(move |socket| stream(state, socket, shutdown.0))
}

fn encode(msg: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
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

async fn stream(state: AppState, mut socket: WebSocket, mut shutdown: watch::Receiver<bool>) {
    state.metrics.ws_clients.inc();
    let mut rx = state.bus.subscribe();
    let mut topics = BTreeSet::<String>::new();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    ping.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => {
                let reply = match incoming {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                        Ok(msg) => match apply(&mut topics, msg) {
                            Ok(()) => ServerMessage::Subscribed { topics: topics.iter().cloned().collect() },
                            Err(message) => ServerMessage::Error { message },
                        },
                        Err(e) => ServerMessage::Error { message: format!("expected {{\"type\":\"subscribe\",\"topics\":[…]}}: {e}") },
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                if socket.send(encode(&reply)).await.is_err() {
                    break;
                }
            }
            event = rx.recv() => {
                let msg = match event {
                    Ok(envelope) if topics.contains("*") || topics.contains(&envelope.topic) => {
                        ServerMessage::Event { envelope: (*envelope).clone() }
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => ServerMessage::Lagged { missed },
                    Err(RecvError::Closed) => break,
                };
                if socket.send(encode(&msg)).await.is_err() {
                    break;
                }
            }
        }
    }
    state.metrics.ws_clients.dec();
}
