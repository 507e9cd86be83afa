//! The live event stream over WebSocket, on one instance and across two through Redis.

use crate::helpers::{
    fresh_database, spawn_app, spawn_with_settings, test_settings, TestApp, PASSWORD,
};
use app::server::secret::Secret;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Socket {
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

async fn next_json(socket: &mut Socket) -> Value {
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

async fn subscribe(socket: &mut Socket, topics: &[&str]) {
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

#[tokio::test]
async fn a_subscriber_receives_events_of_its_topics_only() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let mut socket = connect(&app, &owner).await;
    subscribe(&mut socket, &["users"]).await;
    let r = app
        .post_anon(
            "users/create",
            json!({"username": "vera", "password": PASSWORD, "role": "viewer"}),
            Some(&owner),
        )
        .await;
    assert!(r.status.is_success());
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["type"], "event", "{msg}");
    assert_eq!(msg["envelope"]["topic"], "users");
    assert_eq!(msg["envelope"]["event"]["type"], "user_changed");
    assert_eq!(msg["envelope"]["event"]["change"], "created");
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

#[tokio::test]
async fn an_event_published_on_one_instance_reaches_clients_of_another_through_redis() {
    let redis = crate::helpers::redis_url().unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let dir_a = tempfile::tempdir().expect("tempdir");
    let mut a = test_settings(dir_a.path()).await;
    a.redis_url = Some(Secret::new(redis.clone()));
    // Both instances share the database and the Redis prefix, as behind a load balancer.
    let shared_db = if a.uses_sqlite() {
        a.effective_database_url()
    } else {
        fresh_database(dir_a.path()).await
    };
    a.database_url = Some(Secret::new(shared_db.clone()));
    // Instances behind one load balancer share their keys (OPTIMUS_JWT_SECRET, OPTIMUS_MASTER_KEY).
    a.jwt_secret = Some(Secret::new("shared-test-jwt-secret-0123456789abcdef"));
    a.master_key = Some(Secret::new("shared-test-master-key-0123456789abcdef"));
    let dir_b = tempfile::tempdir().expect("tempdir");
    let mut b = a.clone();
    b.data_dir = dir_b.path().to_path_buf();
    let app_a = spawn_with_settings(a, dir_a).await;
    let app_b = spawn_with_settings(b, dir_b).await;

    let owner = app_a.setup_owner().await;
    let mut socket = connect(&app_b, &owner).await;
    subscribe(&mut socket, &["users"]).await;
    // The relay subscribes asynchronously at start-up; give it a moment on slow machines.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = app_a
        .post_anon(
            "users/create",
            json!({"username": "vera", "password": PASSWORD, "role": "viewer"}),
            Some(&owner),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let msg = next_json(&mut socket).await;
    assert_eq!(msg["envelope"]["event"]["type"], "user_changed", "{msg}");
}
