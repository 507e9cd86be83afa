//! The live event stream over WebSocket, on one instance and across two (through Redis).

use crate::helpers::{redis_url, spawn_app, spawn_with_settings, test_settings, TestApp, PASSWORD};
use app::server::secret::Secret;
use app::server::settings::Settings;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: &str) -> Socket {
    let mut req = format!("ws://127.0.0.1:{}/api/v1/events", app.port)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket connects");
    socket
}

pub(crate) async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("message");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("json");
        }
    }
}

pub(crate) async fn subscribe(socket: &mut Socket, topics: &[&str]) {
    socket
        .send(Message::Text(
            json!({"type": "subscribe", "topics": topics})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    let ack = next_json(socket).await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
}

#[tokio::test]
async fn the_stream_refuses_anonymous_clients() {
    let app = spawn_app().await;
    let req = format!("ws://127.0.0.1:{}/api/v1/events", app.port)
        .into_client_request()
        .expect("request");
    let err = tokio_tungstenite::connect_async(req)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("401"), "{err}");
}

/// Every text message that arrives within `window` (for asserting what does not come).
pub(crate) async fn messages_within(socket: &mut Socket, window: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + window;
    let mut seen = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(text) = msg.expect("message") {
            seen.push(serde_json::from_str(&text).expect("json"));
        }
    }
    seen
}

async fn send(socket: &mut Socket, msg: Value) -> Value {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .expect("send");
    next_json(socket).await
}

pub(crate) async fn create_user(app: &TestApp, owner: &str, username: &str) {
    let r = app
        .post_anon(
            "users/create",
            json!({"username": username, "password": PASSWORD, "role": "viewer"}),
            Some(owner),
        )
        .await;
    assert!(r.status.is_success(), "create {username}: {}", r.body);
}

/// How long a test waits to be sure an event does not come.
const QUIET: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_subscriber_receives_events_of_its_topics_only() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut socket = connect(&app, &owner).await;
    subscribe(&mut socket, &["users"]).await;
    // First an event on `audit` only, then a user: its `audit` entry, then its `users` event.
    app.api_token(&owner, &["read"]).await;
    create_user(&app, &owner, "vera").await;
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["type"], "event", "{msg}");
    assert_eq!(msg["envelope"]["topic"], "users", "{msg}");
    assert_eq!(msg["envelope"]["event"]["type"], "user_changed");
    assert_eq!(msg["envelope"]["event"]["change"], "created");
    let late = messages_within(&mut socket, QUIET).await;
    assert!(late.is_empty(), "nothing else is subscribed: {late:?}");

    // Swap `users` for `audit`: the next user's audit entry comes, its `users` event does not.
    let ack = send(
        &mut socket,
        json!({"type": "unsubscribe", "topics": ["users"]}),
    )
    .await;
    assert_eq!(ack, json!({"type": "subscribed", "topics": []}));
    let ack = send(
        &mut socket,
        json!({"type": "subscribe", "topics": ["audit"]}),
    )
    .await;
    assert_eq!(ack, json!({"type": "subscribed", "topics": ["audit"]}));
    create_user(&app, &owner, "walt").await;
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["envelope"]["topic"], "audit", "{msg}");
    assert_eq!(msg["envelope"]["event"]["action"], "users.create", "{msg}");
    assert_eq!(msg["envelope"]["event"]["target"], "user:walt", "{msg}");
    let late = messages_within(&mut socket, QUIET).await;
    assert!(
        late.iter().all(|m| m["envelope"]["topic"] != "users"),
        "unsubscribed from users: {late:?}"
    );
}

#[tokio::test]
async fn an_unknown_topic_is_refused_with_a_message() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut socket = connect(&app, &owner).await;
    socket
        .send(Message::Text(
            json!({"type": "subscribe", "topics": ["nope"]})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["type"], "error");
    assert!(msg["message"].as_str().unwrap_or_default().contains("nope"));
}

/// Two instances sharing one database, its keys and `redis` (with one key prefix), as behind a
/// load balancer; `adjust` changes both one's settings.
pub(crate) async fn two_instances(
    redis: Option<String>,
    adjust: impl FnOnce(&mut Settings),
) -> (TestApp, TestApp) {
    let dir_a = tempfile::tempdir().expect("tempdir");
    let mut a = test_settings(dir_a.path()).await;
    a.redis_url = redis.map(Secret::new);
    adjust(&mut a);
    // Instances behind one load balancer share their keys (OPTIMUS_JWT_SECRET, OPTIMUS_MASTER_KEY).
    a.jwt_secret = Some(Secret::new("shared-test-jwt-secret-0123456789abcdef"));
    a.master_key = Some(Secret::new("shared-test-master-key-0123456789abcdef"));
    let dir_b = tempfile::tempdir().expect("tempdir");
    let mut b = a.clone();
    b.data_dir = dir_b.path().to_path_buf();
    let app_a = spawn_with_settings(a, dir_a).await;
    let app_b = spawn_with_settings(b, dir_b).await;
    (app_a, app_b)
}

#[tokio::test]
async fn instances_sharing_one_database_honour_each_others_sign_ins_without_redis() {
    let (app_a, app_b) = two_instances(None, |_| {}).await;
    let owner = app_a.setup_owner().await;
    let mut socket = connect(&app_b, &owner).await;
    subscribe(&mut socket, &["users"]).await;
    create_user(&app_b, &owner, "vera").await;
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["envelope"]["event"]["type"], "user_changed", "{msg}");
    assert_eq!(app_a.login("vera").await.split('.').count(), 3);
}

#[tokio::test]
async fn an_event_published_on_one_instance_reaches_clients_of_another_through_redis() {
    let Some(redis) = redis_url() else {
        crate::helpers::skipped(
            "an_event_published_on_one_instance_reaches_clients_of_another_through_redis",
            "needs OPTIMUS_TEST_REDIS_URL",
        );
        return;
    };
    let (app_a, app_b) = two_instances(Some(redis), |_| {}).await;
    let owner = app_a.setup_owner().await;
    let mut socket = connect(&app_b, &owner).await;
    subscribe(&mut socket, &["users"]).await;
    reaches(&app_a, &owner, &mut socket, Duration::from_secs(10)).await;
}

/// Creates users on `from` until one of their events reaches `socket` (a client of another
/// instance), failing after `within`; returns how long it took. An instance's relay subscribes
/// to Redis asynchronously (at start-up, after an outage), and Redis pub/sub keeps nothing for
/// late subscribers, so one event alone proves nothing.
pub(crate) async fn reaches(
    from: &TestApp,
    owner: &str,
    socket: &mut Socket,
    within: Duration,
) -> Duration {
    let started = tokio::time::Instant::now();
    loop {
        assert!(
            started.elapsed() < within,
            "no event of one instance reached the other within {within:?}"
        );
        let name = format!("vera{}", uuid::Uuid::new_v4().simple());
        create_user(from, owner, &name[..20]).await;
        if let Some(msg) = messages_within(socket, Duration::from_millis(250))
            .await
            .into_iter()
            .next()
        {
            assert_eq!(msg["envelope"]["event"]["type"], "user_changed", "{msg}");
            assert_eq!(msg["envelope"]["event"]["change"], "created", "{msg}");
            return started.elapsed();
        }
    }
}
